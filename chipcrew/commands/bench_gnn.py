"""``chipcrew bench gnn``: the GNNavigator benchmark (thin layer over ``eval.bench_gnn``)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.bench import JsonOpt, OutOpt, show
from chipcrew.commands.choices import check_each, values
from eval.bench_gnn import Clock, Graph, Priority, Section

__all__ = ("command",)


def command(
    out: OutOpt = None,
    quick: Annotated[bool, typer.Option(help="Digits graph only, fewer runs (minutes on a CPU), same code path.")] = False,
    graph: Annotated[
        Optional[list[str]], typer.Option(help=f"Graphs to explore (repeatable): {', '.join(values(Graph))} (sbm: 10^5 nodes, sbm-1m: 10^6).")
    ] = None,
    runs: Annotated[Optional[int], typer.Option(min=2, max=200, help="Real training runs per search.")] = None,
    random_repeats: Annotated[Optional[int], typer.Option(min=1, max=10, help="Random searches to compare.")] = None,
    priority: Annotated[Optional[Priority], typer.Option(
        help="What the chosen configuration optimises, for every graph; default fastest (plus least_memory on "
             "digits in a full run).")] = None,
    clock: Annotated[Clock, typer.Option(help="cpu: CPU seconds (reproducible on a shared machine); wall.")] = "cpu",
    section: Annotated[
        Optional[list[str]], typer.Option(help=f"Sections to run (repeatable): {', '.join(values(Section))}; default all.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search GNN training configurations against the default and random search; model error; memory guard."""
    from eval.bench_gnn import run_bench, to_markdown
    from tools.common import run_dir

    graphs, sections = check_each("--graph", graph, Graph), check_each("--section", section, Section)
    folder = out or run_dir(None, "bench_gnn")
    with terminal.run_folder(folder), terminal.progress_bar(log=not as_json) as progress:
        result = run_bench(
            folder, quick=quick, progress=progress, graphs=graphs, runs=runs, random_repeats=random_repeats,
            priority=priority, clock=clock, sections=sections,
        )
    show(result, to_markdown, as_json, folder / "bench_gnn.json")
