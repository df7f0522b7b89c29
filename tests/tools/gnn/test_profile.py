"""The profile tool: predict, refuse what cannot fit (without training), else train and record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tools.gnn.config import GNNConfig
from tools.gnn.profile import GNNProfileArgs, run_gnn_profile
from tools.gnn.runs import TrainSettings

TRAIN = TrainSettings(epochs=3, device="cpu", clock="cpu")


def test_profile_trains_and_writes_the_record(tmp_path: Path) -> None:
    args = GNNProfileArgs(graph="karate", config=GNNConfig(fanouts=[3, 3], batch_size=8, hidden=16), train=TRAIN,
                          out_dir=str(tmp_path))
    r = run_gnn_profile(args)
    assert r.record.launched and r.record.epoch_s > 0 and r.record.peak_mb > 0
    assert set(r.record.predicted) == {"peak_mb"}  # no fitted model: only the memory prior
    assert r.graph["nodes"] == 34 and r.memory_budget_mb > 0
    saved = json.loads(Path(r.artifacts["record"]).read_text())
    assert saved["config"]["fanouts"] == [3, 3] and saved["launched"] is True


def test_a_configuration_predicted_not_to_fit_is_not_launched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tools.gnn.profiler as profiler

    def no_training(*_: object) -> None:
        raise AssertionError("a refused configuration was trained")

    monkeypatch.setattr(profiler, "train_and_measure", no_training)
    args = GNNProfileArgs(graph="sbm", num_nodes=20_000, config=GNNConfig(sampler="full", layers=3, hidden=1024),
                          memory_budget_mb=64, train=TRAIN, out_dir=str(tmp_path))
    r = run_gnn_profile(args)
    assert not r.record.launched and r.record.epoch_s is None
    assert r.record.predicted["peak_mb"] > 64 and "exceeds the budget of 64.0 MiB" in r.record.reason


@pytest.mark.parametrize(
    "bad,field",
    [({"graph": "karate", "num_nodes": 5}, "num_nodes"), ({"memory_budget_mb": -1}, "memory_budget_mb"),
     ({"config": {"fanouts": [5, 5, 5], "layers": 2}}, "fanouts"), ({"train": {"epochs": 0}}, "epochs"),
     ({"train": {"device": "tpu"}}, "device")],
)
def test_bad_arguments_are_rejected_by_name(bad: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        GNNProfileArgs.model_validate(bad)
