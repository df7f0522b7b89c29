"""``chipcrew bench``: the one front door of every benchmark; each has a sub-command with its own options.

The sub-commands live in ``chipcrew.commands.bench_*`` and are imported only when chosen, since they import
their benchmark modules (torch, qdrant, botorch). ``eval.benchmarks`` lists the same benchmarks for
``bench all``; a test checks that each has a sub-command here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.lazy import Lazy, lazy_group

__all__ = ("app", "show", "OutOpt", "QuickOpt", "JsonOpt")

COMMANDS: dict[str, Lazy] = {
    "startup": Lazy("chipcrew.commands.bench_startup:command", "Time chipcrew's start-up per command (new processes) against its budgets."),
    "router": Lazy("chipcrew.commands.bench_basic:router", "Router accuracy, false refusals, out-of-scope recall and latency on both routing sets."),
    "mixpe": Lazy("chipcrew.commands.bench_basic:mixpe", "MixPE perf/energy model vs the authors' simulator, and the bit-exact GEMM check."),
    "litho": Lazy("chipcrew.commands.bench_litho:command", "Lithography engine: band-limited SOCS vs 24 direct FFTs on one clip."),
    "opc": Lazy("chipcrew.commands.bench_opc:command", "Optimise every selected clip with one method; report L2, PV band, EPE, shots, MRC and time per case."),
    "opc-recipe": Lazy("chipcrew.commands.bench_recipe:command", "Searched vs random vs default recipes per clip, the recipe tree on held-out clips, the summary's faithfulness."),
    "docqa": Lazy("chipcrew.commands.bench_docqa:command", "Recall@1/5/10/20, MRR, BLEU, ROUGE-L and latency on ORD-QA, with the ablation and RAG-EDA's numbers."),
    "dev-docqa": Lazy("chipcrew.commands.bench_docqa:dev_command", "The doc-QA development grid (never ORD-QA) that picks the retrieval settings."),
    "gnn": Lazy("chipcrew.commands.bench_gnn:command", "Search GNN training configurations against the default and random search; model error; memory guard."),
    "analog": Lazy("chipcrew.commands.bench_analog:command", "Optimise the net weights of the OTA layout with every method on the same black box and print the tables."),
    "web": Lazy("chipcrew.commands.bench_web:command", "Web workspace: page load -> interactive, first SSE event, 20 concurrent sessions x 5 routing-only turns."),
    "llm": Lazy("chipcrew.commands.bench_basic:llm", "Embedded SmolLM2: reply time with a full prefill vs the kept prefix cache, per system prompt."),
    "compress": Lazy("chipcrew.commands.bench_compress:command", "Compress SmolLM2-135M, the digits ViT and the pretrained ViT-S/14's tokens; print method x setting tables."),
}

app = typer.Typer(
    cls=lazy_group(COMMANDS),
    help="Tool benchmarks: numbers against published tables.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

OutOpt = Annotated[Optional[Path], typer.Option(help="Folder for the JSON and figures (default: a new run folder).")]
QuickOpt = Annotated[bool, typer.Option(help="Small configuration, same code path.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result JSON instead of the tables.")]


def show(result: dict[str, Any], to_markdown: Callable[[dict[str, Any]], str], as_json: bool, written: Path) -> None:
    """Print a benchmark's result: its JSON, or its tables and the file written."""
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    typer.echo(to_markdown(result))
    typer.echo(f"wrote {written}")


@app.command("list")
def list_benchmarks(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The registered benchmarks."""
    from eval.benchmarks import benchmarks

    items = {name: mod.DESCRIPTION for name, mod in benchmarks().items()}
    if json_out:
        typer.echo(json.dumps(items, indent=2))
        return
    for name, desc in items.items():
        typer.echo(f"{name:10s} {desc}")


@app.command("all")
def run_all(
    out: Annotated[Path, typer.Option(help="Folder for report.md, report.json and each benchmark's files.")] = Path("bench-report"),
    quick: Annotated[bool, typer.Option("--quick/--full", help="Small configurations (minutes) or the full runs.")] = True,
    only: Annotated[Optional[list[str]], typer.Option(help="Run only these benchmarks; repeatable.")] = None,
) -> None:
    """Run every registered benchmark and write one report."""
    from eval.benchmarks import run_all as run

    with terminal.run_folder(out), terminal.progress_bar(log=True) as progress:
        report = run(out, quick, only, progress=progress)
    typer.echo((out / "report.md").read_text())
    failed = [n for n, e in report["benchmarks"].items() if not e["ok"]]
    if failed:
        typer.secho(f"failed: {', '.join(failed)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
