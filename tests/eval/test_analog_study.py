"""The surrogate and pool studies on a synthetic smooth surface: a learnable function must be learned and
optimised, so the studies can tell methods apart; bad sizes are refused naming the field."""

from __future__ import annotations

import numpy as np
import pytest

from chipcrew.llm.adapters import llana_prompts
from eval.analog_study import knob_share, pool_study, surrogate_study
from eval.bench_analog import CopyBestLLM
from tools.analog.llana import LLANAProposer
from tools.analog.problem import KnobSpace
from tools.common import InputError

SPACE = KnobSpace(("A", "B", "C"), ("weight of net A", "weight of net B", "weight of net C"), (0.0,) * 3, (5.0,) * 3)


def _bowl(n: int) -> tuple[np.ndarray, np.ndarray]:
    unit = np.random.default_rng(0).uniform(size=(n, 3))
    return unit, ((unit - 0.3) ** 2).sum(axis=1)


def test_surrogates_learn_a_smooth_surface_and_the_llm_row_is_scored() -> None:
    unit, y = _bowl(60)
    llms = {"scripted": (CopyBestLLM(SPACE), llana_prompts(), {"n_samples": 1})}
    out = surrogate_study(unit, y, (5, 30), reps=1, n_test=20, llms=llms, space=SPACE, circuit_text="a bowl")
    gp = out["table"]["gp"]
    assert gp["30"]["r2"][0] > 0.9 and gp["30"]["regret"][0] < 0.1  # a GP on 30 points of a 3-D bowl
    assert out["table"]["random_forest"]["30"]["r2"][0] > 0.3
    assert set(out["table"]) == {"gp", "random_forest", "llm[scripted]"}
    assert out["llm_calls"]["scripted"]["calls"] == 2 * 20 and out["llm_calls"]["scripted"]["fallback_predictions"] == 0
    with pytest.raises(InputError, match="n_test"):
        surrogate_study(unit, y, (5, 30), reps=1, n_test=40, llms={}, space=SPACE, circuit_text="a bowl")


def test_gp_ei_beats_random_on_a_smooth_pool() -> None:
    unit, y = _bowl(80)
    llana = {"llana[scripted]": lambda seed: LLANAProposer(SPACE, "a bowl", "cmrr", CopyBestLLM(SPACE), seed, llana_prompts(),
                                                           n_candidates=2, n_samples=1)}
    out = pool_study(unit, y, ("random", "gp_ei", "llana[scripted]"), budget=12, n_init=5, seeds=2, llana=llana)
    s = out["summary"]
    assert len(s["llana[scripted]"]["curve"]) == 12 and s["llana[scripted]"]["curve"][4] == s["random"]["curve"][4]
    assert s["gp_ei"]["final"][0] < s["random"]["final"][0]
    assert len(s["gp_ei"]["curve"]) == 12 and s["gp_ei"]["curve"][4] == s["random"]["curve"][4]  # shared initial layouts
    assert out["gp_ei_minus_random"]["final_regret_gap"] > 0
    with pytest.raises(InputError, match="budget"):
        pool_study(unit, y, ("random",), budget=80, n_init=5, seeds=1)


def test_knob_share_separates_the_knobs_from_the_placer_seed() -> None:
    knobs = np.array([0.0, 2.0, 4.0, 6.0])  # variance 20/3 over settings
    values = knobs[:, None] + np.array([-1.0, 1.0])  # two placement seeds, variance 2 at fixed knobs
    # the knobs' own variance is 20/3 - 2/2; a k-seed mean adds 2/k of placer noise
    assert knob_share(values, 1) == pytest.approx((20 / 3 - 1) / (20 / 3 - 1 + 2))
    assert knob_share(values, 8) == pytest.approx((20 / 3 - 1) / (20 / 3 - 1 + 0.25))
    assert knob_share(np.array([[1.0, 3.0], [3.0, 1.0], [2.0, 2.0]]), 3) == 0.0  # seed noise only
    assert np.isnan(knob_share(knobs[:, None], 3))  # one seed cannot split the two
