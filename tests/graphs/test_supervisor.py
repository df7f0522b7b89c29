"""The supervisor end to end: route, plan, run the real tool, answer; sessions; clarification; LLM paths."""

from __future__ import annotations

from chipcrew.app import ChipCrew
from chipcrew.settings import Settings

W4A8 = "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?"


def test_hardware_request_runs_mixpe_perf_and_answers_with_its_numbers(settings_none: Settings) -> None:
    turn = ChipCrew(settings_none).ask(W4A8)
    assert (turn.agent, turn.router_tier) == ("hardware_architect", "semantic")
    call = turn.tool_calls[0]
    assert call["tool"] == "mixpe_perf" and call["planner"] == "deterministic"
    assert call["args"]["model"] == "OPT-6.7B"
    assert turn.result is not None and turn.result["seconds"] >= 0
    assert "OPT-6.7B" in turn.answer and "INT8" in turn.answer
    assert set(turn.as_json()) == {"agent", "router_tier", "tool_calls", "result", "answer"}


def test_out_of_scope_gets_no_specialist_and_the_list(settings_none: Settings) -> None:
    turn = ChipCrew(settings_none).ask("write me a limerick about the moon")
    assert turn.agent is None and turn.tool_calls == [] and turn.result is None
    assert "No specialist handles this" in turn.answer and "hardware_architect" in turn.answer


def test_session_history_survives_a_restart(settings_none: Settings) -> None:
    first = ChipCrew(settings_none, session="review")
    first.ask(W4A8)
    del first  # a new process would open the same SQLite file
    second = ChipCrew(settings_none, session="review")
    history = second.history()
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == W4A8
    second.ask("tell me a joke")
    assert len(ChipCrew(settings_none, session="review").history()) == 4
    assert ChipCrew(settings_none, session="other").history() == []


def test_in_memory_crews_do_not_share_history(settings_none: Settings) -> None:
    a, b = ChipCrew(settings_none), ChipCrew(settings_none)
    a.ask(W4A8)
    assert len(a.history()) == 2 and b.history() == []


def test_progress_reaches_the_caller_as_message_and_fraction(settings_none: Settings) -> None:
    events: list[tuple[str, float]] = []
    ChipCrew(settings_none).ask(W4A8, on_progress=lambda message, fraction: events.append((message, fraction)))
    assert events and all(isinstance(m, str) and m and 0.0 <= f <= 1.0 for m, f in events)
    assert events[-1][1] == 1.0


def test_uncertain_route_asks_and_resumes_in_chat(settings_none: Settings) -> None:
    crew = ChipCrew(settings_none, clarify=True)
    decision = crew.route("can you estimate this for my chip?")
    turn = crew.ask("can you estimate this for my chip?")
    assert turn.question is not None and turn.agent is None and turn.tool_calls == []
    assert all(name in turn.question for name in decision.candidates) and "hardware_architect" in decision.candidates
    turn = crew.resume("the hardware architect, for OPT-6.7B")
    assert (turn.agent, turn.router_tier) == ("hardware_architect", "clarify")
    assert turn.tool_calls[0]["tool"] == "mixpe_perf"


def test_chat_reply_neither_ends_with_no_specialist(settings_none: Settings) -> None:
    crew = ChipCrew(settings_none, clarify=True)
    assert crew.ask("can you estimate this for my chip?").question is not None
    turn = crew.resume("neither")
    assert turn.agent is None and turn.router_tier == "clarify" and "No specialist handles this" in turn.answer


def test_chat_does_not_ask_about_a_request_with_no_in_scope_evidence(settings_none: Settings) -> None:
    turn = ChipCrew(settings_none, clarify=True).ask("what's the weather in Lisbon this weekend?")
    assert turn.question is None and turn.agent is None and "No specialist handles this" in turn.answer


def test_one_shot_ask_takes_the_best_agent_where_chat_would_ask(settings_none: Settings) -> None:
    """Below the confidence threshold, far ahead of out of scope: ``ask`` runs the best agent, a chat asks first."""
    doubtful = settings_none.model_copy(update={"router_min_score": 0.99, "router_margin": 0.2})
    request = "compare the energy of the methods"
    decision = ChipCrew(doubtful).route(request)
    p_best, p_out = decision.scores["hardware_architect"], decision.scores["out_of_scope"]
    assert p_best < 0.99 and p_best - p_out >= 0.2
    turn = ChipCrew(doubtful).ask(request)
    assert (turn.agent, turn.question) == ("hardware_architect", None) and turn.tool_calls[0]["tool"].startswith("mixpe")
    chat = ChipCrew(doubtful, clarify=True).ask(request)
    assert chat.question is not None and "hardware_architect" in chat.question and chat.tool_calls == []


def test_embedded_backend_answers_end_to_end(settings_none: Settings, embedded_llm) -> None:
    settings = settings_none.model_copy(update={"llm_backend": "embedded"})
    turn = ChipCrew(settings, llm=embedded_llm).ask(W4A8)
    assert turn.agent == "hardware_architect"
    # the template table is always there; the small model may only add a sentence without new numbers
    assert "OPT-6.7B" in turn.answer


def test_openai_backend_end_to_end_over_loopback(settings_none: Settings, llm_server: str) -> None:
    settings = Settings(llm_backend="openai", openai_base_url=llm_server, home=settings_none.home, llm_max_tokens=96)
    crew = ChipCrew(settings)
    turn = crew.ask(W4A8)
    assert turn.agent == "hardware_architect"
    assert turn.tool_calls[0]["planner"] in ("llm", "deterministic")
    assert turn.result is not None
    decision = crew.route("can you estimate this for my chip?")
    assert decision.tier in ("llm", "abstain")  # a capable endpoint is asked; its enum reply is always valid
    assert decision.agent is None or decision.agent in crew.runtime.agents


def test_a_summary_may_shorten_a_finding_but_not_move_a_value_to_another_label() -> None:
    from graphs.supervisor import _labels_kept

    finding = "At 64/576-equivalent tokens: visionzip 0.787, random 0.933, uniform 0.931 (all 144 tokens: 0.933)"
    assert _labels_kept("At 64/576-equivalent tokens: visionzip 0.787, random 0.933.", finding)
    assert not _labels_kept("At 64/576-equivalent tokens: 0.933, random 0.933, uniform 0.931.", finding)
    mixpe = "MixPE-W4A8 is 8.99x faster than INT8 and uses 2.88x less energy"
    assert _labels_kept("MixPE-W4A8 is 8.99x faster than INT8.", mixpe)
    assert not _labels_kept("MixPE-W4A8 is 2.88x faster than INT8.", mixpe)
