from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.report import check_gates, flatten, format_table, load_summary, parse_gate
from tools.common import InputError


def test_flatten_skips_confusion_and_keeps_nested_splits() -> None:
    flat = flatten({"accuracy": 0.9, "routing": {"accuracy": 0.9, "confusion": {"a": {"a": 1}}, "heldout": {"accuracy": 0.8}}})
    assert flat == {"accuracy": 0.9, "routing.accuracy": 0.9, "routing.heldout.accuracy": 0.8}


def test_diff_table_shows_the_change() -> None:
    table = format_table({"m": 0.5}, {"m": 0.75})
    assert "| m | 0.5 | 0.75 | +0.25 |" in table


def test_gates() -> None:
    assert check_gates({"routing.accuracy": 0.95}, [parse_gate("routing.accuracy=0.9")]) == []
    assert "under" in check_gates({"routing.accuracy": 0.8}, [("routing.accuracy", 0.9)])[0]
    assert "no such metric" in check_gates({"a": 1.0}, [("b", 0.1)])[0]
    with pytest.raises(InputError, match="metric=value"):
        parse_gate("routing.accuracy")


def test_load_summary_explains_a_wrong_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="chipcrew eval run"):
        load_summary(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"accuracy": 1.0}))
    assert load_summary(tmp_path) == {"accuracy": 1.0}


def test_confusion_table_rows_are_expected_agents() -> None:
    from eval.report import format_confusion

    table = format_confusion({"routing": {"confusion": {"a": {"a": 3, "none": 1}, "none": {"none": 2}}}})
    assert "| a | 3 | 1 |" in table and "| none | 0 | 2 |" in table
    assert format_confusion({"tools": {}}) == ""
