from __future__ import annotations

from pathlib import Path

import pytest

from eval.schema import load_cases, validate_datasets
from tools.common import InputError


def test_shipped_datasets_are_valid_and_do_not_leak() -> None:
    assert validate_datasets() == []


def test_routing_dataset_has_the_required_coverage() -> None:
    cases = load_cases("routing")
    per_agent: dict[str | None, int] = {}
    for c in cases:
        per_agent[c.expected_agent] = per_agent.get(c.expected_agent, 0) + 1
    assert per_agent[None] >= 30
    assert all(per_agent[a] >= 40 for a in ("hardware_architect", "opc_engineer", "eda_doc_qa", "analog_designer", "model_compressor"))
    assert {c.split for c in cases} == {"dev", "heldout"}


def test_split_filter() -> None:
    held = load_cases("routing", "heldout")
    assert held and all(c.split == "heldout" for c in held)


def test_bad_line_names_file_line_and_model(tmp_path: Path) -> None:
    bad = tmp_path / "routing.jsonl"
    bad.write_text('{"id": "x", "request": "", "expected_agent": null}\n')
    with pytest.raises(InputError, match=r"routing.jsonl:1.*RoutingCase"):
        load_cases("routing", path=bad)


def test_unknown_suite_lists_the_suites() -> None:
    with pytest.raises(InputError, match="routing, tools, tasks, conversations"):
        load_cases("speed")


def test_conversations_have_two_to_four_turns_in_both_splits(tmp_path: Path) -> None:
    cases = load_cases("conversations")
    assert len(cases) >= 20 and {c.split for c in cases} == {"dev", "heldout"}
    assert all(2 <= len(c.turns) <= 4 for c in cases)
    one_turn = tmp_path / "conversations.jsonl"
    one_turn.write_text('{"id": "x", "turns": [{"request": "hi", "agent": "opc_engineer", "tool": "opc_simulate"}]}\n')
    with pytest.raises(InputError, match="ConversationCase"):
        load_cases("conversations", path=one_turn)


def test_tool_cases_of_each_stated_argument_kind_in_both_splits() -> None:
    cases = load_cases("tools")
    for kind in ("sign", "budget", "stem", "docs", "shape", "compare"):
        splits = {c.split for c in cases if c.id.startswith(f"{kind}-")}
        assert splits == {"dev", "heldout"}, kind
    assert any(not c.valid for c in cases if c.id.startswith("sign-"))
