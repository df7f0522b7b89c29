"""The fit tool end to end on the karate club: runs, fit, held-out predictions, a reusable model file."""

from __future__ import annotations

from pathlib import Path

from tools.gnn.config import DesignSpace, GNNConfig
from tools.gnn.fit import GNNFitArgs, run_gnn_fit
from tools.gnn.profile import GNNProfileArgs, run_gnn_profile
from tools.gnn.runs import TrainSettings

TRAIN = TrainSettings(epochs=3, device="cpu", clock="cpu")
SPACE = DesignSpace(fanout_levels=[2, 4], layers=[2], batch_sizes=[4, 8], hiddens=[8, 16],
                    cache_policies=["none", "degree"], cache_ratios=[0.5], overlap=[False])


def test_fit_holds_out_configurations_and_saves_a_model_profile_can_use(tmp_path: Path) -> None:
    ref = GNNConfig(fanouts=[4, 2], batch_size=8, hidden=16)
    r = run_gnn_fit(GNNFitArgs(graph="karate", train=TRAIN, space=SPACE, reference=ref, runs=4, holdout=2,
                               out_dir=str(tmp_path / "fit")))
    assert [x.config for x in r.fitted][0] == ref and len(r.fitted) == 4 and len(r.heldout) == 2
    assert not {h.config for h in r.heldout} & {f.config for f in r.fitted}
    assert set(r.heldout_error) >= {"time_median_rel_error", "memory_median_rel_error"}
    assert all(h.prediction["epoch_s"] > 0 and h.prediction["peak_mb"] > 0 for h in r.heldout)
    assert r.coefficients["fitted_on"] == 4
    p = run_gnn_profile(GNNProfileArgs(graph="karate", config=r.heldout[0].config, train=TRAIN,
                                       model_path=r.artifacts["model"], out_dir=str(tmp_path / "p")))
    assert p.record.predicted["epoch_s"] == r.heldout[0].prediction["epoch_s"]
