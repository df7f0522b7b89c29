"""``chipcrew eval``: run the agent eval suites, report, compare and gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.choices import choices
from chipcrew.settings import Settings
from eval.runner import Suite, run_eval
from eval.schema import Split

app = typer.Typer(
    help="Score the agents: routing, tool calls, end-to-end tasks.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

Backend = choices(Settings, "llm_backend")
Executor = choices(run_eval, "executor")


@app.command()
def run(
    suite: Annotated[Suite, typer.Option(help="Which suite to run.")] = "all",
    out: Annotated[Path, typer.Option(help="Folder for cases.jsonl and summary.json.")] = Path("eval-run"),
    backend: Annotated[Backend, typer.Option(help="LLM backend under test.")] = "none",
    split: Annotated[Split, typer.Option(help="Dataset split; 'all' also reports dev and heldout apart.")] = "all",
    workers: Annotated[Optional[int], typer.Option(help="Worker processes (default: up to 2).")] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Trials per case, for pass^k.")] = 1,
    fail_under: Annotated[Optional[list[str]], typer.Option(help="Gate: metric=value; repeatable.")] = None,
    executor: Annotated[
        Executor, typer.Option(help="Local process pool, or Ray ($RAY_ADDRESS or a local instance).")
    ] = "local",
    judge: Annotated[bool, typer.Option("--judge", help="Grade task answers with the LLM (1-5); off by default, never a gate.")] = False,
) -> None:
    """Run a suite and write per-case results and a summary."""
    from eval.report import check_gates, flatten, format_confusion, format_table, parse_gate

    gates = [parse_gate(g) for g in fail_under or []]
    with terminal.run_folder(out), terminal.progress_bar(log=True) as progress:
        summary = run_eval(suite, out, backend, split, workers, repeats, progress, executor, judge)
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


def _gate(metrics, gates, check_gates) -> None:  # type: ignore[no-untyped-def]
    failures = check_gates(metrics, gates)
    for f in failures:
        typer.secho(f"FAIL {f}", fg=typer.colors.RED, err=True)
    if failures:
        raise typer.Exit(1)
