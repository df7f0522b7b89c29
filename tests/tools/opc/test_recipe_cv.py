"""Choosing the recipe tree's fitting rules from the training-clip cross-validation."""

from __future__ import annotations

from tools.opc.recipe_cv import CVResult, choose, family


def _result(switch: str, leaves: str, folds: str, worst: float, share: float) -> CVResult:
    return CVResult(switch=switch, leaves=leaves, folds=folds, worst_j_change_pct=worst, worst_clip="x",
                    clips_worse_by_1pct=int(worst > 1), mean_j_change_pct=-1.0, gain_kept_share=share, rows=[])


def test_the_rule_with_the_best_worst_clip_over_both_schemes_wins_ties_to_the_family_share() -> None:
    results = [_result("majority", "mean", "family", 6.9, 0.5), _result("majority", "mean", "loo", -0.6, 0.7),
               _result("consistent", "mean", "family", -4.7, 0.76), _result("consistent", "mean", "loo", -3.9, 0.87),
               _result("consistent", "shrunk", "family", 0.6, 0.76), _result("consistent", "shrunk", "loo", -5.0, 0.88)]
    assert choose(results) == ("consistent", "mean")
    tied = [_result("a", "mean", "family", -1.0, 0.4), _result("b", "mean", "family", -1.0, 0.6)]
    assert choose(tied) == ("b", "mean")


def test_families_of_training_clips() -> None:
    assert family("metal:AND2_X4__0_0") == "metal" and family("AND2_X4__0_0") == "contact"
