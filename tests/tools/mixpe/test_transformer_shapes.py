"""Workload shapes: parameter counts against the published model sizes, GEMM list, name aliases."""

from __future__ import annotations

import pytest

from tools.mixpe.transformer_shapes import MODEL_NAMES, SHAPES, GemmShape, block_gemms, find_model, simulator_gemms

PUBLISHED_PARAMS = {"ViT-Base": 86e6, "ViT-Huge": 632e6, "OPT-6.7B": 6.7e9, "LLaMA-2-13B": 13.0e9}
"""ViT: Dosovitskiy et al. 2021, Table 1; OPT: Zhang et al. 2022, Table 1; LLaMA 2: Touvron et al. 2023."""


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_weight_gemms_hold_almost_all_published_parameters(name: str) -> None:
    """Embeddings, norms and biases are the only parameters outside the four GEMMs (a few percent)."""
    shape = SHAPES[name]
    params = shape.layers * sum(g.k * g.n for g in block_gemms(shape, tokens=1))
    assert 0.95 <= params / PUBLISHED_PARAMS[name] <= 1.0


def test_block_gemms_follow_the_transformer_block() -> None:
    gemms = block_gemms(SHAPES["LLaMA-2-13B"], tokens=7)
    assert [(g.name, g.m, g.k, g.n) for g in gemms] == [
        ("QKV", 7, 5120, 15360),
        ("O", 7, 5120, 5120),
        ("FFN1", 7, 5120, 27648),  # gate and up projections of the SwiGLU FFN
        ("FFN2", 7, 13824, 5120),
    ]


@pytest.mark.parametrize(
    "text,name",
    [
        ("llama-2-13b", "LLaMA-2-13B"),
        ("How fast is LLaMA2-13B?", "LLaMA-2-13B"),
        ("llama 2 13B chat", "LLaMA-2-13B"),
        ("Llama-2-Chat-13B", "LLaMA-2-13B"),
        ("OPT-6.7B", "OPT-6.7B"),
        ("on opt 6.7b please", "OPT-6.7B"),
        ("ViT-H/14", "ViT-Huge"),
        ("vit huge", "ViT-Huge"),
        ("ViT-B/16", "ViT-Base"),
        ("a plain ViT", "ViT-Base"),
        ("ViT-Large", None),
        ("llama-2-7b", None),
        ("opt-13b", None),
        ("no model here", None),
    ],
)
def test_find_model_normalises_common_spellings(text: str, name: str | None) -> None:
    assert find_model(text) == name


def test_simulator_workload_is_one_token_per_sample_plus_vits_patch_embedding() -> None:
    vit = simulator_gemms(SHAPES["ViT-Base"], batch=64)
    assert vit[0] == GemmShape("patch", 196 * 64, 768, 768, quantised=False)
    assert all(g.m == 64 for g in vit[1:])
    llama = {g.name: g for g in simulator_gemms(SHAPES["LLaMA-2-13B"], batch=64)}
    assert (llama["FFN1"].n, llama["FFN2"].k) == (20480, 20480)  # the simulator's lists: ungated 4d FFN
