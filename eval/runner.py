"""Run the eval suites against the supervisor and write ``cases.jsonl`` (one row per case, written as each case
finishes, so an interrupted run keeps what it did) and ``summary.json``.

Cases run on a local process pool (each worker builds one :class:`ChipCrew` from the run's :class:`Settings`, passed
whole); the embedded and ``none`` backends are deterministic, so ``repeats > 1`` matters only for an LLM endpoint
with sampling (pass^k).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal

from chipcrew.llm.adapters import judge_answer
from chipcrew.settings import Settings

from .schema import Split, load_cases
from .scorers import (
    check_passes,
    conversation_scores,
    latency_stats,
    pass_hat_k,
    routing_scores,
    tool_call_scores,
    tool_suite_scores,
    trajectory_match,
)

__all__ = ("SUITES", "run_eval")

SUITES = ("routing", "routing_general", "tools", "tasks", "conversations")
Suite = Literal["routing", "routing_general", "tools", "tasks", "conversations", "all"]

_CREW: Any = None  # one per worker process, built by _init_worker
_JUDGE = False  # LLM-as-judge of task answers: off by default, never a gate


def _init_worker(settings: Settings, judge: bool = False) -> None:
    """Build this worker's crew from the parent's settings (pickled whole: keyword, env and TOML values alike)."""
    global _CREW, _JUDGE
    _JUDGE = judge
    from chipcrew.app import ChipCrew

    _CREW = ChipCrew(settings)


def _run_job(kind: str, cases: list[dict[str, Any]], repeats: int) -> list[dict[str, Any]]:
    return [_run_case(kind, case, repeats) for case in cases]


def _run_case(kind: str, case: dict[str, Any], repeats: int) -> dict[str, Any]:
    runner = {"routing": _routing_case, "routing_general": _routing_case, "tools": _tool_case, "tasks": _task_case,
              "conversations": _conversation_case}[kind]
    trials = []
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            row = runner(case)
        except Exception as exc:  # a crashing case is a failed case, recorded, never a crashed run
            row = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        row["seconds"] = time.perf_counter() - start
        trials.append(row)
    out = {"id": case["id"], "suite": kind, "split": case["split"], **trials[0]}
    out["trials_ok"] = [bool(t["ok"]) for t in trials]
    return out


def _routing_case(case: dict[str, Any]) -> dict[str, Any]:
    expected = case["expected_agent"]
    decision = _CREW.route(case["request"])
    return {"expected": expected, "predicted": decision.agent, "tier": decision.tier, "ok": decision.agent == expected}


def _scored_call(spec: Any, call: Any, want: dict[str, Any]) -> dict[str, Any]:
    """One planned call against the expected tool, arguments (swept lists included) and validity."""
    from pydantic import ValidationError

    from graphs.conversation import missing_fields
    from tools.common import ChipCrewError

    scores = tool_call_scores(want["tool"], want["args"], call.tool, call.stated(), want["tolerance"])
    valid = True
    try:
        model = spec.tool(call.tool).args_model
        valid = not missing_fields(model, call.args)
        for args in call.runs():
            model.model_validate(args)
    except (ValidationError, ChipCrewError):  # an invalid value, or a tool the agent does not have
        valid = False
    ok = scores["call_ok"] and valid == want.get("valid", True)
    out = {"tool": call.tool, "args": call.args, "valid": valid, "expected_valid": want.get("valid", True), **scores}
    return out | ({"sweep": call.sweep} if call.sweep else {}) | {"ok": ok}


def _tool_case(case: dict[str, Any]) -> dict[str, Any]:
    from graphs.supervisor import plan_in_session

    spec = _CREW.runtime.agents.get(case["agent"])
    if spec is None:
        return {"ok": False, "skipped": f"agent {case['agent']} is not registered"}
    call, planner, _ = plan_in_session(_CREW.runtime, spec, case["request"], None)
    return {"planner": planner, **_scored_call(spec, call, case)}


def _conversation_case(case: dict[str, Any]) -> dict[str, Any]:
    """The turns of one session, each routed and planned with what the session remembers (as ``chipcrew chat``
    does), scored like tool cases; tools are not run, so the memory holds what the calls named."""
    from graphs.conversation import empty_memory, remember
    from graphs.supervisor import plan_in_session, route_in_session

    memory = empty_memory()
    turns = []
    for turn in case["turns"]:
        agent = route_in_session(_CREW.runtime, turn["request"], memory).agent
        spec = _CREW.runtime.agents.get(agent) if agent else None
        if spec is None:
            turns.append({"request": turn["request"], "agent": agent, "agent_ok": False, "tool_ok": False, "args_ok": {}, "ok": False})
            memory = empty_memory()
            continue
        call, _, context = plan_in_session(_CREW.runtime, spec, turn["request"], memory)
        row = {"request": turn["request"], "agent": agent, "agent_ok": agent == turn["agent"], **_scored_call(spec, call, turn)}
        row["ok"] = row["ok"] and row["agent_ok"]
        turns.append(row)
        memory = remember(memory, agent, context, call, None, failed=not row["valid"])
    return {"turns": turns, "ok": all(t["ok"] for t in turns)}


def _task_case(case: dict[str, Any]) -> dict[str, Any]:
    if case["agent"] not in _CREW.runtime.agents:
        return {"ok": False, "skipped": f"agent {case['agent']} is not registered"}
    _CREW.thread_id = f"eval-{case['id']}-{time.monotonic_ns()}"
    turn = _CREW.ask(case["request"])
    data = turn.model_dump()
    checks = [check_passes(data, c["path"], c["op"], c["value"]) for c in case["checks"]]
    judged = judge_answer(_CREW.llm, case["request"], turn.answer) if _JUDGE else {}
    return {
        **judged,
        "agent": turn.agent,
        "trajectory": turn.trajectory,
        "trajectory_ok": trajectory_match(["router", case["agent"]], turn.trajectory, "strict"),
        "checks": checks,
        "answer": turn.answer[:500],
        "ok": all(checks) and turn.agent == case["agent"],
    }


Job = tuple[str, list[dict[str, Any]]]


def _jobs(kinds: tuple[str, ...], split: Split) -> list[Job]:
    """One job per routing or tool case; one per agent for tasks, run in order in one worker, because an agent's
    tools may hold a resource one process at a time (the embedded Qdrant folder of the doc-QA index)."""
    jobs: list[Job] = []
    for kind in kinds:
        cases = [c.model_dump() for c in load_cases(kind, split)]
        if kind == "tasks":
            per_agent: dict[str, list[dict[str, Any]]] = {}
            for case in cases:
                per_agent.setdefault(case["agent"], []).append(case)
            jobs += [(kind, group) for group in per_agent.values()]
        else:
            jobs += [(kind, [case]) for case in cases]
    return jobs


def _pool_map(jobs: list[Job], settings: Settings, workers: int, repeats: int, judge: bool) -> Iterator[dict[str, Any]]:
    # spawn, not fork: a forked child of a process that already ran torch can hang in OpenMP
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(settings, judge)) as pool:
        futures = [pool.submit(_run_job, kind, cases, repeats) for kind, cases in jobs]
        for fut in futures:
            yield from fut.result()


class _RayWorker:
    """A Ray actor holding one ChipCrew, like a pool worker."""

    def __init__(self, settings: Settings, judge: bool):
        _init_worker(settings, judge)

    def run(self, job: Job, repeats: int) -> list[dict[str, Any]]:
        return _run_job(job[0], job[1], repeats)


def _ray_map(jobs: list[Job], settings: Settings, workers: int, repeats: int, judge: bool) -> Iterator[dict[str, Any]]:
    try:
        import ray
        from ray.util import ActorPool
    except ImportError as exc:
        from tools.common import ChipCrewError

        raise ChipCrewError("--executor ray needs Ray: pip install 'chipcrew[ray]'") from exc
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    actor = ray.remote(num_cpus=1)(_RayWorker)
    pool = ActorPool([actor.remote(settings, judge) for _ in range(workers)])
    for rows in pool.map_unordered(lambda a, job: a.run.remote(job, repeats), jobs):
        yield from rows


def _summarise(kind: str, rows: list[dict[str, Any]], repeats: int) -> dict[str, Any]:
    scored = [r for r in rows if not r.get("skipped")]
    lat = latency_stats([r["seconds"] for r in scored])
    base: dict[str, Any] = {"n": len(scored), "skipped": len(rows) - len(scored), **lat}
    base["error_rate"] = sum("error" in r for r in scored) / len(scored) if scored else 0.0
    if kind.startswith("routing"):
        base.update(routing_scores([r.get("expected") for r in scored], [r.get("predicted") for r in scored]))
        tiers: dict[str, int] = {}
        for r in scored:
            tiers[r.get("tier", "error")] = tiers.get(r.get("tier", "error"), 0) + 1
        base["tiers"] = tiers
    elif kind == "tools":
        base.update(tool_suite_scores(scored))
    elif kind == "conversations":
        base.update(conversation_scores(scored))
    else:
        base["success_rate"] = sum(r["ok"] for r in scored) / len(scored) if scored else 0.0
        base["trajectory_accuracy"] = sum(r.get("trajectory_ok", False) for r in scored) / len(scored) if scored else 0.0
        judged = [r["judge_score"] for r in scored if "judge_score" in r]
        if judged:
            base["judge_mean_score"] = sum(judged) / len(judged)
    if repeats > 1 and scored:
        base[f"pass^{repeats}"] = pass_hat_k([r["trials_ok"] for r in scored], repeats)
    return base


def run_eval(
    suite: Suite,
    out_dir: Path,
    backend: str = "none",
    split: Split = "all",
    workers: int | None = None,
    repeats: int = 1,
    progress: Callable[[str, float], None] | None = None,
    executor: Literal["local", "ray"] = "local",
    judge: bool = False,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Run ``suite`` (or all) and return the summary; files go to ``out_dir``.

    ``executor="ray"`` runs the cases on Ray actors: the cluster at ``$RAY_ADDRESS`` if set, the instance this
    process already started, or a new local one. ``judge`` adds an LLM-as-judge grade (1-5) of each task answer
    from the configured backend; it is reported, never gated on. Every worker builds its crew from ``settings``
    (default: ``Settings()``, i.e. env vars and the TOML file) with ``backend`` as its LLM backend.
    """
    kinds = SUITES if suite == "all" else (suite,)
    for kind in kinds:
        if kind not in SUITES:
            from tools.common import InputError

            raise InputError("suite", suite, [*SUITES, "all"])
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = _jobs(kinds, split)
    n_cases = sum(len(cases) for _, cases in jobs)
    workers = workers or min(2, os.cpu_count() or 1)
    rows: list[dict[str, Any]] = []
    worker_settings = (settings or Settings()).model_copy(update={"llm_backend": backend})
    run_map = _ray_map if executor == "ray" else _pool_map
    with (out_dir / "cases.jsonl").open("w", encoding="utf-8") as sink:
        for i, row in enumerate(run_map(jobs, worker_settings, workers, repeats, judge), 1):
            rows.append(row)
            sink.write(json.dumps(row, default=str) + "\n")
            sink.flush()
            if progress:
                progress(f"{row['suite']} {row['id']}", i / n_cases)
    summary: dict[str, Any] = {"suite": suite, "backend": backend, "split": split, "repeats": repeats}
    for kind in kinds:
        summary[kind] = _summarise(kind, [r for r in rows if r["suite"] == kind], repeats)
        if split == "all":
            for part in ("dev", "heldout"):
                part_rows = [r for r in rows if r["suite"] == kind and r["split"] == part]
                if part_rows:
                    summary[kind][part] = _summarise(kind, part_rows, repeats)
    if "routing" in summary:
        summary["accuracy"] = summary["routing"]["accuracy"]
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return summary
