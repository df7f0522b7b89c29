"""``chipcrew bench opc-recipe``: OPC recipe search vs random vs default, tree transfer, summary check (eval.bench_recipe)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from chipcrew.commands import terminal
from eval.bench_recipe import SummaryBackend

__all__ = ("command",)


def command(
    out: Annotated[Path, typer.Option("--out", help="Folder for bench_recipe.json, run logs, tree, rules, PNGs (resumable).")] = Path("runs/opc-recipe"),
    quick: Annotated[bool, typer.Option("--quick/--full", help="3 training and 3 held-out clips, 24 runs each (~7 min) or the full run (15 training, 55 held-out, 32 runs each).")] = False,
    ppo: Annotated[bool, typer.Option("--ppo/--no-ppo", help="Also search with stable-baselines3 PPO at the same budget.")] = False,
    summary: Annotated[SummaryBackend, typer.Option("--summary", help="Who phrases the summary: the template (none) or the embedded model.")] = "none",
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """Searched vs random vs default recipes per clip, the recipe tree on held-out clips, the summary's faithfulness."""
    from eval.bench_recipe import run_recipe_bench, to_markdown

    llm = None
    if summary == "embedded":
        from chipcrew.llm import make_client
        from chipcrew.llm.adapters import recipe_summary_llm
        from chipcrew.settings import Settings

        llm = recipe_summary_llm(make_client(Settings(llm_backend="embedded")), images=False)
    with terminal.run_folder(out), terminal.progress_bar(log=not as_json) as progress:
        result = run_recipe_bench(out, quick, progress, ppo=ppo, llm=llm)
    typer.echo(json.dumps(result, indent=2) if as_json else to_markdown(result))
