"""The evaluation store: a placement simulated once is read back by any later black box (another process, a
smoothed one, the layout set) with the same metrics and no time spent; anything that changes the result
(placement seed, layout options, knob values) is a different key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from tools.analog.circuits import load_circuit
from tools.analog.models import gf180_library
from tools.analog.problem import LayoutOptions, Problem
from tools.analog.spice import Performance
from tools.analog.store import EvalStore, StoredEval
from tools.analog.tech import GF180


def test_a_stored_evaluation_reads_back_and_other_contexts_miss(tmp_path: Path) -> None:
    store = EvalStore(tmp_path / "evals.sqlite")
    ctx = EvalStore.context("OTA_5T", LayoutOptions(placement_seed=0))
    ev = StoredEval(Performance(cmrr_db=91.4, offset_v=-2.1e-3, cmrr_ideal=False), True, 900.0, 0.3)
    store.put(EvalStore.key(ctx, (1.0, 2.5)), ev)
    assert EvalStore(tmp_path / "evals.sqlite").get(EvalStore.key(ctx, (1.0, 2.5))) == ev  # a fresh connection
    assert store.get(EvalStore.key(ctx, (1.0, 2.51))) is None
    assert store.get(EvalStore.key(EvalStore.context("OTA_5T", LayoutOptions(placement_seed=1)), (1.0, 2.5))) is None
    assert (store.hits, store.misses, len(store)) == (0, 2, 1)


def _box(tmp_path: Path, store: EvalStore, seeds: int) -> Problem:
    return Problem.build(load_circuit("OTA_5T"), "cmrr", LayoutOptions(), GF180, gf180_library(), tmp_path / f"p{seeds}",
                         placement_seeds=seeds, store=store)


def test_problems_share_placements_through_the_store(tmp_path: Path, ngspice: str) -> None:
    store = EvalStore(tmp_path / "evals.sqlite")
    unit = np.full(4, 0.3)
    first = _box(tmp_path, store, 1)(unit)
    assert first.converged and first.seconds > 0 and len(store) == 1
    again = _box(tmp_path, store, 1)(unit)  # a new black box: empty memory cache, the placement from disk
    assert again.seconds == 0.0 and again.score == first.score and again.performance == first.performance
    smooth = _box(tmp_path, store, 2)(unit)  # seed 0 from the store, seed 1 simulated now
    assert len(store) == 2 and store.hits == 2 and smooth.seconds > 0
    assert smooth.performance.cmrr_db == np.mean([first.performance.cmrr_db, _seed1(tmp_path, store, unit)])
    other = replace(_box(tmp_path, store, 1), options=LayoutOptions(area_weight=0.2), cache={})(unit)
    assert other.seconds > 0 and len(store) == 3  # other layout options: another key


def _seed1(tmp_path: Path, store: EvalStore, unit: np.ndarray) -> float:
    box = replace(_box(tmp_path, store, 1), options=LayoutOptions(placement_seed=1))
    trial = box(unit)
    assert trial.seconds == 0.0  # simulated by the smoothed box already
    return trial.performance.cmrr_db
