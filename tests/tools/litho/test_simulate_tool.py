from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from tools.common import InputError
from tools.litho.simulate_tool import LithoSimulateArgs, run_litho_simulate


def test_simulate_writes_artefacts_and_times_the_call(litho_data: None, tmp_path) -> None:
    seen: list[float] = []
    result = run_litho_simulate(
        LithoSimulateArgs(clip="M1_test10", out_dir=str(tmp_path), device="cpu"), progress=lambda m, f: seen.append(f)
    )
    mask = np.load(result.artifacts["mask"])
    intensity = np.load(result.artifacts["intensity"])
    assert mask.shape == intensity.shape == (2048, 2048) and mask.dtype == intensity.dtype == np.float32
    assert result.target_px == int(mask.sum()) == 102400
    assert result.printed_px["nominal"] == int((intensity >= 0.225).sum())
    assert result.l2 == 41732 and result.pv_band is None
    assert 0 < result.seconds < 30 and (tmp_path / "print.png").is_file()
    assert seen[0] == 0.0 and seen[-1] == 1.0


def test_all_corners_report_pv_band_in_inclusive_raster(litho_data: None, tmp_path) -> None:
    args = LithoSimulateArgs(clip="case1", corner="all", raster="inclusive", out_dir=str(tmp_path))
    result = run_litho_simulate(args)
    assert (result.l2, result.pv_band, result.target_px) == (116184, 45874, 218902)
    assert set(result.printed_px) == {"nominal", "max", "min"}
    assert {"intensity_max", "intensity_min", "pvband"} <= set(result.artifacts)


def test_bad_clip_is_an_input_error(litho_data: None, tmp_path) -> None:
    with pytest.raises(InputError, match="clip: 'M1_test0'"):
        run_litho_simulate(LithoSimulateArgs(clip="M1_test0", out_dir=str(tmp_path)))


def test_bad_corner_is_rejected_by_the_model() -> None:
    with pytest.raises(ValidationError, match="corner"):
        LithoSimulateArgs(clip="M1_test1", corner="typical")  # type: ignore[arg-type]
