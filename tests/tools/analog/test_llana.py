"""LLANA: lenient parsing of LLM replies, EI, the constraint mode, and one step with a scripted LLM."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tools.analog.llana import (
    LLANAProposer,
    Subspace,
    ask_constraints,
    expected_improvement,
    parse_configuration,
    parse_constraints,
    parse_score,
)
from tools.analog.optim import sobol_points
from tools.analog.problem import KnobSpace
from tools.common import InputError

SPACE = KnobSpace(
    ("VO1M/VO1P", "VS", "net0108"),
    ("weight of net VO1M/VO1P", "weight of net VS", "weight of net net0108"),
    (0.0, 0.0, 0.0),
    (5.0, 5.0, 0.5),
)


@pytest.mark.parametrize(
    "reply",
    [
        '{"VO1M/VO1P": 2.35, "VS": 1, "net0108": 0.25}',
        'Sure! Here it is: {"weight of net VO1M/VO1P": 2.35, "vs": 1.0, "NET0108": 0.25} Hope it helps.',
        "weight of net VO1M/VO1P: 2.35, weight of net VS: 1.00, weight of net net0108: 0.250",
        "VO1P=2.35 VS=1 net0108=0.25",
        "2.35, 1.0, 0.25",
    ],
)
def test_configurations_parse_from_json_pairs_or_bare_numbers(reply: str) -> None:
    assert parse_configuration(reply, SPACE).tolist() == [2.35, 1.0, 0.25]


@pytest.mark.parametrize("reply", ["", "I cannot help with that.", '{"VS": 1}', "1, 2"])
def test_incomplete_configurations_do_not_parse(reply: str) -> None:
    assert parse_configuration(reply, SPACE) is None


def test_scores_parse_from_json_or_the_first_number() -> None:
    assert parse_score('{"score": -0.4213}') == -0.4213
    assert parse_score("The predicted score is -0.31, roughly.") == -0.31
    assert parse_score("no idea") is None


def test_expected_improvement_matches_its_closed_form() -> None:
    ei = expected_improvement(np.array([0.0, 1.0]), np.array([1.0, 1e-9]), best=0.0)
    assert ei[0] == pytest.approx(1 / np.sqrt(2 * np.pi))  # mu = best: sigma * phi(0)
    assert ei[1] == pytest.approx(0.0, abs=1e-12)  # certain and worse: no improvement


def test_constraints_narrow_widen_and_tie() -> None:
    reply = json.dumps({"ranges": {"VO1M/VO1P": [1, 3], "VS": [2.0, 2.1], "net0108": [-1, 9]}, "ties": [["VS", "VO1M/VO1P"]]})
    sub, notes = parse_constraints(reply, SPACE)
    assert sub.group == (0, 0, 1)  # VS tied to VO1M/VO1P; net0108 alone
    # VS asked for [2.0, 2.1], widened to a tenth of [0, 5] -> [1.8, 2.3]; tied with [1, 3] -> intersection
    assert sub.low[:2] == pytest.approx((1.8, 1.8)) and sub.high[:2] == pytest.approx((2.3, 2.3))
    assert (sub.low[2], sub.high[2]) == (0.0, 0.5)  # clipped to the original range
    assert notes == []
    unit = sub.to_unit(np.array([0.5, 1.0]), SPACE)
    assert SPACE.to_values(unit).tolist() == [2.05, 2.05, 0.5]
    assert sub.from_unit(unit, SPACE) == pytest.approx([0.5, 1.0])


def test_constraint_mode_keeps_the_full_box_without_usable_advice(scripted_llm, llana_templates) -> None:
    sub, notes, stats = ask_constraints(None, SPACE, "an OTA", "cmrr")
    assert sub == Subspace.full(SPACE) and "no LLM" in notes[0] and stats.calls == 0
    llm = scripted_llm(lambda n: "", constraint="I would not narrow anything.")
    sub, notes, stats = ask_constraints(llm, SPACE, "an OTA", "cmrr", llana_templates)
    assert sub == Subspace.full(SPACE) and stats.unparsed == 1 and "no JSON" in notes[0]
    prompt, schema = llm.prompts[0]
    assert "weight of net net0108: [0.000, 0.500]" in prompt and schema["required"] == ["ranges", "ties"]


def _quadratic(values: np.ndarray) -> np.ndarray:
    return ((np.atleast_2d(values) / np.array(SPACE.high) - 0.3) ** 2).sum(axis=1)


def test_one_llana_step_uses_the_llm_candidates_and_predictions(scripted_llm, llana_templates) -> None:
    replies = ['{"VO1M/VO1P": 1.5, "VS": 1.5, "net0108": 0.15}', "garbage", '{"VO1M/VO1P": 9, "VS": 1.5, "net0108": 0.15}',
               '{"VO1M/VO1P": 4.0, "VS": 4.0, "net0108": 0.4}']
    llm = scripted_llm(lambda n: replies[(n - 1) % 4], score='{"score": 0.01}')
    z = sobol_points(3, 5, seed=0)
    y = _quadratic(SPACE.to_values(z))
    step = LLANAProposer(SPACE, "an OTA", "cmrr", llm, seed=0, prompts=llana_templates, n_candidates=4, n_samples=2)
    nxt, source = step.next(z, y)
    s = step.stats
    assert (s.llm_candidates, s.unparsed, s.out_of_range, s.fallback_candidates) == (2, 1, 1, 2)  # 9 > 5: dropped
    assert s.calls == 4 + 4 * 2 and s.llm_predictions == 4 and s.fallback_predictions == 0
    assert source == "llm" and SPACE.to_values(nxt).tolist() in ([1.5, 1.5, 0.15], [4.0, 4.0, 0.4])
    cand = [r for r in s.records if r.role == "candidate"]
    assert [(r.parsed, r.proposed, r.usable) for r in cand] == [(True, 1, 1), (False, 0, 0), (True, 1, 0), (True, 1, 1)]
    assert len(s.records) == s.calls and all(r.role == "surrogate" and r.parsed for r in s.records[4:])
    totals = s.totals()
    assert (totals["proposed"], totals["usable"]) == (3, 2) and totals["latency_max_s"] >= totals["latency_mean_s"] >= 0
    cand_prompt, schema = llm.prompts[0]
    assert "weight of net VO1M/VO1P: " in cand_prompt and "Recommend one new configuration whose score would be" in cand_prompt
    target = y.min() - 0.1 * (y.max() - y.min())
    assert f"{target:.4f}" in cand_prompt and set(schema["required"]) == set(SPACE.names)
    assert "Predict the score" in llm.prompts[4][0] and llm.prompts[4][1]["required"] == ["score"]


def test_llana_without_an_llm_or_with_a_failing_one_falls_back_to_the_gp(llana_templates) -> None:
    z = sobol_points(3, 5, seed=0)
    y = _quadratic(SPACE.to_values(z))
    step = LLANAProposer(SPACE, "an OTA", "cmrr", None, seed=0, n_candidates=2)
    _, source = step.next(z, y)
    assert source == "gp_sample" and step.stats.calls == 0 and step.stats.fallback_predictions == 2

    def broken(prompt: str, *, schema=None) -> str:
        raise TimeoutError("endpoint down")

    step = LLANAProposer(SPACE, "an OTA", "cmrr", broken, seed=0, prompts=llana_templates, n_candidates=2, n_samples=1)
    _, source = step.next(z, y)
    assert source == "gp_sample" and step.stats.errors == 4 and "endpoint down" in step.notes[0]


def test_an_llm_without_its_prompt_templates_is_refused_naming_the_field(scripted_llm) -> None:
    llm = scripted_llm(lambda n: "")
    with pytest.raises(InputError, match="prompts: None is not accepted; expected LLANAPrompts"):
        LLANAProposer(SPACE, "an OTA", "cmrr", llm, seed=0)
    with pytest.raises(InputError, match="prompts"):
        ask_constraints(llm, SPACE, "an OTA", "cmrr")
