"""The opc-recipe benchmark's held-out aggregates: raw tree, guarded tree and tree + verify (J alone)."""

from __future__ import annotations

from types import SimpleNamespace

from eval.bench_recipe import _assemble, to_markdown
from tools.opc.recipe import RunMetrics, cost


def _run(l2: int, pvb: int) -> RunMetrics:
    return RunMetrics(l2=l2, pvb=pvb, epe=0, shots=1, mrc=0, cost=cost(l2, 0, pvb), seconds=0.1)


def test_verify_keeps_the_lower_j_of_tree_and_default_and_counts_only_kept_gains() -> None:
    default = _run(1000, 1000)
    better, worse, traded = _run(900, 900), _run(1020, 1020), _run(1050, 800)  # -10 %, +2 %, -7.5 % (L2 up)
    applied = [SimpleNamespace(clip=c, default=default, tree=t, j_change_pct=round(100 * (t.cost / default.cost - 1), 2),
                               fallback=f, guarded_j_change_pct=0.0 if f else round(100 * (t.cost / default.cost - 1), 2))
               for c, t, f in (("a", better, False), ("b", worse, True), ("c", traded, True))]
    search = SimpleNamespace(default=default, best=_run(850, 850), best_any=_run(850, 850), best_near=_run(850, 850),
                             new_runs=1)
    reference = [SimpleNamespace(clip=c, best=_run(850, 850)) for c in ("a", "b", "c")]
    tool = SimpleNamespace(applied=applied, summary_backend="template", summary_valid_json=True, mismatches=[],
                           rejected_draft=[], summary=None, artifacts={})
    clips = {"train": ["t"], "test": ["a", "b", "c"], "reference": ["a", "b", "c"]}
    result = _assemble("quick", 24, clips, {"bandit": [search], "random": [search]}, reference, tool)
    agg = result["aggregate"]
    assert agg["tree"]["worst_j_change_pct"] == 2.0 and agg["tree"]["clips_worse_by_1pct"] == 1
    assert agg["verified"]["worst_j_change_pct"] == 0.0 and agg["verified"]["clips_worse_by_1pct"] == 0
    # searched gain 3 x 300; raw keeps 200 - 40 + 150, verify 200 + 150, guarded 200
    assert agg["tree"]["gain_kept_share"] == round(310 / 900, 3)
    assert agg["verified"]["gain_kept_share"] == round(350 / 900, 3)
    assert agg["guarded"]["gain_kept_share"] == round(200 / 900, 3)
    assert (agg["tree"]["fallbacks"], agg["guarded"]["fallbacks"], agg["verified"]["fallbacks"]) == (0, 2, 1)
    assert result["targets"]["verified_tree_never_worse_by_1pct"] and not result["targets"]["tree_never_worse_by_1pct"]
    result["seconds"] = 1.0
    assert "Verified: mean J change" in to_markdown(result)
    result["tree_cv"] = {"results": [{"switch": "consistent", "leaves": "mean", "folds": "family", "worst_j_change_pct": -4.65,
                                      "worst_clip": "DFFR_X1__2_0", "clips_worse_by_1pct": 0, "mean_j_change_pct": -9.17,
                                      "gain_kept_share": 0.762}],
                         "choice": ["consistent", "mean"], "fit_default": ["consistent", "mean"], "choice_is_default": True}
    report = to_markdown(result)
    assert "| consistent | mean | family | -4.65 (DFFR_X1__2_0) | 0 | -9.17 | 0.762 |" in report
    assert "Chosen: switch consistent, leaves mean (fit_tree's default: yes)" in report
