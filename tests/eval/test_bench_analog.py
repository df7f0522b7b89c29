"""``chipcrew bench analog`` end to end on the small OTA: every method live from the same initial design, per-call
LLM records, the layout-set studies, a second run served entirely by the evaluation store, the paired gap's
verdict, the symmetric schematic's CMRR as ideal (slow: real placement and ngspice runs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eval.bench_analog import _gap, _schematic_cmrr, run_bench, to_markdown


def test_a_symmetric_schematic_cmrr_is_ideal_not_a_number() -> None:
    text = _schematic_cmrr({"cmrr_db": 277.6, "cmrr_ideal": True})
    assert text.startswith("ideal") and "-200 dB" in text and "337" not in text
    assert _schematic_cmrr({"cmrr_db": 91.4, "cmrr_ideal": False}) == "91.4 dB"


def test_the_paired_gap_needs_a_margin_over_its_standard_error() -> None:
    runs = [{"label": m, "seed": s, "best_score": v} for m, vals in (("gp_ei", [-0.30, -0.28, -0.33]),
                                                                     ("random", [-0.20, -0.22, -0.21])) for s, v in enumerate(vals)]
    gap = _gap(runs, "gp_ei", "random")
    assert gap is not None and gap["seeds"] == 3 and gap["gap"] == pytest.approx(0.0933, abs=1e-3) and gap["beats_by_1se"]
    tied = [{**r, "best_score": {0: -0.17, 2: -0.23}.get(r["seed"], r["best_score"]) if r["label"] == "gp_ei" else r["best_score"]}
            for r in runs]  # gaps -0.03, 0.06, 0.02
    assert not _gap(tied, "gp_ei", "random")["beats_by_1se"]  # one lucky seed of three is not a win
    assert _gap(runs[:1] + runs[3:4], "gp_ei", "random") is None  # one seed: no standard error


@pytest.mark.slow
def test_quick_bench_runs_every_method_live_on_shared_evaluations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("ngspice") is None:
        pytest.skip("ngspice is not installed (apt-get install ngspice)")
    monkeypatch.setenv("CHIPCREW_CACHE_DIR", str(tmp_path / "cache"))
    kw = {"circuits": ["OTA_5T"], "seeds": 2, "budget": 6, "landscape_points": 1, "llms": ["scripted"], "study_layouts": 40,
          "study_reps": 1, "study_test": 5, "pool_seeds": 2, "pool_budget": 7}
    r = run_bench(tmp_path / "out", quick=True, workers=2, **kw)
    runs = r["runs"]
    assert [(x["label"], x["seed"]) for x in runs[:5]] == [(m, 0) for m in ("gp_ei", "turbo", "sobol", "random")] + [("llana[scripted]", 0)]
    assert all(x["scores"][:5] == runs[0]["scores"][:5] for x in runs if x["seed"] == 0)  # the shared initial design
    llana = next(x for x in runs if x["label"] == "llana[scripted]")
    assert len(llana["llm_calls"]) == llana["llm"]["calls"] == 10 + 10 * 10  # LLANA's counts: one step
    assert {c["role"] for c in llana["llm_calls"]} == {"candidate", "surrogate"}
    c = r["circuits"]["OTA_5T"]
    assert c["summary"]["llana[scripted]"]["llm"]["proposed"] >= c["summary"]["llana[scripted]"]["llm"]["usable"] > 0
    assert Path(c["plot"]).exists() and c["bases"] == {"cmrr": 91.0, "offset": 2.1e-3} and c["gp_ei_vs_random"]["seeds"] == 2
    st = r["studies"]["OTA_5T"]
    assert set(st["variants"]["smoothed"]["surrogates"]["table"]) == {"gp", "random_forest", "llm[scripted]"}
    assert set(st["variants"]["smoothed"]["pool"]["summary"]) == {"random", "gp_ei"}  # LLANA runs live instead
    assert len(list((tmp_path / "cache" / "analog").glob("analog_layouts_OTA_5T_*.json"))) == 1
    text = to_markdown(r)
    assert "SMOKE RUN" in text and "best score mean ± sd" in text and "Surrogates (smoothed)" in text
    assert c["objective"] == "offset" and "(|input offset| - 2.1 mV) / 2.1 mV" in text and "knob share" in text and "The papers' claims beside ours" in text and "ngspice wall" in text
    again = run_bench(tmp_path / "again", quick=True, workers=1, **kw)  # every placement now comes from the store
    assert again["store"]["placements_after"] == again["store"]["placements_before"] == r["store"]["placements_after"]
    assert [x["best_so_far"] for x in again["runs"]] == [x["best_so_far"] for x in runs]
    assert json.loads((tmp_path / "out" / "bench_analog.json").read_text())["studies"]["OTA_5T"]["layouts"] == 40
