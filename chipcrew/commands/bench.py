"""``chipcrew bench``: list and run the tool benchmarks; each method's own benchmark is a sub-command."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="Tool benchmarks: numbers against published tables.", no_args_is_help=True)

# Per-benchmark commands with their own options (`chipcrew bench opc ...`), mounted when present.
COMMAND_MODULES = {
    "opc": "chipcrew.commands.bench_opc",
    "opc-recipe": "chipcrew.commands.bench_recipe",
    "docqa": "chipcrew.commands.bench_docqa",
    "compress": "chipcrew.commands.bench_compress",
    "gnn": "chipcrew.commands.bench_gnn",
    "analog": "chipcrew.commands.bench_analog",
}


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
    from chipcrew.cli import _progress_bar
    from eval.benchmarks import run_all as run

    bar = _progress_bar()
    report = run(out, quick, only, progress=lambda m, f: bar({"progress": m, "fraction": f}))
    typer.echo((out / "report.md").read_text())
    failed = [n for n, e in report["benchmarks"].items() if not e["ok"]]
    if failed:
        typer.secho(f"failed: {', '.join(failed)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


def mount() -> None:
    for name, module in COMMAND_MODULES.items():
        try:
            command = importlib.import_module(module).command
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        app.command(name)(command)


mount()
