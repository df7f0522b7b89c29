"""What a GNN training run is given and what it reports, as plain pydantic models (no torch).

The three GNN tools share them: ``GraphArgs`` names the graph, ``TrainSettings`` how long and where to train,
``ProfileRecord`` what one run (measured or refused) produced. Keeping them free of torch lets the tools'
argument schemas load without it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.gnn.config import GNNConfig

__all__ = ("GraphArgs", "TrainSettings", "ProfileRecord", "PROBE_STEPS")

PROBE_STEPS = 2
"""Steps inside the memory window: the second step is the first with Adam's state allocated."""


class GraphArgs(BaseModel):
    """Which graph: a built-in name or a folder of the user's files, and the size of a synthetic one."""

    model_config = ConfigDict(extra="forbid")

    graph: str = Field("digits", description="digits, karate, sbm, powerlaw, or a folder with edges + features.npy "
                                             "+ labels.npy.")
    num_nodes: int | None = Field(None, ge=100, le=2_000_000, description="Nodes of a synthetic graph (sbm/powerlaw).")
    graph_seed: int = Field(0, ge=0, description="Seeds synthetic generation and the node splits.")


class TrainSettings(BaseModel):
    """How long to train and where; the same for every configuration of one exploration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int | None = Field(None, ge=1, le=1000, description="Training epochs; default by graph size.")
    max_steps: int | None = Field(
        None, ge=PROBE_STEPS + 2, le=1_000_000,
        description="Stop after this many steps; the epoch time is then extrapolated from the timed steps.",
    )
    max_seconds: float | None = Field(
        None, gt=0, description="Stop training after this many wall seconds (the run is marked truncated and its "
        "epoch time extrapolated from the timed steps); keeps the cost of exploring slow configurations bounded.",
    )
    seed: int = Field(0, ge=0, description="Seeds sampling, initial weights and dropout.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Compute device; auto = cuda if present.")
    clock: Literal["wall", "cpu"] = Field(
        "wall",
        description="What a second is: wall time, or CPU time (process for epochs, thread for phases), which "
        "stays reproducible on a machine shared with other jobs but cannot show what overlap hides.",
    )


class ProfileRecord(BaseModel):
    """What one (real or refused) training run measured. Times are seconds per epoch; memory in MiB."""

    config: GNNConfig
    graph: str
    device: str
    launched: bool = True
    reason: str = Field("", description="Why the run was not launched, if it was not.")
    predicted: dict[str, float] = Field(default_factory=dict, description="Model predictions made before the run.")
    epoch_s: float | None = None
    sample_s: float | None = None
    move_s: float | None = None
    compute_s: float | None = None
    setup_s: float | None = None
    peak_mb: float | None = None
    val_acc: float | None = None
    test_acc: float | None = None
    hit_rate: float | None = None
    batches_per_epoch: int | None = None
    epochs: int | None = None
    steps: int | None = None
    timed: str = Field("", description="'epochs' (median time of epochs 2..) or 'steps' (extrapolated).")
    truncated: bool = Field(False, description="Training was cut by max_steps or max_seconds.")
    last_loss: float | None = Field(None, description="Training loss of the last step.")
    clock: str = Field("wall", description="'wall' or 'cpu' seconds.")
