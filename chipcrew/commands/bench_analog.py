"""``chipcrew bench analog``: LLANA vs GP-EI vs TuRBO vs Sobol/random on the real post-layout loop (thin layer
over ``eval.bench_analog``)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ("command", "CircuitName", "ObjectiveName", "MethodName", "LLMName")


class CircuitName(str, Enum):
    ota_xt_magical = "OTA_XT_MAGICAL"
    ota_5t = "OTA_5T"


class ObjectiveName(str, Enum):
    cmrr = "cmrr"
    offset = "offset"
    both = "both"


class MethodName(str, Enum):
    gp_ei = "gp_ei"
    turbo = "turbo"
    sobol = "sobol"
    random = "random"


class LLMName(str, Enum):
    scripted = "scripted"
    embedded = "embedded"
    openai = "openai"
    none = "none"


def command(
    out: Annotated[Optional[Path], typer.Option(help="Folder for bench_analog.json, regret.png and every simulation.")] = None,
    quick: Annotated[bool, typer.Option(help="Small configuration (a few minutes on a CPU), same code path.")] = False,
    circuit: Annotated[Optional[CircuitName], typer.Option(help="Circuit (default OTA_XT_MAGICAL).")] = None,
    objective: Annotated[Optional[ObjectiveName], typer.Option(help="LLANA score to minimise (default cmrr).")] = None,
    method: Annotated[Optional[list[MethodName]], typer.Option(help="Baseline optimisers; repeatable (default all four).")] = None,
    llm: Annotated[Optional[list[LLMName]], typer.Option(
        help="LLMs behind LLANA and LLM-as-constraint; repeatable. scripted: deterministic stand-in; embedded: "
             "SmolLM2-135M; openai: the configured endpoint (vLLM); none: GP fallback.")] = None,
    seeds: Annotated[Optional[int], typer.Option(min=0, help="Seeds per baseline method (full: 5; 0: LLANA runs only).")] = None,
    llana_seeds: Annotated[Optional[int], typer.Option(min=1, help="Seeds per LLANA run (full: 5).")] = None,
    budget: Annotated[Optional[int], typer.Option(min=2, help="Evaluations per run, initial design included (full: 25).")] = None,
    n_init: Annotated[Optional[int], typer.Option(min=1, help="Shared Sobol initial points (5, as LLANA).")] = None,
    landscape_points: Annotated[Optional[int], typer.Option(min=1, help="Random knob settings for the landscape table.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result JSON instead of the tables.")] = False,
) -> None:
    """Optimise the net weights of the OTA layout with every method on the same black box and print the tables."""
    from eval.bench_analog import run_bench, to_markdown
    from tools.common import ChipCrewError, run_dir

    folder = out or run_dir(None, "bench_analog")
    progress = None if as_json else (lambda msg, f: typer.echo(f"[{f:4.0%}] {msg}", err=True))
    try:
        result = run_bench(
            folder, quick=quick, progress=progress,
            circuit=circuit.value if circuit else None,
            objective=objective.value if objective else None,
            methods=[m.value for m in method] if method else None,
            llms=[m.value for m in llm] if llm else None,
            seeds=seeds, llana_seeds=llana_seeds, budget=budget, n_init=n_init, landscape_points=landscape_points,
        )
    except (ChipCrewError, ValueError) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(code=2) from err
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    typer.echo(to_markdown(result))
    typer.echo(f"wrote {folder / 'bench_analog.json'}")
