"""OPC recipes: validation names the field, the coordinates round-trip, the default recipe is plain mbopc."""

from __future__ import annotations

import numpy as np
import pytest

from tools.common import InputError
from tools.opc.recipe import SPACE, W_EPE, ClassRecipe, Recipe, cost, decode, encode, parse_recipe

SMALL_CLIP = "AND2_X4__0_0"  # a training contact clip: 104 segments, a solver run in about a second


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"gain": 1.5}, "recipe.gain"),
        ({"iterations": 0}, "recipe.iterations"),
        ({"classes": {"line_end": {"bias_nm": 40}}}, "recipe.classes.line_end.bias_nm"),
        ({"classes": {"line_end": {"epe_target_nm": -9}}}, "recipe.classes.line_end.epe_target_nm"),
        ({"step": 3}, "recipe.step"),
    ],
)
def test_out_of_range_or_unknown_values_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        parse_recipe(data)
    assert err.value.field == field


def test_unknown_topology_class_lists_the_classes() -> None:
    with pytest.raises(InputError, match="line_end, convex") as err:
        parse_recipe({"classes": {"hammerhead": {"bias_nm": 2}}})
    assert err.value.field == "recipe.classes"


def test_range_message_gives_the_documented_bounds() -> None:
    with pytest.raises(InputError, match=r"\[0\.1, 1\.0\]"):
        parse_recipe({"gain": 0.0})


def test_coordinates_round_trip_and_stay_in_range() -> None:
    recipe = Recipe(segment_length_nm=80, iterations=9, gain=0.35, max_step_nm=5.5, decay_every=3,
                    classes={"line_end": ClassRecipe(bias_nm=6, epe_target_nm=-1.25), "via": ClassRecipe(bias_nm=-4)})
    assert decode(encode(recipe)) == recipe
    assert decode(encode(Recipe())) == Recipe()
    u = np.random.default_rng(0).uniform(-0.5, 1.5, (20, len(SPACE)))
    for row in u:
        parse_recipe(decode(row).model_dump())  # every decoded point is a valid recipe


def test_cost_weighs_an_epe_violation_as_600_nm2() -> None:
    assert W_EPE == 600.0
    assert cost(1000, 2, 500) == 1000 + 1200 + 500


def test_zero_recipe_arrays_leave_mbopc_unchanged(sim) -> None:
    from tools.litho.clips import load_clip
    from tools.litho.raster import rasterize
    from tools.opc.diffopc import edge_model
    from tools.opc.mbopc import MBOPCConfig, optimize_mbopc

    clip = load_clip("metal:AND2_X4__0_0")  # its lines print as drawn, so a bias changes round 0
    target = rasterize(clip.layout)
    model = edge_model(clip.layout.polygons, 60, sim.size, inclusive=False)
    n = len(model.segs)
    plain = optimize_mbopc(model, target, sim, MBOPCConfig(iterations=3))
    zeros = optimize_mbopc(model, target, sim, MBOPCConfig(iterations=3), start_nm=np.zeros(n),
                           epe_target_nm=np.zeros(n), gain_scale=np.ones(n))
    np.testing.assert_array_equal(plain.offsets, zeros.offsets)
    assert plain.history == zeros.history
    biased = optimize_mbopc(model, target, sim, MBOPCConfig(iterations=1), start_nm=np.full(n, 3.0))
    assert biased.history[0]["l2"] != plain.history[0]["l2"]  # round 0 prints the biased mask, not the target


def test_default_recipe_is_the_plain_baseline(sim) -> None:
    from tools.litho.metrics import evaluate_mask
    from tools.opc.mbopc import MBOPCConfig, optimize_mbopc
    from tools.opc.recipe import load_problem, solve

    problem = load_problem(SMALL_CLIP, sim)
    metrics, result = solve(problem, Recipe())
    model, _ = problem.model(60)
    plain = optimize_mbopc(model, problem.target, sim, MBOPCConfig())
    np.testing.assert_array_equal(result.mask, plain.mask)
    m = evaluate_mask(plain.mask, problem.target, sim)
    assert (metrics.l2, metrics.pvb, metrics.epe) == (m.l2, m.pvb, m.epe_contest)
    assert metrics.cost == m.l2 + W_EPE * m.epe_contest + m.pvb


def test_unknown_and_empty_clips_are_refused(sim, tmp_path) -> None:
    from tools.opc.recipe import load_problem

    with pytest.raises(InputError) as err:
        load_problem("metal:NOT_A_CELL__0_0", sim)
    assert err.value.field == "clip"
    with pytest.raises(InputError, match="clip"):
        load_problem("NOT_A_CELL_X1__0_0", sim)
    empty = tmp_path / "empty.glp"
    empty.write_text("BEGIN\nEQUIV  1  1000  MICRON  +X,+Y\nCNAME Temp_Top\nLEVEL M1\n\nCELL Temp_Top PRIME\nENDMSG\n")
    with pytest.raises(InputError, match="empty|polygon"):
        load_problem(str(empty), sim)


@pytest.mark.parametrize(("field", "args"), [("clips[0]", {"clips": ["M1_test1"]}),
                                             ("clip", {"clips": ["metal:NOT_A_CELL__0_0"]}),
                                             ("clip", {"apply_to": ["M1_test99"]})])
def test_the_tool_refuses_bad_clips_before_writing_anything(opc_data: None, tmp_path, field: str, args: dict) -> None:
    from tools.opc.recipe_tool import OPCRecipeArgs, run_opc_recipe

    with pytest.raises(InputError) as err:
        run_opc_recipe(OPCRecipeArgs(out_dir=str(tmp_path / "out"), **args))
    assert err.value.field == field and not (tmp_path / "out").exists()


def test_stdmetal_clips_are_the_litho_registry_metal_suite(opc_data: None) -> None:
    from tools.litho.clips import list_clips, load_clip
    from tools.opc.splits import split_clips

    metal = split_clips("train")["metal"]
    assert len(metal) == 271 and sorted(metal) == sorted(list_clips("metal")) and metal[0].startswith("metal:")
    clip = load_clip(metal[0])
    assert clip.suite == "metal" and clip.name == metal[0] and clip.layout.polygons
