"""The optimisation tool on the real loop (5T OTA, a few evaluations): artefacts, LLANA, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tools.analog.optimize_tool import AnalogOptimizeArgs, run_analog_optimize


def test_gp_ei_on_the_real_loop_writes_history_plot_and_best_layout(tmp_path: Path, ngspice: str) -> None:
    args = AnalogOptimizeArgs(circuit="OTA_5T", objective="offset", budget=5, n_init=3, out_dir=str(tmp_path))
    r = run_analog_optimize(args)
    assert r.evaluations == 5 and r.failed == 0 and len(r.best_so_far) == 5
    assert r.best_score == min(r.best_so_far) and r.best_score <= r.initial_best
    assert r.best_score == pytest.approx(abs(r.best_performance.offset_v) / 1e-3 - 1)
    assert set(r.best_knobs) == {"TAIL", "X", "OUT", "NB"} and r.llm == {} and r.notes == []
    history = json.loads(Path(r.artifacts["history"]).read_text())
    assert [t["source"] for t in history["trials"]] == ["init"] * 3 + ["gp_ei"] * 2
    assert all(Path(r.artifacts[k]).exists() for k in ("convergence", "gds", "png", "layout"))


def test_llana_and_llm_constraint_run_end_to_end_with_a_scripted_llm(
    tmp_path: Path, ngspice: str, scripted_llm, llana_templates
) -> None:
    llm = scripted_llm(
        lambda n: json.dumps({"TAIL": round(0.2 * (n % 20), 2), "X": 4.0, "OUT": 1.0, "NB": 2.5}),
        score='{"score": -0.2}',
        constraint=json.dumps({"ranges": {"TAIL": [2, 4], "X": [0, 1]}, "ties": [["OUT", "NB"]]}),
    )
    common = dict(circuit="OTA_5T", budget=4, n_init=2, llana_candidates=2, llana_samples=1)
    r = run_analog_optimize(AnalogOptimizeArgs(method="llana", out_dir=str(tmp_path / "l"), **common), llm=llm, prompts=llana_templates)
    assert r.llm["calls"] == 2 * (2 + 2) and r.llm["llm_candidates"] >= 1 and r.notes == []
    sources = [t["source"] for t in json.loads(Path(r.artifacts["history"]).read_text())["trials"]]
    assert sources[:2] == ["init", "init"] and "llm" in sources[2:]
    c = run_analog_optimize(AnalogOptimizeArgs(method="llana_constraint", out_dir=str(tmp_path / "c"), **common), llm=llm, prompts=llana_templates)
    assert c.search_box["TAIL"] == [2.0, 4.0] and c.search_box["X"] == [0.0, 1.0] and c.ties == [["OUT", "NB"]]
    assert 2.0 <= c.best_knobs["TAIL"] <= 4.0 and c.best_knobs["OUT"] == c.best_knobs["NB"]


def test_inconsistent_arguments_are_named() -> None:
    with pytest.raises(ValidationError, match="n_init"):
        AnalogOptimizeArgs(budget=3, n_init=5)
    with pytest.raises(ValidationError, match="weight_max"):
        AnalogOptimizeArgs(weight_min=2.0, weight_max=1.0)
    with pytest.raises(ValidationError, match="method"):
        AnalogOptimizeArgs(method="annealing")
