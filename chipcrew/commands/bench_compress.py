"""``chipcrew bench compress``: the model-compression benchmark (thin layer over ``eval.bench_compress``)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ("command", "Suite")


class Suite(str, Enum):
    blocks = "blocks"
    structured = "structured"
    tokens = "tokens"
    all = "all"


def command(
    suite: Annotated[
        Suite,
        typer.Option(
            help="blocks: FuseGPT/MI/ShortGPT; structured: MoreauPruner/Taylor; tokens: VisionZip/random/uniform."
        ),
    ] = Suite.all,
    out: Annotated[Path | None, typer.Option(help="Folder for bench_compress.json and plots.")] = None,
    quick: Annotated[bool, typer.Option(help="Small configuration (minutes on a CPU), same code path.")] = False,
    fraction: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="blocks: fraction of blocks removed.")
    ] = None,
    sparsity: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="structured: fraction of block parameters removed.")
    ] = None,
    eval_tokens: Annotated[int | None, typer.Option(min=0, help="Held-out tokens for perplexity.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Local Hugging Face folder or .gguf (default: SmolLM2-135M).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result JSON instead of the tables.")] = False,
) -> None:
    """Compress SmolLM2-135M and the digits ViT with every method and print method x setting tables."""
    from eval.bench_compress import run_bench, to_markdown
    from tools.common import ChipCrewError, run_dir

    given = (("fraction", fraction), ("sparsity", sparsity), ("eval_tokens", eval_tokens), ("model", model))
    options = {k: v for k, v in given if v is not None}
    folder = out or run_dir(None, "bench_compress")
    progress = None if as_json else (lambda msg, f: typer.echo(f"[{f:4.0%}] {msg}", err=True))
    try:
        result = run_bench(folder, quick=quick, progress=progress, suite=suite.value, **options)
    except (ChipCrewError, ValueError) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(code=2) from err
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    typer.echo(to_markdown(result))
    typer.echo(f"wrote {folder / 'bench_compress.json'}")
