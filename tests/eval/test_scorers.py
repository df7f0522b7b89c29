from __future__ import annotations

import pytest

from eval.scorers import (
    check_passes,
    conversation_scores,
    latency_stats,
    match_value,
    pass_hat_k,
    resolve_path,
    routing_scores,
    tool_call_scores,
    tool_suite_scores,
    trajectory_match,
)


def test_routing_scores_confusion_and_abstention() -> None:
    expected = ["a", "a", None, None, "b"]
    predicted = ["a", None, None, "a", "b"]
    s = routing_scores(expected, predicted)
    assert s["accuracy"] == pytest.approx(3 / 5)
    assert s["confusion"]["a"] == {"a": 1, "none": 1}
    assert s["abstention_precision"] == pytest.approx(1 / 2)  # abstained twice, right once
    assert s["abstention_recall"] == pytest.approx(1 / 2)  # two out-of-scope, one caught
    assert s["wrong_agent_rate"] == pytest.approx(1 / 5)
    assert s["false_refusal_rate"] == pytest.approx(1 / 3)  # three in scope, one refused (apart from wrong agents)
    assert s["answer_rate"] == pytest.approx(2 / 3)


def test_routing_scores_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        routing_scores(["a"], [])


@pytest.mark.parametrize(
    ("got", "acceptable", "ok"),
    [
        ("OPT-6.7B", ["opt 6.7b"], True),
        ("LLaMA-2-13B", ["llama2-13b"], True),
        ("ViT-Base", ["ViT-Huge"], False),
        (40, [40.0], True),
        (40.5, [40], False),
        (True, [1], False),
        (["INT8", "MixPE-A8"], [["mixpe-a8", "INT8"]], True),
        (["INT8"], [["MixPE-A8", "INT8"]], False),
    ],
)
def test_match_value(got: object, acceptable: list, ok: bool) -> None:
    assert match_value(got, acceptable) is ok


def test_tool_call_scores_optional_unexpected_and_tolerance() -> None:
    expected = {"model": ["OPT-6.7B"], "batch": ["", 1], "seq_len": [2048]}
    ok = tool_call_scores("mixpe_perf", expected, "mixpe_perf", {"model": "opt-6.7b", "seq_len": 2048.0}, 1e-6)
    assert ok["call_ok"] and ok["args_ok"] == {"model": True, "batch": True, "seq_len": True}
    extra = tool_call_scores("mixpe_perf", expected, "mixpe_perf", {"model": "OPT-6.7B", "seq_len": 2048, "x": 1}, 1e-6)
    assert not extra["call_ok"] and extra["unexpected_args"] == ["x"]
    missing = tool_call_scores("mixpe_perf", expected, "mixpe_perf", {"model": "OPT-6.7B"}, 1e-6)
    assert missing["args_ok"]["seq_len"] is False
    wrong_tool = tool_call_scores("mixpe_perf", {}, "mixpe_gemm", {}, 1e-6)
    assert not wrong_tool["tool_ok"] and not wrong_tool["call_ok"]


@pytest.mark.parametrize(
    ("mode", "got", "ok"),
    [
        ("strict", ["router", "hw"], True),
        ("strict", ["hw", "router"], False),
        ("unordered", ["hw", "router"], True),
        ("subset", ["router"], True),
        ("subset", ["router", "hw", "x"], False),
        ("superset", ["router", "hw", "x"], True),
        ("superset", ["router"], False),
    ],
)
def test_trajectory_match_modes(mode: str, got: list[str], ok: bool) -> None:
    assert trajectory_match(["router", "hw"], got, mode) is ok  # type: ignore[arg-type]


def test_checks_follow_paths_and_fail_on_missing() -> None:
    turn = {"result": {"metrics": {"l2": 30000}}, "tool_calls": [{"tool": "x"}], "answer": "see gpl docs"}
    assert resolve_path(turn, "tool_calls.0.tool") == "x"
    assert check_passes(turn, "result.metrics.l2", "<=", 37000)
    assert not check_passes(turn, "result.metrics.l2", ">", 37000)
    assert check_passes(turn, "answer", "contains", "GPL")
    assert not check_passes(turn, "result.metrics.pvb", "<=", 1)
    assert not check_passes({"result": None}, "result.metrics.l2", "<=", 1)


def test_pass_hat_k_matches_the_combinatorial_estimate() -> None:
    assert pass_hat_k([[True, True, True]], 2) == 1.0
    assert pass_hat_k([[True, False, True]], 2) == pytest.approx(1 / 3)  # C(2,2)/C(3,2)
    assert pass_hat_k([[True, False], [True, True]], 1) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="exceeds"):
        pass_hat_k([[True]], 2)


def test_latency_stats_nearest_rank() -> None:
    stats = latency_stats([0.001 * i for i in range(1, 101)])
    assert stats["p50_ms"] == pytest.approx(50) and stats["p95_ms"] == pytest.approx(95)


def test_tool_suite_scores_per_kind_and_refusals() -> None:
    rows = [
        {"id": "sign-01", "tool_ok": True, "args_ok": {"iterations": True}, "valid": False, "expected_valid": False, "ok": True},
        {"id": "sign-02", "tool_ok": True, "args_ok": {"iterations": False}, "valid": True, "expected_valid": False, "ok": False},
        {"id": "stem-01", "tool_ok": False, "args_ok": {"clip": True, "method": True}, "valid": True, "ok": False},
    ]
    out = tool_suite_scores(rows)
    assert out["tool_accuracy"] == pytest.approx(2 / 3) and out["arg_accuracy"] == pytest.approx(3 / 4)
    assert out["refusal_accuracy"] == 0.5 and out["validation_failure_rate"] == 0.0
    assert out["kinds"]["sign"]["call_accuracy"] == 0.5 and out["kinds"]["stem"]["n"] == 1


def test_a_conversation_is_right_only_when_every_turn_is() -> None:
    good = {"ok": True, "agent_ok": True, "tool_ok": True, "args_ok": {"clip": True}}
    bad = {"ok": False, "agent_ok": True, "tool_ok": True, "args_ok": {"clip": False}}
    out = conversation_scores([{"turns": [good, good], "ok": True}, {"turns": [good, bad], "ok": False}])
    assert out["fully_right"] == 0.5 and out["turns"] == 4
    assert out["turn_accuracy"] == 0.75 and out["arg_accuracy"] == 0.75 and out["agent_accuracy"] == 1.0
