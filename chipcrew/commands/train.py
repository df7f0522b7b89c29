"""``chipcrew train``: train the learned tools; ``chipcrew train camo`` trains the CAMO OPC policy for one layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from chipcrew.commands import terminal
from tools.opc.configs import CamoLayer

__all__ = ("app",)

app = typer.Typer(
    help="Train the learned tools (policies shipped as small checkpoints).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def _group() -> None:
    """Train the learned tools (policies shipped as small checkpoints)."""  # a group even with one command


@app.command("camo")
def camo(
    layer: Annotated[CamoLayer, typer.Option("--layer", help="Which layer's training split: via (contacts) or metal.")],
    seed: Annotated[int, typer.Option("--seed", help="Seeds the clip subset, the network and the sampling.")] = 0,
    steps: Annotated[int, typer.Option("--steps", min=1, help="PPO environment steps (after the warm start).")] = 320,
    train_clips: Annotated[int, typer.Option("--clips", min=1, help="Training clips drawn from the split.")] = 32,
    no_gnn: Annotated[bool, typer.Option("--no-gnn", help="Ablation: independent segments (no graph, no decoder).")] = False,
    no_modulation: Annotated[bool, typer.Option("--no-modulation", help="Ablation: no OPC-inspired modulation.")] = False,
    scales: Annotated[str, typer.Option("--scales", help="Training-data augmentation: each drawn clip also at these sizes "
                                        "(comma-separated factors, e.g. 1,0.85,0.75; 1 = as drawn).")] = "1",
    out: Annotated[Path, typer.Option("--out", help="Run folder: checkpoint, resumable state, curve PNG, summary.")] = Path(
        "runs/camo"
    ),
    resume: Annotated[bool, typer.Option("--resume/--restart", help="Continue from the state saved in --out.")] = True,
) -> None:
    """Warm-start the CAMO policy from EPE-feedback OPC, fine-tune it with PPO, write camo_<layer>.pt."""
    import torch

    from tools.opc.camo_train import TrainConfig, train_camo

    torch.set_num_threads(1)  # the environment's small matmuls gain nothing from threads; the CPU is shared

    config = TrainConfig(layer=layer, seed=seed, steps=steps, train_clips=train_clips, gnn=not no_gnn,
                         modulation=not no_modulation, scales=_factors(scales))
    with terminal.run_folder(out), terminal.progress_bar(log=True) as progress:
        result = train_camo(config, out, progress=progress, resume=resume)
    typer.echo(json.dumps(result, indent=2))


def _factors(text: str) -> tuple[float, ...]:
    """``"1,0.85"`` -> ``(1.0, 0.85)``; a clear error naming ``--scales`` otherwise."""
    from tools.common import InputError

    try:
        return tuple(float(t) for t in text.split(","))
    except ValueError:
        raise InputError("--scales", text, "comma-separated factors 0.5..2, e.g. 1,0.85,0.75") from None
