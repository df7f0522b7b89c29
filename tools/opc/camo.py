"""CAMO inference: load a trained policy for the clip's layer and run it for a few rounds on the CAMO environment.

The policy (``camo_policy``) acts greedily (the most likely move per segment, decoded in outline order) for
``rounds`` rounds, its largest move halved every ``DEFAULT_STEP_DECAY`` rounds (``CamoConfig.step_decay_every``);
every round's mask, and on metal the masks 1/4, 1/2 and 3/4 of the way from the best round's to its neighbours'
(``INTERPOLATE``), is scored exactly by the environment (J = L2 + PVB + 1000 EPE) and the best one is kept (fewest
EPE violations, then lowest J), its pieces of one edge within 2 nm merged (``legalize.merge_jogs``) as the other
edge-based methods do. The packaged checkpoints (``tools/opc/checkpoints/camo_{metal,via}.pt``) are chosen by layer:
``via`` for the via and contact suites and for clips made only of small rectangles, ``metal`` otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from tools.common import InputError, ProgressFn, report
from tools.litho.clips import load_clip
from tools.litho.simulator import LithoSim
from tools.opc.camo_env import LAYERS, CamoConfig, CamoOPCEnv, layer_segment_length
from tools.opc.camo_policy import CamoPolicy, PolicyConfig, RandomMaskedPolicy
from tools.opc.diffopc import EdgeOPCResult
from tools.opc.legalize import merge_jogs
from tools.opc.segments import fragment, moved_polygons
from tools.opc.topology import TOPO_VIA, segment_topology

__all__ = (
    "CHECKPOINT_DIR",
    "CHECKPOINT_FORMAT",
    "RANDOM",
    "DEFAULT_ROUNDS",
    "DEFAULT_STEP_DECAY",
    "INTERPOLATE",
    "SELECT_RULES",
    "packaged_checkpoint",
    "load_checkpoint",
    "save_checkpoint",
    "clip_layer",
    "optimize_camo",
    "obs_to_torch",
)

CHECKPOINT_DIR = Path(__file__).with_name("checkpoints")
CHECKPOINT_FORMAT = "chipcrew-camo-1"
RANDOM = "random"
"""Checkpoint name of the random masked policy (the ablation floor): uniform legal moves, nothing learned."""
DEFAULT_ROUNDS = 10
DEFAULT_MOVE_RANGE_NM = 8
JOG_MERGE_NM = 2
DEFAULT_STEP_DECAY = 4
"""Rounds between halvings of the largest move at inference (``mbopc``'s 8 nm step halves every 4 rounds too; the
policies are trained on the undecayed environment, imitating that decaying expert). Chosen on the training split
(30 StdContact, 24 StdMetal clips, same checkpoints): EPE 0.40 -> 0.00 and 0.21 -> 0.13 per clip."""
INTERPOLATE: dict[str, tuple[float, ...]] = {"metal": (0.25, 0.5, 0.75), "via": ()}
"""Per layer, the fractions of the way from the best round's mask to the round before and to the round after it that
are scored as candidates too (rounded to the grid; 6 more simulations on metal). On small metal features the rounds
swing between open and bridged prints (a pattern just below printing moves out at the largest step, the next round
it pulls back), and the mask that prints lies between two rounds. Chosen on training clips only (README): on the 12
StdMetal clips with the most small polygons, the same scaled x0.85 and x0.75, and 24 StdMetal clips drawn with seed
7, EPE and J no worse on any set. Off on vias: their targets are met and the 1 s per clip budget has no room."""
SELECT_RULES: tuple[str, ...] = ("epe", "cost")
"""How the kept round is chosen: ``epe`` = fewest EPE violations, then lowest J; ``cost`` = lowest J."""


def packaged_checkpoint(layer: str) -> Path:
    """The committed checkpoint of a layer."""
    if layer not in LAYERS:
        raise InputError("layer", layer, LAYERS)
    return CHECKPOINT_DIR / f"camo_{layer}.pt"


def save_checkpoint(path: Path, policy: CamoPolicy, layer: str, env: dict[str, Any], train: dict[str, Any]) -> Path:
    """Write a policy with what it needs to run: its layer, network shape and environment settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "layer": layer,
        "policy": policy.config.to_dict(),
        "env": env,
        "state_dict": {k: v.detach().cpu().clone() for k, v in policy.state_dict().items()},
        "train": train,
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never a half-written checkpoint
    return path


def load_checkpoint(path: str | Path, layer: str | None = None) -> tuple[CamoPolicy, dict[str, Any]]:
    """A policy and its checkpoint record; ``layer`` given: refuse a checkpoint trained for another layer.

    Raises:
        InputError: missing or unreadable file, not a CAMO checkpoint, or the wrong layer (field ``checkpoint``).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError("checkpoint", str(path), "an existing CAMO checkpoint (.pt) written by `chipcrew train camo`")
    try:
        record = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means "not a checkpoint"
        raise InputError("checkpoint", str(path), "a CAMO checkpoint (.pt) written by `chipcrew train camo`") from err
    if not isinstance(record, dict) or record.get("format") != CHECKPOINT_FORMAT:
        raise InputError("checkpoint", str(path), f"a CAMO checkpoint of format {CHECKPOINT_FORMAT}")
    if layer is not None and record["layer"] != layer:
        raise InputError(
            "checkpoint", str(path), f"a {layer}-layer CAMO checkpoint (this one was trained for the {record['layer']} layer)"
        )
    policy = CamoPolicy(PolicyConfig(**record["policy"]))
    policy.load_state_dict(record["state_dict"])
    policy.eval()
    return policy, record


def clip_layer(suite: str, polygons: list[np.ndarray]) -> str:
    """``via`` for the via/contact suites and for clips of small rectangles only, else ``metal``."""
    if suite in ("via", "contact"):
        return "via"
    topo = segment_topology(fragment(polygons, layer_segment_length("metal")))
    return "via" if len(topo) and bool(np.all(topo.cls == TOPO_VIA)) else "metal"


def obs_to_torch(obs: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """One observation as tensors with a batch axis of 1."""
    return {k: torch.as_tensor(v)[None] for k, v in obs.items()}


def optimize_camo(
    clip: str,
    sim: LithoSim,
    *,
    checkpoint: str | None = None,
    rounds: int = DEFAULT_ROUNDS,
    move_range_nm: int | None = None,
    gds_layer: int | None = None,
    gds_datatype: int = 0,
    seed: int = 0,
    select: str = "epe",
    step_decay_every: int = DEFAULT_STEP_DECAY,
    interpolate: tuple[float, ...] | None = None,
    progress: ProgressFn | None = None,
) -> tuple[EdgeOPCResult, str]:
    """Run the CAMO policy on one clip; return the best mask of the rounds (merged jogs) and the layer used.

    Args:
        clip: clip name or ``.glp``/GDS path.
        sim: the lithography engine.
        checkpoint: a checkpoint path; None = the packaged one for the clip's layer; ``"random"`` = the random
            masked policy (seeded by ``seed``).
        rounds: policy rounds (each moves every segment once).
        move_range_nm: must equal the checkpoint's k when given (the network has 2k+1 outputs).
        gds_layer, gds_datatype: target layer of a GDS/OASIS clip.
        select: which round is kept (``SELECT_RULES``).
        step_decay_every: rounds between halvings of the largest move (``CamoConfig``); 0 = none.
        interpolate: fractions in (0, 1) of the way from the best round's mask to its neighbours' also scored;
            None = the layer's (``INTERPOLATE``); () = the rounds only.
        progress: optional callback.

    Returns:
        The result, whose ``history`` holds the rounds (``iteration`` 0..rounds) and then the interpolated candidates
        (``iteration`` r + fraction: that far from round r's mask to round r + 1's) and whose ``best_iteration``
        indexes that list; and the layer.

    Raises:
        InputError: bad select or interpolate, bad checkpoint (missing, other layer), move range 0 or not the
            checkpoint's, no polygons.
    """
    if select not in SELECT_RULES:
        raise InputError("select", select, SELECT_RULES)
    if interpolate is not None and any(not 0.0 < f < 1.0 for f in interpolate):
        raise InputError("interpolate", list(interpolate), "fractions strictly between 0 and 1")
    if move_range_nm is not None and move_range_nm < 1:
        raise InputError("move_range_nm", move_range_nm, "an integer >= 1 (the largest move per round, nm)")
    loaded = load_clip(clip, layer=gds_layer, datatype=gds_datatype)
    if not loaded.layout.polygons:
        raise InputError("clip", clip, "a clip with at least one polygon")
    layer = clip_layer(loaded.suite, loaded.layout.polygons)
    policy: CamoPolicy | RandomMaskedPolicy
    if checkpoint == RANDOM:
        k = move_range_nm or DEFAULT_MOVE_RANGE_NM
        policy, seg_len = RandomMaskedPolicy(k, seed), layer_segment_length(layer)
    else:
        policy, record = load_checkpoint(checkpoint or packaged_checkpoint(layer), layer)
        k = int(record["env"]["move_range_nm"])
        if move_range_nm is not None and move_range_nm != k:
            raise InputError("move_range_nm", move_range_nm, f"{k} (the move range this checkpoint was trained with)")
        seg_len = int(record["env"]["segment_length_nm"])
    n_segments = len(fragment(loaded.layout.polygons, seg_len))
    env = CamoOPCEnv(
        CamoConfig(clips=(clip,), layer=layer, segment_length_nm=seg_len, move_range_nm=k, horizon=rounds,
                   step_decay_every=step_decay_every,
                   max_segments=max(n_segments, 1), gds_layer=gds_layer, gds_datatype=gds_datatype),
        sim=sim,
    )
    obs, info = env.reset(seed=0, options={"clip": 0})
    history = [{"iteration": 0, **_parts(info)}]
    key = (lambda p: (p["epe"], p["cost"])) if select == "epe" else (lambda p: (p["cost"], 0.0))
    best = (key(info), env.offsets, 0)
    masks = [env.offsets]
    for r in range(1, rounds + 1):
        obs, _, _, _, info = env.step(policy.round_moves(obs_to_torch(obs))[0].numpy())
        history.append({"iteration": r, **_parts(info)})
        masks.append(env.offsets)
        if key(info) < best[0]:
            best = (key(info), env.offsets, r)
        report(progress, f"camo round {r}/{rounds}: L2 {info['l2']:.0f} PVB {info['pvb']:.0f} EPE {info['epe']:.0f}", r / rounds)
    data = env.clip_data
    fractions = INTERPOLATE[layer] if interpolate is None else interpolate
    kept = best[2]
    for r in (kept - 1, kept):
        if not 0 <= r < rounds:
            continue
        for f in fractions:
            candidate = np.clip(np.rint(masks[r] + f * (masks[r + 1] - masks[r])), data.lower, data.upper).astype(np.int64)
            parts = env.score(candidate)
            history.append({"iteration": r + f, **_parts(parts)})
            if key(parts) < best[0]:
                best = (key(parts), candidate, len(history) - 1)
    final = merge_jogs(data.segs, best[1], data.lower, data.upper, JOG_MERGE_NM)
    result = EdgeOPCResult(
        segments=data.segs,
        offsets=final,
        mask=data.model.raster(final),
        polygons=moved_polygons(data.segs, final),
        history=history,
        best_iteration=best[2],
    )
    return result, layer


def _parts(info: dict[str, Any]) -> dict[str, float]:
    return {k: float(info[k]) for k in ("l2", "pvb", "epe", "cost")}
