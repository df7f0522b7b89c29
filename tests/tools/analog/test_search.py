"""The optimisation loop on a stand-in black box: shared initial design, failures, every method, errors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest

from tools.analog.problem import KnobSpace, Trial
from tools.analog.search import METHODS, run_search
from tools.analog.spice import Performance
from tools.common import InputError


@dataclass
class FakeProblem:
    """A quadratic bowl over 3 knobs that 'fails to converge' when the first knob is above 4.5."""

    space: KnobSpace = KnobSpace(("A", "B", "C"), ("weight of net A", "weight of net B", "weight of net C"), (0.0,) * 3, (5.0,) * 3)
    circuit: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(description="a toy"))
    objective: str = "cmrr"
    bases: dict | None = None
    calls: int = 0

    def __call__(self, unit: np.ndarray, source: str = "") -> Trial:
        self.calls += 1
        values = self.space.to_values(np.asarray(unit))
        ok = values[0] <= 4.5
        score = float(((values - 1.5) ** 2).sum()) if ok else None
        return Trial(self.space.to_unit(values), values, score, Performance(), ok, 0.0, 0.0, source)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_shares_the_initial_design_and_spends_the_budget(method: str, scripted_llm, llana_templates) -> None:
    llm = scripted_llm(lambda n: json.dumps({"A": 1.0 + 0.01 * n, "B": 1.5, "C": 2.0}), constraint='{"ranges": {"A": [0, 3]}, "ties": []}')
    problem = FakeProblem()
    log = run_search(
        problem, method, budget=7, n_init=4, seed=2, llm=llm if method.startswith("llana") else None, prompts=llana_templates
    )
    assert len(log.trials) == 7 and problem.calls == 7
    assert [t.source for t in log.trials[:4]] == ["init"] * 4
    best = log.best_so_far()
    assert all(b is None or a is None or b <= a for a, b in zip(best, best[1:]))  # never gets worse
    if method != "llana_constraint":  # the narrowed box changes the design's scale, not its Sobol points
        reference = run_search(FakeProblem(), "sobol", budget=4, n_init=4, seed=2)
        assert [t.values.tolist() for t in log.trials[:4]] == [t.values.tolist() for t in reference.trials]


def test_llana_with_a_scripted_llm_evaluates_its_proposals(scripted_llm, llana_templates) -> None:
    llm = scripted_llm(lambda n: json.dumps({"A": round(0.5 + 0.1 * n, 2), "B": 1.5, "C": 1.5}))
    llana = {"n_candidates": 2, "n_samples": 1}
    log = run_search(FakeProblem(), "llana", budget=6, n_init=3, seed=0, llm=llm, llana=llana, prompts=llana_templates)
    assert [t.source for t in log.trials[3:]] == ["llm"] * 3 and log.notes == []
    assert log.llm.llm_candidates == 6 and log.llm.calls == 3 * (2 + 2)
    assert "-(CMRR - 80 dB) / 80 dB" in llm.prompts[0][0]  # LLANA's bases unless the problem has others
    other = scripted_llm(lambda n: json.dumps({"A": round(0.5 + 0.1 * n, 2), "B": 1.5, "C": 1.5}))
    run_search(FakeProblem(bases={"cmrr": 105.0}), "llana", budget=4, n_init=3, seed=0, llm=other, llana=llana, prompts=llana_templates)
    run_search(FakeProblem(bases={"cmrr": 105.0}), "llana_constraint", budget=3, n_init=3, seed=0, llm=other, prompts=llana_templates)
    assert all("-(CMRR - 105 dB) / 105 dB" in p for p, _ in other.prompts) and len(other.prompts) == 4 + 1


def test_llana_without_llm_says_it_ran_on_the_gp() -> None:
    log = run_search(FakeProblem(), "llana", budget=5, n_init=4, seed=0, llana={"n_candidates": 2})
    assert "no LLM configured" in log.notes[0] and log.trials[-1].source == "gp_sample"


def test_failed_evaluations_never_become_the_best() -> None:
    log = run_search(FakeProblem(), "random", budget=12, n_init=2, seed=5)
    failed = [t for t in log.trials if not t.converged]
    assert failed and all(t.score is None for t in failed)
    assert log.best().converged


def test_bad_method_and_initial_design_are_named() -> None:
    with pytest.raises(InputError, match="method: 'bogo'.*gp_ei, turbo, sobol, random, llana, llana_constraint"):
        run_search(FakeProblem(), "bogo", 5, 2, 0)
    with pytest.raises(InputError, match="n_init: 6"):
        run_search(FakeProblem(), "sobol", 5, 6, 0)
