"""The recipe tree: fit, JSON round trip, one rule per leaf, application, and no tree before a search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.common import InputError
from tools.opc.recipe import RECIPE_CLASSES, ClassRecipe, Recipe
from tools.opc.recipe_tree import MAX_DEPTH, TREE_FEATURES, fit_tree, load_tree


def _rows(cls: str, n: int, space: float) -> np.ndarray:
    rows = np.zeros((n, len(TREE_FEATURES)))
    rows[:, RECIPE_CLASSES.index(cls)] = 1.0
    rows[:, TREE_FEATURES.index("space_nm")] = space
    rows[:, TREE_FEATURES.index("width_nm")] = 70.0
    return rows


def _samples() -> list:
    """Two clips: line ends get +6 nm and a -1.5 nm target, dense runs +2 nm; everything else the default."""
    recipe = Recipe(iterations=10, gain=0.6, classes={"line_end": ClassRecipe(bias_nm=6, epe_target_nm=-1.5),
                                                      "run_dense": ClassRecipe(bias_nm=2)})
    feats = np.concatenate([_rows("line_end", 20, 400), _rows("run_dense", 40, 120), _rows("convex", 40, 300)])
    return [("metal:A", feats, recipe, True), ("metal:B", feats[::2], recipe, True)]


def test_tree_learns_the_per_class_values_and_round_trips(tmp_path: Path) -> None:
    tree = fit_tree(_samples())
    assert tree.depth <= MAX_DEPTH and tree.globals.iterations == 10 and tree.globals.gain == 0.6
    rules = tree.rules()
    assert len(rules) == sum(n.feature is None for n in tree.nodes)
    assert {(r.bias_nm, r.epe_target_nm) for r in rules} == {(6, -1.5), (2, 0.0), (0, 0.0)}
    paths = tree.save(tmp_path)
    again = load_tree(tmp_path)
    assert again == tree
    script = Path(paths["rules"]).read_text()
    assert script.count("\nRULE ") == len(rules)
    assert "-> BIAS +6 nm ; EPE_TARGET -1.5 nm" in script and "SET segment_length 60 nm ; iterations 10" in script
    bias, goal = again.segment_values(np.concatenate([_rows("line_end", 1, 400), _rows("convex", 1, 300)]))
    assert bias.tolist() == [6.0, 0.0] and goal.tolist() == [-1.5, 0.0]


def test_tree_before_any_search_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        fit_tree([])
    assert err.value.field == "searches"
    with pytest.raises(InputError) as err:
        load_tree(tmp_path)
    assert err.value.field == "tree"
    with pytest.raises(InputError) as err:
        fit_tree(_samples(), depth=5)
    assert err.value.field == "depth"


def test_tree_recipe_runs_on_an_unseen_clip(sim) -> None:
    from tools.opc.recipe import load_problem, solve
    from tools.opc.recipe_tree import solve_tree

    tree = fit_tree(_samples())
    problem = load_problem("M1_test10", sim)
    metrics, result = solve_tree(problem, tree)
    plain, _ = solve(problem, tree.globals)
    assert metrics.mrc == 0 and metrics.cost != plain.cost  # the rules moved line ends and dense runs
    assert result.mask.shape == (2048, 2048)


def test_a_leaf_only_one_clip_reaches_sets_the_default() -> None:
    """Values seen on one clip only are that clip's fit, not a rule: the leaf falls back to bias 0, target 0."""
    from tools.opc.recipe_tree import MIN_SUPPORT

    shared = Recipe(classes={"run_dense": ClassRecipe(bias_nm=2)})
    lone = Recipe(classes={"run_dense": ClassRecipe(bias_nm=2), "via": ClassRecipe(bias_nm=8, epe_target_nm=2.0)})
    dense = _rows("run_dense", 40, 120)
    samples = [("metal:A", dense, shared, True), ("metal:B", dense, shared, True),
               ("C", np.concatenate([dense, _rows("via", 40, 200)]), lone, True)]
    tree = fit_tree(samples)
    assert MIN_SUPPORT == 2
    bias, goal = tree.segment_values(np.concatenate([_rows("via", 1, 200), _rows("run_dense", 1, 120)]))
    assert bias.tolist() == [0.0, 2.0] and goal.tolist() == [0.0, 0.0]
    assert all(n.clips >= 1 for n in tree.nodes)


def test_majority_rule_takes_assist_bars_when_most_improved_clips_used_them() -> None:
    feats = _rows("run_iso", 20, 400)
    bars = [Recipe(pw_weight=0.4, sraf_width_nm=30, sraf_distance_nm=120),
            Recipe(pw_weight=0.6, sraf_width_nm=34, sraf_distance_nm=100), Recipe()]
    tree = fit_tree([(f"metal:{k}", feats, r, True) for k, r in enumerate(bars)], switch="majority")
    assert (tree.globals.sraf_width_nm, tree.globals.sraf_distance_nm, tree.globals.pw_weight) == (32, 110, 0.4)
    tree = fit_tree([(f"metal:{k}", feats, r, True) for k, r in enumerate([bars[0], Recipe(), Recipe()])],
                    switch="majority")
    assert tree.globals.sraf_width_nm == 0


def test_majority_rule_takes_serifs_when_most_improved_clips_used_them() -> None:
    feats = _rows("via", 20, 400)
    used = [Recipe(serif_nm=12), Recipe(serif_nm=16, mousebite_nm=10), Recipe()]
    tree = fit_tree([(f"metal:{k}", feats, r, True) for k, r in enumerate(used)], switch="majority")
    assert (tree.globals.serif_nm, tree.globals.mousebite_nm) == (14, 0)


def test_consistent_rule_turns_a_feature_on_only_where_it_lowered_j_on_every_clip() -> None:
    """Serifs used by two of three clips' best recipes, but one clip's runs with serifs were worse: off."""
    feats = _rows("via", 20, 400)
    used = [Recipe(serif_nm=12, sraf_width_nm=30), Recipe(serif_nm=16, sraf_width_nm=34), Recipe(sraf_width_nm=32)]
    samples = [(f"c{k}", feats, r, True) for k, r in enumerate(used)]
    gains = {"c0": {"sraf_width_nm": 5.0, "serif_nm": 3.0}, "c1": {"sraf_width_nm": 2.0, "serif_nm": 1.0},
             "c2": {"sraf_width_nm": 4.0, "serif_nm": -2.0}}
    tree = fit_tree(samples, gains=gains)
    assert (tree.globals.sraf_width_nm, tree.globals.serif_nm) == (32, 0)
    assert fit_tree(samples, gains=gains, switch="majority").globals.serif_nm == 14
    gains["c2"]["serif_nm"] = None  # no evidence on c2: the two clips that have some decide
    assert fit_tree(samples, gains=gains).globals.serif_nm == 14
    assert fit_tree(samples).globals.sraf_width_nm == 0  # no evidence at all: off


def test_feature_gains_compare_the_best_j_with_and_without_each_feature() -> None:
    from tools.opc.recipe import RunMetrics, cost
    from tools.opc.recipe_tree import feature_gains

    def run(l2: int) -> RunMetrics:
        return RunMetrics(l2=l2, pvb=0, epe=0, shots=1, mrc=0, cost=cost(l2, 0, 0), seconds=0.1)

    runs = [(Recipe(), run(1000)), (Recipe(sraf_width_nm=30), run(900)), (Recipe(serif_nm=12), run(1100)),
            (Recipe(sraf_width_nm=30, serif_nm=12), run(950))]
    gains = feature_gains(runs, run(1000))
    assert gains == {"sraf_width_nm": 10.0, "serif_nm": -5.0, "mousebite_nm": None}


def test_shrunk_leaves_keep_values_the_clips_agree_on_and_drop_those_they_do_not() -> None:
    """Line ends: +6 nm on both clips (kept); vias: +8 nm on one clip, -8 nm on the other (mean 0, shrunk to 0)."""
    rows = np.concatenate([_rows("line_end", 40, 400), _rows("via", 40, 200)])
    a = Recipe(classes={"line_end": ClassRecipe(bias_nm=6), "via": ClassRecipe(bias_nm=8)})
    b = Recipe(classes={"line_end": ClassRecipe(bias_nm=6), "via": ClassRecipe(bias_nm=-6)})
    samples = [("c0", rows, a, True), ("c1", rows, b, True)]
    probe = np.concatenate([_rows("line_end", 1, 400), _rows("via", 1, 200)])
    assert fit_tree(samples).segment_values(probe)[0].tolist() == [6.0, 1.0]
    assert fit_tree(samples, leaves="shrunk").segment_values(probe)[0].tolist() == [6.0, 0.0]
