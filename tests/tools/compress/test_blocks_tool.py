"""``score_blocks`` and ``prune_blocks`` end to end on the tiny model, and their argument errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tools.common import DataNotFoundError, InputError
from tools.compress.blocks_tool import PruneBlocksArgs, ScoreBlocksArgs, run_prune_blocks, run_score_blocks

SMALL = {"seq_len": 16, "calib_samples": 4, "eval_tokens": 256, "eval_seq_len": 32, "proxy_items": 2}


def test_score_blocks_ranks_every_block(tiny_llama: Path) -> None:
    r = run_score_blocks(ScoreBlocksArgs(model=str(tiny_llama), method="shortgpt", seq_len=16, calib_samples=2))
    assert len(r.scores) == 6 and sorted(r.ranking) == list(range(6))
    assert r.scores[r.ranking[0]] == min(r.scores)


def test_fusegpt_prunes_saves_and_the_folder_reloads(tiny_llama: Path, tmp_path: Path) -> None:
    args = PruneBlocksArgs(
        model=str(tiny_llama),
        method="fusegpt",
        fraction=0.25,
        score_samples=2,
        epochs=1,
        group_size=2,
        rank=4,
        heal_samples=4,
        out_dir=str(tmp_path),
        **SMALL,
    )
    r = run_prune_blocks(args)
    assert r.blocks_before == 6 and len(r.removed) == 2  # ceil(0.25 * 6)
    assert r.after.blocks == 4 and r.after.params < r.before.params
    assert len(r.distill_loss) == 2 and r.after.perplexity > 1
    assert r.distill_tokens == 4 * 16  # calib_samples windows of seq_len tokens, one epoch, per fusion
    assert r.heal_tokens == 4 * 16 and r.heal_loss is not None  # one healing pass after the fusions
    from transformers import AutoModelForCausalLM

    reloaded = AutoModelForCausalLM.from_pretrained(r.saved_to)
    assert reloaded.config.num_hidden_layers == 4 and isinstance(r.sample_text, str)


@pytest.mark.parametrize("fraction", [1.5, -0.1, 0.0, 1.0])
def test_bad_fraction_names_the_field(fraction: float) -> None:
    with pytest.raises(ValidationError, match="fraction"):
        PruneBlocksArgs(fraction=fraction)


def test_unknown_loss_lists_the_choices() -> None:
    with pytest.raises(ValidationError, match="'kl' or 'mse'"):
        PruneBlocksArgs(loss="huber")


def test_removing_every_block_is_refused(tiny_llama: Path) -> None:
    with pytest.raises(InputError, match="fewer than the model's 6 blocks"):
        run_prune_blocks(PruneBlocksArgs(model=str(tiny_llama), blocks=6, compare_base=False, save=False, **SMALL))


def test_missing_model_and_unsupported_architecture(tiny_llama: Path, tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="not found"):
        run_score_blocks(ScoreBlocksArgs(model=str(tmp_path / "missing")))
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=320)).save_pretrained(tmp_path / "gpt2")
    AutoTokenizer.from_pretrained(tiny_llama).save_pretrained(tmp_path / "gpt2")
    with pytest.raises(InputError, match="model: 'gpt2'.*LLaMA-style decoder"):
        run_score_blocks(ScoreBlocksArgs(model=str(tmp_path / "gpt2")))


@pytest.mark.slow
def test_smollm2_fusegpt_beats_plain_removal_and_reloads(tmp_path: Path) -> None:
    """The real model: one block removed by FuseGPT and by plain MI removal, on the same held-out windows."""
    budget = {
        "seq_len": 64,
        "calib_samples": 8,
        "heal_samples": 8,
        "score_samples": 2,
        "eval_tokens": 2048,
        "proxy_items": 0,
        "latency": False,
        "blocks": 1,
        "compare_base": False,
    }
    plain = run_prune_blocks(PruneBlocksArgs(method="mi", save=False, out_dir=str(tmp_path / "mi"), **budget))
    fused = run_prune_blocks(PruneBlocksArgs(method="fusegpt", out_dir=str(tmp_path / "fuse"), **budget))
    assert fused.removed == plain.removed
    assert fused.after.perplexity < plain.after.perplexity
    assert fused.after.blocks == 29 and fused.sample_text
