from __future__ import annotations

from pathlib import Path

import pytest

from eval import schema
from eval.schema import NEAR_DUPLICATE, load_cases, router_bank, validate_datasets
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
    with pytest.raises(InputError, match="routing, routing_general, tools, tasks, conversations"):
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


def test_general_routing_set_covers_every_kind_in_both_splits() -> None:
    cases = load_cases("routing_general")
    assert len(cases) >= 250 and len({c.id for c in cases}) == len(cases)
    for split in ("dev", "heldout"):
        part = [c for c in cases if c.split == split]
        per_agent = {a: sum(c.expected_agent == a for c in part) for a in {c.expected_agent for c in cases}}
        assert per_agent[None] >= 20 and all(n >= 10 for n in per_agent.values()), (split, per_agent)


def test_general_routing_set_is_apart_from_the_router_bank() -> None:
    """No case is (nearly) one of the utterances the router is trained on: the set measures generalisation."""
    from agents import registry

    bank = [schema._words(t) for t in router_bank(registry())]
    for case in load_cases("routing_general"):
        words = schema._words(case.request)
        closest = max(schema._jaccard(words, b) for b in bank)
        assert closest < NEAR_DUPLICATE, case


def test_a_bank_utterance_copied_into_the_general_set_is_reported(tmp_path: Path, monkeypatch) -> None:
    from agents import registry

    for f in schema.DATASETS.glob("*.jsonl"):
        (tmp_path / f.name).write_text(f.read_text())
    copied = registry()["opc_engineer"].examples[0]
    with (tmp_path / "routing_general.jsonl").open("a") as sink:
        sink.write(f'{{"id": "copy", "request": "{copied.upper()}!", "expected_agent": "opc_engineer", "split": "dev"}}\n')
    monkeypatch.setattr(schema, "DATASETS", tmp_path)
    assert validate_datasets() == ["routing_general copy: request is nearly one of the router's utterances (bank)"]
