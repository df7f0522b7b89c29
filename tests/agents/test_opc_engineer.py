"""The OPC engineer's planner (request -> typed tool call), renderer, spec, and one real end-to-end call."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.base import ToolCall
from agents.opc_engineer import AGENT, plan, render
from prompts import load_prompt
from tools.common import DataNotFoundError, shared_data_dir
from tools.litho.simulate_tool import LithoSimulateArgs, run_litho_simulate
from tools.opc.clips_tool import OPCListClipsArgs, run_opc_list_clips

PHRASINGS = [
    ("optimize M1_test3 with DiffOPC for 40 iterations", "opc_optimize",
     {"clip": "M1_test3", "method": "diffopc", "iterations": 40}),
    ("run inverse lithography on clip 5", "opc_optimize", {"clip": "M1_test5", "method": "ilt"}),
    ("pixel ILT on case 7 with the OpenILT raster convention, 20 steps", "opc_optimize",
     {"clip": "M1_test7", "method": "ilt", "raster": "inclusive", "iterations": 20}),
    ("do model-based OPC on M1_test1 on the GPU", "opc_optimize", {"clip": "M1_test1", "method": "mbopc", "device": "cuda"}),
    ("correct test 9 with differentiable edge-based OPC using 40 nm segments, seed 7", "opc_optimize",
     {"clip": "M1_test9", "method": "diffopc", "segment_length_nm": 40, "seed": 7}),
    ("reduce the edge placement error of m1_test2 and save it to runs/t2", "opc_optimize",
     {"clip": "M1_test2", "out_dir": "runs/t2"}),
    ("what is the PV band of M1_test4 printed as drawn", "opc_simulate", {"clip": "M1_test4", "corner": "all"}),
    ("litho simulate case 1 at the defocus corner with exact raster", "opc_simulate",
     {"clip": "M1_test1", "corner": "min", "raster": "exact"}),
    ("how does M1_test10 print without OPC", "opc_simulate", {"clip": "M1_test10"}),
    ("score my mask out/mask.npy against M1_test6", "opc_evaluate", {"mask": "out/mask.npy", "clip": "M1_test6"}),
    ("evaluate results/M1_test1_mask.gds on case 1", "opc_evaluate",
     {"mask": "results/M1_test1_mask.gds", "clip": "M1_test1"}),
    ("list the via clips", "opc_list_clips", {"suite": "via"}),
    ("which clips are available", "opc_list_clips", {}),
    ("run OPC on aes_via1__217_754 with EPE feedback", "opc_optimize", {"clip": "aes_via1__217_754", "method": "mbopc"}),
    ("optimize the contact clip AND2_X4__0_0 with ILT", "opc_optimize", {"clip": "AND2_X4__0_0", "method": "ilt"}),
    ("run reinforcement learning OPC on M1_test4", "opc_optimize", {"clip": "M1_test4", "method": "camo"}),
    ("use the RL policy on case 2 for 6 rounds", "opc_optimize", {"clip": "M1_test2", "method": "camo", "iterations": 6}),
    ("correct the via clip AND2_X4__0_0 with CAMO", "opc_optimize", {"clip": "AND2_X4__0_0", "method": "camo"}),
    ("Optimize the clip /tmp/up/clip-1a2b.gds on layer 7 with DiffOPC for 5 iterations", "opc_optimize",
     {"clip": "/tmp/up/clip-1a2b.gds", "method": "diffopc", "iterations": 5, "layer": 7}),
    ("simulate chip.oas layer: 3 at the defocus corner", "opc_simulate", {"clip": "chip.oas", "corner": "min", "layer": 3}),
]


@pytest.fixture(scope="module")
def data() -> None:
    try:
        shared_data_dir("iccad13")
        shared_data_dir("via")
    except DataNotFoundError as err:
        pytest.skip(str(err))


@pytest.mark.parametrize("request_text,tool,args", PHRASINGS)
def test_planner_fills_only_what_the_request_says(request_text: str, tool: str, args: dict) -> None:
    call = plan(request_text)
    assert (call.tool, call.args) == (tool, args)
    AGENT.tool(call.tool).args_model.model_validate(call.args)


def test_ordinal_via_clip_resolves_to_the_sorted_via_list(data: None) -> None:
    from tools.litho.clips import list_clips

    assert plan("optimize the third via clip with DiffOPC").args == {"clip": list_clips("via")[2], "method": "diffopc"}


def test_every_example_plans_one_of_the_agents_tools() -> None:
    names = {t.name for t in AGENT.tools}
    assert all(plan(example).tool in names for example in AGENT.examples)


@pytest.mark.parametrize(
    ("request_text", "args"),
    [
        ("diffopc on all via clips", {"suite": "via"}),
        ("run the ICCAD13 opc benchmark with diffopc", {"suite": "iccad13"}),
        ("which contact clips can I use", {"suite": "contact"}),
    ],
)
def test_a_request_about_a_whole_suite_lists_its_clips(request_text: str, args: dict) -> None:
    assert plan(request_text) == ToolCall(tool="opc_list_clips", args=args)


@pytest.mark.parametrize(
    ("request_text", "tool", "args"),
    [
        ("optimize my mask with DiffOPC", "opc_optimize", {"method": "diffopc"}),
        ("run DiffOPC for 30 iterations", "opc_optimize", {"method": "diffopc", "iterations": 30}),
        ("simulate the aerial image at the defocus corner", "opc_simulate", {"corner": "min"}),
    ],
)
def test_an_action_naming_no_clip_plans_the_tool_without_one_so_the_agent_asks(request_text: str, tool: str, args: dict) -> None:
    call = plan(request_text)
    assert (call.tool, call.args) == (tool, args)
    assert "clip" not in call.args


@pytest.mark.parametrize(
    ("request_text", "clip"),
    [
        ("optimise the aes_via1 clip at 328,455 with ILT", "aes_via1__328_455"),
        ("simulate aes_via1 (467, 621) at nominal", "aes_via1__467_621"),
        ("diffopc on the contact AND2_X4 at position 1 0", "AND2_X4__1_0"),
        ("print via aes_via1 at x=558 y=741", "aes_via1__558_741"),
    ],
)
def test_a_clip_named_by_file_stem_and_position_is_resolved(data: None, request_text: str, clip: str) -> None:
    assert plan(request_text).args["clip"] == clip


def test_signs_units_devices_and_comparisons_are_kept_as_stated() -> None:
    assert plan("run DiffOPC on M1_test2 for -5 iterations").args["iterations"] == -5
    assert plan("diffopc on M1_test4 with 0.04 um segments").args["segment_length_nm"] == 40
    assert plan("run diffopc on M1_test3 on the TPU").args["device"] == "tpu"
    call = plan("diffopc vs mbopc on M1_test2, seeds 1, 2 and 3")
    assert (call.args, call.sweep) == ({"clip": "M1_test2"}, {"method": ["diffopc", "mbopc"], "seed": [1, 2, 3]})
    assert len(call.runs()) == 6


def test_one_clip_of_a_suite_is_its_first_clip(data: None) -> None:
    from tools.litho.clips import list_clips

    call = plan("simulate the aerial image of the via clip at the defocus corner")
    assert (call.tool, call.args) == ("opc_simulate", {"clip": list_clips("via")[0], "corner": "min"})


@pytest.mark.usefixtures("two_torch_threads")
def test_end_to_end_request_runs_diffopc_and_renders_the_table(data: None, tmp_path: Path) -> None:
    call = plan(f"optimize M1_test10 with DiffOPC for 3 iterations on the cpu and save it to {tmp_path}")
    assert call.args == {"clip": "M1_test10", "method": "diffopc", "iterations": 3, "device": "cpu", "out_dir": str(tmp_path)}
    result = AGENT.tool(call.tool).invoke(call.args)
    text = render(call, result)
    first = text.splitlines()[0]
    assert first.startswith("**M1_test10, DiffOPC, 3 iterations: L2 ") and "below the uncorrected 41,732" in first
    assert "| as drawn (no OPC) | 41,732 | 15,004 |" in text
    assert f"| DiffOPC | {result.metrics.l2:,} | {result.metrics.pvb:,} |" in text
    assert result.artifacts["mask_npy"] in text and result.artifacts["pvband_png"] in text
    assert np.load(result.artifacts["mask_npy"]).shape == (2048, 2048)


def test_render_simulation_lists_every_corner(data: None, tmp_path: Path) -> None:
    call = plan("simulate M1_test10 at all three corners")
    result = run_litho_simulate(LithoSimulateArgs(**call.args, out_dir=str(tmp_path), device="cpu"))
    text = render(call, result)
    assert text.startswith("**M1_test10 printed as drawn (iccad13, exact raster)**: L2 41,732 nm², PV band 15,004 nm².")
    assert all(f"| {c} |" in text for c in ("nominal", "max", "min"))


def test_render_listing_names_every_clip(data: None) -> None:
    call = plan("list the iccad13 clips")
    text = render(call, run_opc_list_clips(OPCListClipsArgs(**call.args)))
    assert text.startswith("**10 iccad13 clips:** M1_test1, M1_test2")


def test_spec_is_complete() -> None:
    assert len(AGENT.examples) >= 20 and len(set(AGENT.examples)) == len(AGENT.examples)
    assert all(k == k.lower() for k in AGENT.keywords)
    tools = {"opc_optimize", "opc_simulate", "opc_evaluate", "opc_list_clips", "opc_recipe"}
    assert {t.name for t in AGENT.tools} == tools
    assert "opc_optimize" in load_prompt(AGENT.prompt) and "opc_recipe" in load_prompt(AGENT.prompt)


def test_recipe_requests_plan_the_recipe_tool() -> None:
    call = plan("search an OPC recipe for metal:AND2_X4__0_0 and AOI21_X2__0_0 with 8 runs using PPO, apply it to M1_test3")
    assert call.tool == "opc_recipe"
    assert call.args == {"clips": ["metal:AND2_X4__0_0", "AOI21_X2__0_0"], "apply_to": ["M1_test3"], "budget": 8,
                         "method": "ppo"}
    assert plan("summarise the best OPC recipe as a rule deck").tool == "opc_recipe"


def test_recipe_tool_refuses_to_search_a_held_out_clip(data: None) -> None:
    from tools.common import InputError

    with pytest.raises(InputError, match="held out") as err:
        AGENT.tool("opc_recipe").invoke({"clips": ["M1_test2"], "budget": 2})
    assert err.value.field == "clips[0]"


@pytest.mark.usefixtures("two_torch_threads")
def test_recipe_end_to_end_with_backend_none(data: None, tmp_path: Path) -> None:
    from chipcrew.llm.none_backend import NoneClient

    call = plan(f"search an OPC recipe for AND2_X4__0_0 with 2 runs on the cpu and save it to {tmp_path}")
    args = call.args | {"apply_to": ["DFFR_X1__3_0"]}
    result = AGENT.tool(call.tool).invoke(args, llm=NoneClient())
    assert result.summary_backend == "template" and result.summary_valid_json and result.mismatches == []
    assert [s.runs for s in result.searches] == [2] and [a.clip for a in result.applied] == ["DFFR_X1__3_0"]
    text = render(call, result)
    assert text.startswith("**Recipe tree with ") and "faithfulness check: 0 mismatches" in text
    assert "| DFFR_X1__3_0 |" in text and "RULE 1:" in text
    assert (tmp_path / "recipe_rules.txt").read_text().startswith("# mbopc recipe tree")
    assert json.loads((tmp_path / "recipe_summary.json").read_text())["valid_json"] is True
