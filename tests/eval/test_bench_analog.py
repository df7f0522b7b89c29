"""``chipcrew bench analog`` end to end on the small OTA: per-call LLM records, the layout-set studies, the
symmetric schematic's CMRR as ideal (slow: real placement and ngspice runs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eval.bench_analog import _schematic_cmrr, run_bench, to_markdown


def test_a_symmetric_schematic_cmrr_is_ideal_not_a_number() -> None:
    text = _schematic_cmrr({"cmrr_db": 277.6, "cmrr_ideal": True})
    assert text.startswith("ideal") and "-200 dB" in text and "337" not in text
    assert _schematic_cmrr({"cmrr_db": 91.4, "cmrr_ideal": False}) == "91.4 dB"


@pytest.mark.slow
def test_quick_bench_records_llm_calls_and_runs_the_studies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("ngspice") is None:
        pytest.skip("ngspice is not installed (apt-get install ngspice)")
    monkeypatch.setenv("CHIPCREW_CACHE_DIR", str(tmp_path / "cache"))
    r = run_bench(tmp_path / "out", quick=True, circuit="OTA_5T", seeds=1, methods=["random"], budget=6, n_init=5,
                  landscape_points=1, llms=["scripted"], llana_seeds=1, study_layouts=40, study_reps=1, study_test=5,
                  pool_seeds=2, pool_budget=7, study_circuits=["OTA_5T"])
    llana = next(run for run in r["runs"] if run["label"] == "llana[scripted]")
    assert len(llana["llm_calls"]) == llana["llm"]["calls"] == 10 + 10 * 10  # LLANA's counts: one step
    assert {c["role"] for c in llana["llm_calls"]} == {"candidate", "surrogate"}
    assert r["summary"]["llana[scripted]"]["llm"]["proposed"] >= r["summary"]["llana[scripted]"]["llm"]["usable"] > 0
    st = r["studies"]["OTA_5T"]
    assert set(st["variants"]["smoothed"]["surrogates"]["table"]) == {"gp", "random_forest", "llm[scripted]"}
    assert Path(st["plot"]).exists() and len(list((tmp_path / "cache" / "analog").glob("analog_layouts_OTA_5T_*.json"))) == 1
    assert r["config"]["bases"] == {"cmrr": 91.0, "offset": 2.1e-3}
    text = to_markdown(r)
    assert "usable (valid, in range, new)" in text and "Surrogates (smoothed)" in text and "-(CMRR - 91 dB)" in text
    assert json.loads((tmp_path / "out" / "bench_analog.json").read_text())["studies"]["OTA_5T"]["layouts"] == 40
