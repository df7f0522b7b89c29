"""Follow-ups read against the session's memory: carried-over subjects, "again with ...", corrections, asking for
what is missing, and the memory surviving a restart."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from agents import ToolCall, get_agent
from chipcrew.app import ChipCrew
from chipcrew.settings import Settings
from graphs.conversation import (
    empty_memory,
    is_repeat,
    plan_turn,
    remember,
    route_followup,
)
from tools.common import DataNotFoundError, shared_data_dir


@pytest.fixture(scope="module")
def data() -> None:
    try:
        shared_data_dir("iccad13")
    except DataNotFoundError as err:
        pytest.skip(str(err))


def _session(agent: str, requests: list[str]) -> list[ToolCall]:
    """Plan each request as a session would (tools not run), returning the calls."""
    spec = get_agent(agent)
    memory: dict[str, Any] = empty_memory()
    calls = []
    for request in requests:
        call, context = plan_turn(spec, request, memory, spec.plan)
        model = spec.tool(call.tool).args_model
        try:
            model.model_validate(call.args)
            failed = False
        except ValidationError:
            failed = True
        memory = remember(memory, agent, context, call, None, failed)
        calls.append(call)
    return calls


def test_the_issue_follow_up_takes_the_clip_from_the_previous_turn() -> None:
    first, second, third = _session(
        "opc_engineer",
        ["Simulate M1_test2 at the nominal corner", "now run DiffOPC on it for 30 iterations", "again with 50 iterations"],
    )
    assert (first.tool, first.args) == ("opc_simulate", {"clip": "M1_test2", "corner": "nominal"})
    assert (second.tool, second.args) == ("opc_optimize", {"clip": "M1_test2", "method": "diffopc", "iterations": 30})
    assert (third.tool, third.args) == ("opc_optimize", {"clip": "M1_test2", "method": "diffopc", "iterations": 50})


def test_a_chain_of_follow_ups_keeps_the_intent_of_the_first_request() -> None:
    calls = _session("hardware_architect", ["verify the mixpe gemm 256x512x128", "now with fp16 activations", "and group size 64"])
    assert calls[-1].tool == "mixpe_gemm"
    assert calls[-1].args == {"m": 256, "k": 512, "n": 128, "activation": "fp16", "group_size": 64}


def test_a_short_reply_completes_a_call_that_lacked_its_clip() -> None:
    asked, answered = _session("opc_engineer", ["run DiffOPC for 30 iterations", "M1_test4"])
    assert "clip" not in asked.args
    assert (answered.tool, answered.args) == ("opc_optimize", {"clip": "M1_test4", "method": "diffopc", "iterations": 30})


def test_a_correction_replaces_only_the_value_that_could_not_run() -> None:
    calls = _session(
        "opc_engineer", ["Simulate M1_test2 at the nominal corner", "now run DiffOPC on it for -30 iterations", "sorry, 30 iterations"]
    )
    assert calls[1].args["iterations"] == -30
    assert calls[2].args == {"clip": "M1_test2", "method": "diffopc", "iterations": 30}


def test_what_about_changes_the_method_and_keeps_the_rest() -> None:
    calls = _session("analog_designer", ["optimise OTA_5T for CMRR with gp_ei, 10 evaluations", "what about turbo?"])
    assert calls[1].args == {"circuit": "OTA_5T", "objective": "cmrr", "method": "turbo", "budget": 10}


def test_a_new_request_is_not_merged_with_the_last_one() -> None:
    calls = _session("opc_engineer", ["optimise M1_test7 with ILT for 9 iterations", "list the via clips"])
    assert (calls[1].tool, calls[1].args) == ("opc_list_clips", {"suite": "via"})


def test_subjects_carry_only_within_the_agent_that_named_them() -> None:
    spec = get_agent("opc_engineer")
    memory = remember(empty_memory(), "analog_designer", "simulate OTA_5T", ToolCall(tool="analog_simulate", args={"circuit": "OTA_5T"}), None, False)
    call, _ = plan_turn(spec, "run DiffOPC for 30 iterations", memory, spec.plan)
    assert "clip" not in call.args


def test_follow_ups_route_to_the_last_agent_when_short_repeats_or_unplaced() -> None:
    memory = remember(empty_memory(), "opc_engineer", "simulate M1_test2", ToolCall(tool="opc_simulate", args={"clip": "M1_test2"}), None, False)
    assert route_followup("again with 50 iterations", None, memory) == "opc_engineer"
    assert route_followup("again with 50 iterations", "analog_designer", memory) == "opc_engineer"
    longer = "again, but this time optimise the OTA_5T amplifier for offset with 20 evaluations"
    assert route_followup(longer, "analog_designer", memory) == "analog_designer"
    assert route_followup("tell me a joke", None, memory) is None
    assert is_repeat("and at the max corner?") and is_repeat("what about turbo?") and not is_repeat("simulate M1_test3")


def test_the_run_folder_and_a_saved_model_are_remembered() -> None:
    call = ToolCall(tool="prune_blocks", args={"model": "/models/qwen", "blocks": 4})
    result = {"saved_to": "/runs/p1/model", "artifacts": {"report": "/runs/p1/report.json", "plot": "/runs/p1/plot.png"}}
    memory = remember(empty_memory(), "model_compressor", "prune 4 blocks of /models/qwen", call, result, False)
    assert memory["entities"]["model"]["value"] == "/runs/p1/model"
    assert memory["entities"]["run_dir"]["value"] == "/runs/p1"
    spec = get_agent("model_compressor")
    evaluated, _ = plan_turn(spec, "evaluate the pruned model", memory, spec.plan)
    assert (evaluated.tool, evaluated.args.get("model")) == ("evaluate_model", "/runs/p1/model")


def test_chat_session_answers_the_issue_follow_up_and_keeps_its_memory_across_a_restart(
    settings_none: Settings, data: None
) -> None:
    crew = ChipCrew(settings_none, session="litho")
    crew.ask("Simulate M1_test2 at the nominal corner")
    del crew  # a new process opens the same SQLite session
    turn = ChipCrew(settings_none, session="litho").ask("now run DiffOPC on it for 2 iterations")
    assert turn.agent == "opc_engineer"
    assert turn.tool_calls[0]["args"] == {"clip": "M1_test2", "method": "diffopc", "iterations": 2}
    assert turn.result is not None and turn.result["clip"] == "M1_test2"


def test_a_missing_clip_is_asked_for_by_name_with_the_accepted_values(settings_none: Settings, data: None) -> None:
    crew = ChipCrew(settings_none)
    turn = crew.ask("run DiffOPC for 2 iterations")
    assert turn.result is None and "invalid arguments" not in turn.answer
    assert "**clip**" in turn.answer and "M1_test1" in turn.answer and "aes_via1__217_754" in turn.answer
    turn = crew.ask("M1_test3")
    assert turn.tool_calls[0]["args"] == {"clip": "M1_test3", "method": "diffopc", "iterations": 2}
    assert turn.result is not None and turn.result["iterations"] == 2


def test_a_value_the_tool_cannot_take_is_refused_and_nothing_else_runs(settings_none: Settings) -> None:
    turn = ChipCrew(settings_none).ask("run DiffOPC on M1_test2 for -5 iterations")
    assert turn.tool_calls[0]["args"]["iterations"] == -5
    assert turn.result is None
    assert "`iterations`" in turn.answer and "-5" in turn.answer and ">= 1" in turn.answer
    assert "nothing else was run" in turn.answer


def test_a_comparison_runs_every_method(settings_none: Settings, data: None) -> None:
    turn = ChipCrew(settings_none).ask("compare mbopc and diffopc on M1_test1 for 2 iterations")
    assert turn.tool_calls[0]["sweep"] == {"method": ["mbopc", "diffopc"]}
    assert turn.result is not None and [r["method"] for r in turn.result["runs"]] == ["mbopc", "diffopc"]
    assert "### method=mbopc" in turn.answer and "### method=diffopc" in turn.answer


def test_a_comparison_too_large_for_one_request_says_so(settings_none: Settings) -> None:
    turn = ChipCrew(settings_none).ask("compare ilt, diffopc and mbopc on M1_test1 over 5 seeds")
    assert turn.result is None and "15 runs" in turn.answer and "Nothing was run" in turn.answer


def test_a_complete_new_request_after_a_failed_call_is_not_read_as_its_correction() -> None:
    _, new = _session("opc_engineer", ["run DiffOPC for 30 iterations", "simulate M1_test3"])
    assert (new.tool, new.args) == ("opc_simulate", {"clip": "M1_test3"})
