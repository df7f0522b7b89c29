"""A tiny random LLaMA and a tiny BPE tokenizer, saved as a Hugging Face folder, for tests and demos.

Every compression tool runs on it in seconds through the same loading and saving code as SmolLM2 (the pattern of
``botorch.utils.testing``: test helpers ship with the package so that every test suite can use them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

__all__ = ("TINY_LLAMA", "make_tiny_llama")

TINY_LLAMA: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 6,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "max_position_embeddings": 512,
    "tie_word_embeddings": True,
}
"""6 blocks, d=32, 4 query heads sharing 2 key-value heads of width 8, MLP width 64."""


def _tokenizer() -> Any:
    """A 320-token byte-level BPE trained on six pydoc topics (about a second)."""
    from pydoc_data.topics import topics

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<unk>", "</s>"], show_progress=False)
    tok.train_from_iterator([topics[k] for k in sorted(topics)[:6]], trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>", pad_token="</s>")


def make_tiny_llama(path: Path, seed: int = 0, **overrides: Any) -> Path:
    """Save a random tiny LLaMA (``TINY_LLAMA`` with ``overrides``) and its tokenizer to ``path``."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _tokenizer()
    config = LlamaConfig(
        vocab_size=len(tok),
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.eos_token_id,
        bos_token_id=None,
        **{**TINY_LLAMA, **overrides},
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)
    return Path(path)
