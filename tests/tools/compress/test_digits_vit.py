"""The digits ViT: data split, training beats chance, caching."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from tools.compress.digits_vit import DigitsViTConfig, classify, digits_split, train_digits_vit

TINY = DigitsViTConfig(image_size=16, patch_size=4, hidden=32, layers=2, heads=2, mlp=64, epochs=1, batch_size=256)


def test_split_is_disjoint_and_scaled() -> None:
    x_tr, y_tr, x_te, y_te = digits_split(16, seed=0)
    assert x_tr.shape[1:] == (1, 16, 16) and len(y_tr) + len(y_te) == 1797
    assert len(y_te) == 1797 - int(0.75 * 1797)
    assert x_tr.min() >= -1 and x_tr.max() <= 1
    assert not any(torch.equal(a, b) for a in x_te[:5] for b in x_tr)


def test_training_is_cached_and_classify_matches_the_model(tmp_path: Path) -> None:
    model, acc = train_digits_vit(TINY, tmp_path)
    assert len(list((tmp_path / "digits_vit").iterdir())) == 1
    again, acc2 = train_digits_vit(TINY, tmp_path)  # loaded, not retrained
    assert acc2 == acc
    _, _, x_te, _ = digits_split(16, 0)
    with torch.no_grad():
        out = model.vit(pixel_values=x_te[:4], output_hidden_states=True).hidden_states[-1]  # before the final norm
        torch.testing.assert_close(classify(model, out), model(pixel_values=x_te[:4]).logits)


@pytest.mark.slow
def test_training_beats_chance() -> None:
    _, acc = train_digits_vit(replace(TINY, epochs=10, batch_size=32, lr=5e-4), None)
    assert acc > 0.6  # chance is 0.1
