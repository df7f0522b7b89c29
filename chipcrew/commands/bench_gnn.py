"""``chipcrew bench gnn``: the GNNavigator benchmark (thin layer over ``eval.bench_gnn``)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ("command", "Graph", "Priority", "Clock", "Section")


class Graph(str, Enum):
    digits = "digits"
    sbm = "sbm"


class Priority(str, Enum):
    fastest = "fastest"
    least_memory = "least_memory"
    balanced = "balanced"


class Clock(str, Enum):
    cpu = "cpu"
    wall = "wall"


class Section(str, Enum):
    explore = "explore"
    scaling = "scaling"
    memory = "memory"


def command(
    out: Annotated[Optional[Path], typer.Option(help="Folder for bench_gnn.json and the Pareto plots.")] = None,
    quick: Annotated[bool, typer.Option(help="Digits graph only, fewer runs (minutes on a CPU), same code path.")] = \
        False,
    graph: Annotated[Optional[list[Graph]], typer.Option(help="Graphs to explore (repeatable): digits, sbm (10^5 "
                                                              "nodes).")] = None,
    runs: Annotated[Optional[int], typer.Option(min=2, max=200, help="Real training runs per search.")] = None,
    random_repeats: Annotated[Optional[int], typer.Option(min=1, max=10, help="Random searches to compare.")] = None,
    priority: Annotated[Optional[Priority], typer.Option(
        help="What the chosen configuration optimises, for every graph; default fastest (plus least_memory on "
             "digits in a full run).")] = None,
    clock: Annotated[Clock, typer.Option(help="cpu: CPU seconds (reproducible on a shared machine); wall.")] = \
        Clock.cpu,
    section: Annotated[Optional[list[Section]], typer.Option(help="Sections to run (repeatable); default all.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result JSON instead of the tables.")] = False,
) -> None:
    """Search GNN training configurations against the default and random search; model error; memory guard."""
    from eval.bench_gnn import run_bench, to_markdown
    from tools.common import ChipCrewError, run_dir

    folder = out or run_dir(None, "bench_gnn")
    progress = None if as_json else (lambda msg, f: typer.echo(f"[{f:4.0%}] {msg}", err=True))
    try:
        result = run_bench(
            folder, quick=quick, progress=progress, graphs=[g.value for g in graph] if graph else None, runs=runs,
            random_repeats=random_repeats, priority=priority.value if priority else None, clock=clock.value,
            sections=[s.value for s in section] if section else None,
        )
    except (ChipCrewError, ValueError) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(code=2) from err
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    typer.echo(to_markdown(result))
    typer.echo(f"wrote {folder / 'bench_gnn.json'}")
