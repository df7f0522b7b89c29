"""The analog designer's planner (request -> typed tool call), renderer, its hand-over of the LLM, and one real
end-to-end run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agents.analog_designer import AGENT, plan, render, run_optimize
from chipcrew.llm.base import ChatReply, Message
from prompts import load_prompt
from tools.analog.optimize_tool import AnalogOptimizeArgs
from tools.common import DataNotFoundError, shared_data_dir



def _loop_missing() -> str | None:
    """Why the real loop cannot run here: no ngspice, or no gf180 model cards in the shared data."""
    if shutil.which("ngspice") is None:
        return "ngspice is not installed (apt-get install ngspice)"
    try:
        shared_data_dir("analog")
    except DataNotFoundError as err:
        return str(err)
    return None


needs_ngspice = pytest.mark.skipif(_loop_missing() is not None, reason=_loop_missing() or "")

PHRASINGS = [
    ("optimize the layout of the OTA for CMRR", "analog_optimize", {"objective": "cmrr"}),
    ("reduce the input offset of my amplifier layout", "analog_optimize", {"objective": "offset"}),
    (
        "run LLANA with 5 initial points and 20 trials to maximise post-layout CMRR",
        "analog_optimize",
        {"objective": "cmrr", "method": "llana", "n_init": 5, "budget": 25},
    ),
    (
        "minimise offset and maximise CMRR together with TuRBO over 30 evaluations, seed 4",
        "analog_optimize",
        {"objective": "both", "method": "turbo", "budget": 30, "seed": 4},
    ),
    (
        "use the LLM as a constraint to narrow the weight ranges of the 5T OTA, weights between 0.5 and 3",
        "analog_optimize",
        {"circuit": "OTA_5T", "method": "llana_constraint", "weight_min": 0.5, "weight_max": 3.0},
    ),
    (
        "what is the post-layout CMRR of OTA_XT_MAGICAL with weight of net VO1M/VO1P 2.5 and VS=3",
        "analog_simulate",
        {"circuit": "OTA_XT_MAGICAL", "net_weights": {"VO1M/VO1P": 2.5, "VS": 3.0}},
    ),
    ("simulate the schematic of the five-transistor OTA in ngspice", "analog_simulate", {"circuit": "OTA_5T", "layout": "schematic"}),
    ("what is the phase margin of the opamp with placement seed 7", "analog_simulate", {"placement_seed": 7}),
    (
        "gain and offset of the OTA with a common-centroid input pair and no symmetry on the rest",
        "analog_simulate",
        {"symmetric": False, "common_centroid": ["M40"]},
    ),
    (
        "place the OTA with a weight of 3 on net TAIL1 and show me the GDS",
        "analog_place",
        {"net_weights": {"TAIL1": 3.0}},
    ),
    (
        "common-centroid placement of M40 and M49, area weight 0.5",
        "analog_place",
        {"area_weight": 0.5, "common_centroid": ["M40", "M49"]},
    ),
    ("random search baseline over the net weights with seed 3", "analog_optimize", {"method": "random", "seed": 3}),
    ("how much do wire parasitics reduce the CMRR of the amplifier", "analog_simulate", {}),
]


@pytest.mark.parametrize("request_text,tool,args", PHRASINGS)
def test_planner_fills_only_what_the_request_says(request_text: str, tool: str, args: dict) -> None:
    call = plan(request_text)
    assert (call.tool, call.args) == (tool, args)
    AGENT.tool(call.tool).args_model.model_validate(call.args)  # a valid call for its tool


def test_impossible_budget_reaches_the_tool_and_is_rejected_by_name() -> None:
    call = plan("optimise the OTA with 3 evaluations and 5 initial points")
    assert call.args == {"budget": 3, "n_init": 5}
    with pytest.raises(ValidationError, match="n_init"):
        AGENT.tool(call.tool).invoke(call.args)


@needs_ngspice
def test_end_to_end_plan_run_render(tmp_path: Path) -> None:
    call = plan("minimise the offset of the 5T OTA layout with sobol, 4 evaluations and 2 initial points")
    assert call.args == {"circuit": "OTA_5T", "objective": "offset", "method": "sobol", "budget": 4, "n_init": 2}
    result = AGENT.tool(call.tool).invoke({**call.args, "out_dir": str(tmp_path)})
    text = render(call, result)
    first = text.splitlines()[0]
    assert first.startswith(f"**sobol reached score {result.best_score:.4f} (offset) on OTA_5T")
    assert f"offset {result.best_performance.offset_v * 1e3:,.4f} mV" in first and "in 4 evaluations" in first
    assert "| open-loop differential gain Adm |" in text and "| TAIL |" in text and result.artifacts["gds"] in text


@needs_ngspice
def test_render_simulate_and_place_on_real_results(tmp_path: Path) -> None:
    call = plan("simulate the 5T OTA post-layout with X=4")
    sim = AGENT.tool(call.tool).invoke({**call.args, "out_dir": str(tmp_path / "s")})
    text = render(call, sim)
    assert text.startswith(f"**Post-layout CMRR {sim.performance.cmrr_db:,.2f} dB, offset {sim.performance.offset_v * 1e3:,.4f} mV**")
    assert "| phase margin |" in text and "Largest pair threshold mismatch" in text
    call = plan("place the 5T OTA and draw the GDS")
    placed = AGENT.tool(call.tool).invoke({**call.args, "out_dir": str(tmp_path / "p")})
    text = render(call, placed)
    assert text.startswith(f"**Placed OTA_5T: {placed.area_um2:,.0f} um^2") and "| M1/M2 |" in text


class FakeClient:
    """An LLMClient that answers LLANA's prompts and records what it was asked."""

    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any] | None, int | None]] = []

    def chat(self, messages: list[Message], *, json_schema=None, tools=None, max_tokens=None) -> ChatReply:
        self.calls.append((json_schema, max_tokens))
        if "score" in (json_schema or {}).get("properties", {}):
            return ChatReply(content='{"score": -0.14}')
        return ChatReply(content=json.dumps({"TAIL": 2.0 + 0.1 * len(self.calls), "X": 1.0, "OUT": 1.0, "NB": 1.0}))


@needs_ngspice
def test_run_optimize_hands_the_configured_llm_to_llana(tmp_path: Path) -> None:
    client = FakeClient()
    args = AnalogOptimizeArgs(circuit="OTA_5T", method="llana", budget=3, n_init=2, llana_candidates=1, llana_samples=1, out_dir=str(tmp_path))
    result = run_optimize(args, llm=client)
    assert result.llm["calls"] == len(client.calls) == 2 and result.notes == []


def test_spec_is_complete() -> None:
    assert len(AGENT.examples) >= 20 and len(set(AGENT.examples)) == len(AGENT.examples)
    assert all(k == k.lower() for k in AGENT.keywords)
    assert {t.name for t in AGENT.tools} == {"analog_simulate", "analog_place", "analog_optimize"}
    prompt = load_prompt(AGENT.prompt)
    assert all(t.name in prompt for t in AGENT.tools)
    for name in ("llana_candidate", "llana_surrogate", "llana_constraint"):
        assert load_prompt(name)


@pytest.mark.parametrize(
    ("request_text", "budget"),
    [
        ("run turbo on the OTA for offset with 20 trials", 20),  # the stated budget, not the default 25
        ("give llana 18 tries on the offset", 18),
        ("run LLANA with 5 initial points and 20 trials", 25),  # trials after a stated initial design add up
        ("optimise the CMRR with a budget of -10 evaluations", -10),  # kept, so validation refuses it
    ],
)
def test_a_stated_budget_is_honoured(request_text: str, budget: int) -> None:
    assert plan(request_text).args["budget"] == budget


def test_a_uniform_net_weight_sets_every_knob() -> None:
    call = plan("place OTA_5T with every net weight set to 3")
    assert (call.tool, call.args["net_weights"]) == ("analog_place", {"TAIL": 3.0, "X": 3.0, "OUT": 3.0, "NB": 3.0})


def test_a_comparison_of_optimisers_sweeps_methods_and_seeds() -> None:
    call = plan("compare gp_ei, turbo and random on OTA_5T for CMRR over 3 seeds")
    assert call.tool == "analog_optimize" and call.args == {"circuit": "OTA_5T", "objective": "cmrr"}
    assert call.sweep == {"method": ["gp_ei", "turbo", "random"], "seed": [0, 1, 2]}
