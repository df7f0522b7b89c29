"""``chipcrew bench analog``: LLANA vs GP-EI vs TuRBO vs Sobol/random on the real post-layout loop (thin layer
over ``eval.bench_analog``)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.bench import JsonOpt, OutOpt, show
from chipcrew.commands.choices import check_each, values
from eval.bench_analog import Baseline, LLMKind
from tools.analog.circuits import CIRCUIT_NAMES
from tools.analog.problem import Objective

__all__ = ("command",)


def command(
    out: OutOpt = None,
    quick: Annotated[bool, typer.Option(help="Smoke run (3 seeds x 10 evaluations, one placement each, small layout "
                                        "sets; about 3.5 CPU-minutes from an empty cache): same code path, too few runs to "
                                        "rank methods.")] = False,
    circuit: Annotated[Optional[list[str]], typer.Option(
        help=f"Circuits of the live loop: {', '.join(CIRCUIT_NAMES)}; repeatable (default both).")] = None,
    objective: Annotated[Optional[Objective], typer.Option(help="LLANA score to minimise on every circuit (default per "
                                                           "circuit: cmrr on OTA_XT_MAGICAL, offset on OTA_5T).")] = None,
    method: Annotated[Optional[list[str]], typer.Option(
        help=f"Baseline optimisers ({', '.join(values(Baseline))}); repeatable (default all).")] = None,
    llm: Annotated[Optional[list[str]], typer.Option(
        help=f"LLMs behind LLANA ({', '.join(values(LLMKind))}); repeatable. scripted: deterministic stand-in; "
             "embedded: SmolLM2-135M (too slow for the live loop: one step measures its latency); openai: the configured "
             "endpoint (vLLM); none: GP fallback.")] = None,
    seeds: Annotated[Optional[int], typer.Option(min=1, help="Seeds per method and circuit (full: 10, quick: 3).")] = None,
    budget: Annotated[Optional[int], typer.Option(min=2, help="Evaluations per run, initial design included (full: 20, quick: 10).")] = None,
    n_init: Annotated[Optional[int], typer.Option(min=1, help="Shared Sobol initial points (5, as LLANA).")] = None,
    landscape_points: Annotated[Optional[int], typer.Option(min=1, help="Random knob settings for the landscape table.")] = None,
    layouts: Annotated[Optional[int], typer.Option(min=0, help="Cached random layouts for the surrogate and pool studies "
                                                   "(full: 160, quick: 60; 0: skip the studies).")] = None,
    pool_seeds: Annotated[Optional[int], typer.Option(min=1, help="Seeds of the pool optimisation study (full: 10, quick: 5).")] = None,
    pool_budget: Annotated[Optional[int], typer.Option(min=2, help="Evaluations per pool optimisation run (full: 30, quick: 15).")] = None,
    llana_bases: Annotated[bool, typer.Option(help="Score with LLANA's bases (80 dB, 1 mV) instead of where the OTA "
                                              "sits after layout (OTA_XT_MAGICAL 105 dB, 0.1 mV; OTA_5T 91 dB, 2.1 mV).")] = False,
    placement_seeds: Annotated[Optional[int], typer.Option(min=1, help="Placements averaged per evaluation in the "
                                                          "live loop (full: 3 on OTA_XT_MAGICAL, 8 on OTA_5T, the smoothed "
                                                          "black box; quick: 1, the raw one).")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes for the live runs (default 2); they share the "
                                                   "evaluation store in the user cache folder.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Optimise the net weights of the OTA layout with every method on the same black box and print the tables."""
    from eval.bench_analog import run_bench, to_markdown
    from tools.analog.circuits import load_circuit
    from tools.common import run_dir

    methods, llms = check_each("--method", method, Baseline), check_each("--llm", llm, LLMKind)
    circuits = [load_circuit(name).name for name in circuit] if circuit else None  # an unknown name lists the known ones
    folder = out or run_dir(None, "bench_analog")
    with terminal.run_folder(folder), terminal.progress_bar(log=not as_json) as progress:
        result = run_bench(
            folder, quick=quick, progress=progress, circuits=circuits, objective=objective, methods=methods, llms=llms,
            seeds=seeds, budget=budget, workers=workers, n_init=n_init, landscape_points=landscape_points,
            bases={} if llana_bases else None, placement_seeds=placement_seeds, study_layouts=layouts, pool_seeds=pool_seeds, pool_budget=pool_budget,
        )
    show(result, to_markdown, as_json, folder / "bench_analog.json")
