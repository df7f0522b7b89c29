"""VisionZip inside transformers' CLIP, SigLIP and ViT towers (small random configs), and its parts by hand."""

from __future__ import annotations

import pytest
import torch

from tools.common import InputError
from tools.compress.visionzip import (
    _contextual_tokens,
    baseline_keep,
    dominant_scores,
    forward_with_selection,
    tower_flops,
    vision_tower,
    visionzip_merge,
)

SMALL = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "image_size": 32,
    "patch_size": 4,
}  # 8 x 8 = 64 patches


def _clip():
    from transformers import CLIPVisionConfig, CLIPVisionModel

    torch.manual_seed(0)
    return CLIPVisionModel(CLIPVisionConfig(**SMALL, num_channels=3)).eval()


def _siglip():
    from transformers import SiglipVisionConfig, SiglipVisionModel

    torch.manual_seed(0)
    return SiglipVisionModel(SiglipVisionConfig(**SMALL, num_channels=3)).eval()


def _vit():
    from transformers import ViTConfig, ViTModel

    torch.manual_seed(0)
    return ViTModel(ViTConfig(**SMALL, num_channels=3), add_pooling_layer=False).eval()


PIXELS = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("make,has_cls", [(_clip, True), (_siglip, False), (_vit, True)])
def test_no_reduction_reproduces_the_towers_own_forward(make, has_cls: bool) -> None:
    model = make()
    tower = vision_tower(model)
    assert tower.has_cls is has_cls
    ours = forward_with_selection(tower, PIXELS, 1, "none", 0, 0)
    with torch.no_grad():
        theirs = model(pixel_values=PIXELS, output_hidden_states=True).hidden_states[-1]
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", [_clip, _siglip, _vit])
def test_dominant_tokens_are_the_most_attended_at_the_chosen_layer(make) -> None:
    model = make()
    tower = vision_tower(model)
    with torch.no_grad():
        out = model(pixel_values=PIXELS, output_hidden_states=True, output_attentions=True)
    layer, dominant = 1, 9
    hidden, attn = out.hidden_states[layer + 1], out.attentions[layer]  # block `layer`'s output and attention
    reduced = forward_with_selection(tower, PIXELS, layer, "visionzip", dominant, 0)
    offset = int(tower.has_cls)
    top = dominant_scores(attn, tower.has_cls).topk(dominant, -1).indices.sort(-1).values
    expected_tokens = torch.gather(hidden[:, offset:], 1, top[..., None].expand(-1, -1, hidden.shape[-1]))
    kept = torch.cat([hidden[:, :offset], expected_tokens], 1)
    with torch.no_grad():  # the last block runs on CLS + the dominant tokens only
        torch.testing.assert_close(reduced, tower.layers[-1](kept, None), rtol=1e-5, atol=1e-5)
    assert reduced.shape[1] == offset + dominant


def test_dominant_scores_use_cls_row_or_column_mean() -> None:
    attn = torch.rand(1, 2, 4, 4)
    torch.testing.assert_close(dominant_scores(attn, True), attn.sum(1)[:, 0, 1:])
    torch.testing.assert_close(dominant_scores(attn, False), attn.sum(1).mean(1))


def test_contextual_tokens_add_the_mean_of_their_assigned_tokens() -> None:
    # 5 remaining tokens, 2 targets at positions 0 and 2 (step 5 // 2 = 2); keys make 1 -> 0, 3 -> 2, 4 -> 2
    rest = torch.arange(5, dtype=torch.float32)[None, :, None].repeat(1, 1, 2)  # token i = (i, i)
    keys = torch.tensor([[[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.2, 0.8]]])
    keys = keys / keys.norm(dim=-1, keepdim=True)
    out = _contextual_tokens(rest, keys, 2)
    torch.testing.assert_close(out[0, :, 0], torch.tensor([0.0 + 1.0, 2.0 + (3.0 + 4.0) / 2]))


def test_visionzip_budget_and_cls() -> None:
    hidden = torch.randn(2, 65, 8)
    attn = torch.softmax(torch.randn(2, 2, 65, 65), -1)
    out = visionzip_merge(hidden, attn, torch.randn(2, 65, 4), dominant=10, contextual=3, has_cls=True)
    assert out.shape == (2, 14, 8)
    torch.testing.assert_close(out[:, 0], hidden[:, 0])
    with pytest.raises(InputError, match="at most 64"):
        visionzip_merge(hidden, attn, torch.randn(2, 65, 4), dominant=60, contextual=10, has_cls=True)


def test_baselines_keep_cls_and_the_budget() -> None:
    hidden = torch.arange(11, dtype=torch.float32)[None, :, None]  # CLS + 10 patches
    uniform = baseline_keep(hidden, 4, "uniform", True)
    assert uniform[0, :, 0].tolist() == [0.0, 1.0, 4.0, 7.0, 10.0]  # patches 0, 3, 6, 9 (+1 for CLS)
    rand = baseline_keep(hidden, 4, "random", True, torch.Generator().manual_seed(0))
    assert rand.shape == (1, 5, 1) and rand[0, 0, 0] == 0.0 and len(set(rand[0, 1:, 0].tolist())) == 4


def test_tower_flops_count() -> None:
    tower = vision_tower(_vit())
    d, m = 32, 64
    assert tower_flops(tower, [65]) == 2 * (4 * 65 * d * d + 2 * 65 * 65 * d + 2 * 65 * d * m)
    assert tower_flops(tower, [65, 10]) < 2 * tower_flops(tower, [65])


def test_other_models_are_refused_with_the_supported_list() -> None:
    with pytest.raises(InputError, match="CLIPVisionModel"):
        vision_tower(torch.nn.Linear(2, 2))
