"""The opc_optimize tool end to end on a small clip: artefacts, and the files score as the result says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from tools.litho.evaluate_tool import LithoEvaluateArgs, run_litho_evaluate
from tools.opc.optimize_tool import OPCOptimizeArgs, OPCOptimizeResult, run_opc_optimize


@pytest.fixture(scope="module")
def diffopc_run(tmp_path_factory: pytest.TempPathFactory, sim) -> OPCOptimizeResult:
    out = tmp_path_factory.mktemp("opc")
    return run_opc_optimize(OPCOptimizeArgs(clip="case10", method="diffopc", iterations=4, out_dir=str(out), device="cpu"))


def test_result_names_the_run_and_improves_on_the_uncorrected_mask(diffopc_run: OPCOptimizeResult) -> None:
    r = diffopc_run
    assert (r.clip, r.suite, r.method, r.raster, r.iterations) == ("M1_test10", "iccad13", "diffopc", "exact", 4)
    assert r.baseline.l2 == 41732  # M1_test10 as drawn, exact raster (same value as `litho simulate`)
    assert r.metrics.l2 < r.baseline.l2
    assert r.metrics.mrc_violations == 0 and r.segments and r.segments > 0
    assert 0 < r.optimize_seconds <= r.seconds


def test_artefacts_exist_and_the_mask_file_is_binary_on_the_canvas(diffopc_run: OPCOptimizeResult) -> None:
    paths = {k: Path(v) for k, v in diffopc_run.artifacts.items()}
    assert set(paths) == {"gds", "mask_npy", "mask_png", "print_png", "pvband_png", "history"}
    assert all(p.is_file() for p in paths.values())
    assert paths["mask_npy"].name == "M1_test10_mask.npy"
    mask = np.load(paths["mask_npy"])
    assert mask.shape == (2048, 2048) and set(np.unique(mask)) == {0, 1}
    assert len(json.loads(paths["history"].read_text())) == 4


@pytest.mark.parametrize("kind", ["mask_npy", "gds"])
def test_written_mask_scores_as_reported(diffopc_run: OPCOptimizeResult, kind: str, tmp_path: Path) -> None:
    scored = run_litho_evaluate(
        LithoEvaluateArgs(clip="M1_test10", mask=diffopc_run.artifacts[kind], out_dir=str(tmp_path), device="cpu")
    )
    assert scored.metrics.l2 == diffopc_run.metrics.l2
    assert scored.metrics.pvb == diffopc_run.metrics.pvb
    assert scored.metrics.shots == diffopc_run.metrics.shots


def test_unknown_method_is_rejected_naming_the_choices() -> None:
    with pytest.raises(ValidationError, match="diffopc"):
        OPCOptimizeArgs(clip="M1_test1", method="sraf")


def test_unknown_clip_lists_the_valid_names(opc_data: None) -> None:
    from tools.common import InputError

    with pytest.raises(InputError, match="M1_test1..M1_test10"):
        run_opc_optimize(OPCOptimizeArgs(clip="M1_test11", iterations=1))
