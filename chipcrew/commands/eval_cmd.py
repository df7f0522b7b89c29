"""``chipcrew eval``: run the agent eval suites, report, compare and gate."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="Score the agents: routing, tool calls, end-to-end tasks.", no_args_is_help=True)


class SuiteName(str, Enum):
    routing = "routing"
    tools = "tools"
    tasks = "tasks"
    all = "all"


class SplitName(str, Enum):
    dev = "dev"
    heldout = "heldout"
    all = "all"


class ExecutorName(str, Enum):
    local = "local"
    ray = "ray"


class BackendName(str, Enum):
    embedded = "embedded"
    openai = "openai"
    none = "none"


@app.command()
def run(
    suite: Annotated[SuiteName, typer.Option(help="Which suite to run.")] = SuiteName.all,
    out: Annotated[Path, typer.Option(help="Folder for cases.jsonl and summary.json.")] = Path("eval-run"),
    backend: Annotated[BackendName, typer.Option(help="LLM backend under test.")] = BackendName.none,
    split: Annotated[SplitName, typer.Option(help="Dataset split; 'all' also reports dev and heldout apart.")] = SplitName.all,
    workers: Annotated[Optional[int], typer.Option(help="Worker processes (default: up to 2).")] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Trials per case, for pass^k.")] = 1,
    fail_under: Annotated[Optional[list[str]], typer.Option(help="Gate: metric=value; repeatable.")] = None,
    executor: Annotated[
        ExecutorName, typer.Option(help="Local process pool, or Ray ($RAY_ADDRESS or a local instance).")
    ] = ExecutorName.local,
    judge: Annotated[bool, typer.Option("--judge", help="Grade task answers with the LLM (1-5); off by default, never a gate.")] = False,
) -> None:
    """Run a suite and write per-case results and a summary."""
    from chipcrew.cli import _progress_bar
    from eval.report import check_gates, flatten, format_confusion, format_table, parse_gate
    from eval.runner import run_eval

    gates = [parse_gate(g) for g in fail_under or []]
    summary = run_eval(
        suite.value, out, backend.value, split.value, workers, repeats, _wrap(_progress_bar()), executor.value, judge
    )
    metrics = flatten(summary)
    typer.echo(format_table(metrics))
    typer.echo("\n" + format_confusion(summary))
    typer.echo(f"\nwrote {out / 'cases.jsonl'} and {out / 'summary.json'}")
    _gate(metrics, gates, check_gates)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A folder written by 'chipcrew eval run'.")],
    other: Annotated[Optional[Path], typer.Argument(help="A second run to compare with.")] = None,
    fail_under: Annotated[Optional[list[str]], typer.Option(help="Gate: metric=value; repeatable.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the flat metrics as JSON.")] = False,
) -> None:
    """Print a run's metrics; with two runs, the difference per metric."""
    from eval.report import check_gates, flatten, format_confusion, format_table, load_summary, parse_gate

    gates = [parse_gate(g) for g in fail_under or []]
    summary = load_summary(run_dir)
    a = flatten(summary)
    b = flatten(load_summary(other)) if other else None
    if json_out:
        typer.echo(json.dumps({"a": a, "b": b} if b else a, indent=2))
    else:
        typer.echo(format_table(a, b))
        typer.echo("\n" + format_confusion(summary))
    _gate(b or a, gates, check_gates)


@app.command()
def validate() -> None:
    """Check the datasets: schema, unknown agents/tools, held-out leaks into router examples."""
    from eval.schema import validate_datasets

    problems = validate_datasets()
    for p in problems:
        typer.echo(p)
    if problems:
        raise typer.Exit(1)
    typer.echo("datasets OK")


def _wrap(bar):  # type: ignore[no-untyped-def]
    return lambda msg, frac: bar({"progress": msg, "fraction": frac})


def _gate(metrics, gates, check_gates) -> None:  # type: ignore[no-untyped-def]
    failures = check_gates(metrics, gates)
    for f in failures:
        typer.secho(f"FAIL {f}", fg=typer.colors.RED, err=True)
    if failures:
        raise typer.Exit(1)
