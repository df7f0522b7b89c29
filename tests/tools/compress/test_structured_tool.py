"""``prune_structured`` end to end on the tiny model, and its argument errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tools.compress.structured import mask_overlap
from tools.compress.structured_tool import PruneStructuredArgs, read_plan, run_prune_structured

SMALL = {"seq_len": 16, "calib_samples": 2, "eval_tokens": 256, "eval_seq_len": 32, "proxy_items": 0, "latency": False}


@pytest.mark.parametrize("method", ["taylor", "moreau"])
def test_prunes_to_the_target_and_reloads(tiny_llama: Path, tmp_path: Path, method: str) -> None:
    args = PruneStructuredArgs(
        model=str(tiny_llama), method=method, sparsity=0.2, steps=2, average_last=1, out_dir=str(tmp_path), **SMALL
    )
    r = run_prune_structured(args)
    assert r.sparsity == pytest.approx(0.2, abs=0.01)
    assert r.after.params < r.before.params and r.pruned_blocks == [1, 2, 3, 4]
    assert Path(r.saved_to, "structure.json").is_file() and isinstance(r.sample_text, str)
    assert r.after.perplexity > 1


def test_the_mask_from_the_same_weights_is_the_same(tiny_llama: Path, tmp_path: Path) -> None:
    common = {"model": str(tiny_llama), "method": "taylor", "save": False, "compare_base": False, **SMALL}
    a = run_prune_structured(PruneStructuredArgs(out_dir=str(tmp_path / "a"), **common))
    b = run_prune_structured(PruneStructuredArgs(out_dir=str(tmp_path / "b"), **common))
    assert mask_overlap(read_plan(a.artifacts["plan"]), read_plan(b.artifacts["plan"])) == {
        "kv_groups": 1.0,
        "channels": 1.0,
    }


@pytest.mark.parametrize("sparsity", [1.5, -0.1])
def test_bad_sparsity_names_the_field(sparsity: float) -> None:
    with pytest.raises(ValidationError, match="sparsity"):
        PruneStructuredArgs(sparsity=sparsity)


def test_unknown_precision_lists_the_choices() -> None:
    with pytest.raises(ValidationError, match="'fp32', 'bf16' or 'fp16'"):
        PruneStructuredArgs(precision="int8")
