"""``chipcrew bench compress``: the model-compression benchmark (thin layer over ``eval.bench_compress``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.bench import JsonOpt, OutOpt, QuickOpt, show
from eval.bench_compress import Suite

__all__ = ("command",)


def command(
    suite: Annotated[
        Suite,
        typer.Option(
            help="blocks: FuseGPT/MI/SLEB/ShortGPT; structured: MoreauPruner vs Taylor robustness (3 seeds); tokens: "
            "VisionZip/random/uniform in "
            "the digits ViT; visionzip: VisionZip on the pretrained ViT-S/14 (textiles, digits)."
        ),
    ] = "all",
    out: OutOpt = None,
    quick: QuickOpt = False,
    fraction: Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help="blocks: fraction of blocks removed.")] = None,
    sparsity: Annotated[
        Optional[float], typer.Option(min=0.0, max=1.0, help="structured: fraction of block parameters removed.")
    ] = None,
    eval_tokens: Annotated[Optional[int], typer.Option(min=0, help="Held-out tokens for perplexity.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Local Hugging Face folder or .gguf (default: SmolLM2-135M).")] = None,
    set_: Annotated[
        Optional[list[str]],
        typer.Option("--set", help="Override any preset value: KEY=VALUE with a JSON value, e.g. seq_len=64; repeatable."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compress SmolLM2-135M, the digits ViT and the pretrained ViT-S/14's tokens; print method x setting tables."""
    from eval.bench_compress import parse_override, run_bench, to_markdown
    from tools.common import run_dir

    given = (("fraction", fraction), ("sparsity", sparsity), ("eval_tokens", eval_tokens), ("model", model))
    options = dict(parse_override(kv) for kv in set_ or [])
    options.update({k: v for k, v in given if v is not None})
    folder: Path = out or run_dir(None, "bench_compress")
    with terminal.run_folder(folder), terminal.progress_bar(log=not as_json) as progress:
        result = run_bench(folder, quick=quick, progress=progress, suite=suite, **options)
    show(result, to_markdown, as_json, folder / "bench_compress.json")
