"""The hardware architect's GNN side: planner phrasings, MixPE requests untouched, answers, routing, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.hardware_architect import AGENT, plan, render
from prompts import load_prompt
from tools.gnn.config import GNNConfig
from tools.gnn.explore import GNNExploreResult, SearchRun
from tools.gnn.fit import GNNFitResult, HeldOut
from tools.gnn.profile import GNNProfileArgs, run_gnn_profile
from tools.gnn.runs import ProfileRecord


PHRASINGS = [
    ("profile GraphSAGE training on the digits graph with fan-out 10/5 and batch size 512", "gnn_profile",
     {"graph": "digits", "config": {"model": "sage", "sampler": "neighbor", "fanouts": [10, 5], "batch_size": 512}}),
    ("how long does a GNN epoch take on the karate club with full-batch training and hidden 64?", "gnn_profile",
     {"graph": "karate", "config": {"sampler": "full", "hidden": 64}}),
    ("train a 3-layer GCN with 128 hidden units on a power-law graph with 10^5 nodes, cache 20% of features by "
     "degree, with overlap, 5 epochs, seed 3", "gnn_profile",
     {"graph": "powerlaw", "num_nodes": 100000, "train": {"epochs": 5, "seed": 3},
      "config": {"model": "gcn", "hidden": 128, "layers": 3, "cache_policy": "degree", "cache_ratio": 0.2,
                 "overlap": True}}),
    ("will full-batch GCN training on a 1M-node power-law graph with 3 layers and hidden 256 fit in 2 GB?",
     "gnn_profile",
     {"graph": "powerlaw", "num_nodes": 1000000, "memory_budget_mb": 2048.0,
      "config": {"model": "gcn", "sampler": "full", "hidden": 256, "layers": 3}}),
    ("measure GraphSAGE with neighbour sampling 15/10/5 and a presampling feature cache on the SBM graph "
     "with 200k nodes", "gnn_profile",
     {"graph": "sbm", "num_nodes": 200000, "config": {"model": "sage", "sampler": "neighbor",
                                                      "fanouts": [15, 10, 5], "cache_policy": "presample"}}),
    ("cluster-GCN style training of GraphSAGE with batch size 2048 on digits, no feature cache", "gnn_profile",
     {"graph": "digits", "config": {"model": "sage", "sampler": "cluster", "batch_size": 2048}}),
    ("find the fastest GNN training configuration within 1% accuracy of the default on the digits graph",
     "gnn_explore", {"graph": "digits", "priority": "fastest", "accuracy_tolerance": 0.01}),
    ("which GNN training configuration uses the least memory under 50 ms per epoch on an SBM graph with 100k nodes? "
     "compare with random search, 10 runs", "gnn_explore",
     {"graph": "sbm", "num_nodes": 100000, "priority": "least_memory", "time_budget_s": 0.05, "runs": 10,
      "compare_random": True}),
    ("explore GCN training configurations on karate for a balanced time/memory trade-off", "gnn_explore",
     {"graph": "karate", "priority": "balanced", "reference": {"model": "gcn"}, "space": {"model": "gcn"}}),
    ("run GNNavigator's design space exploration with a 512 MB memory budget", "gnn_explore",
     {"memory_budget_mb": 512.0}),
    ("train a two-layer GraphSAGE with hidden size 128 on a synthetic graph with 50,000 nodes", "gnn_profile",
     {"graph": "sbm", "num_nodes": 50000, "config": {"model": "sage", "hidden": 128, "layers": 2}}),
    ("fit the GNN performance model on 6 runs and hold out 3 on a power-law graph with 10^5 nodes", "gnn_fit",
     {"graph": "powerlaw", "num_nodes": 100000, "runs": 6, "holdout": 3}),
    ("how accurate is the gray-box model for GNN training on digits?", "gnn_fit", {"graph": "digits"}),
]


@pytest.mark.parametrize("request_text,tool,args", PHRASINGS)
def test_gnn_planner_fills_only_what_the_request_says(request_text: str, tool: str, args: dict) -> None:
    call = plan(request_text)
    assert (call.tool, call.args) == (tool, args)
    AGENT.tool(call.tool).args_model.model_validate(call.args)


@pytest.mark.parametrize("request_text", [
    "How much faster is W4A16 than FP16 on LLaMA-2-13B?",
    "check the mixpe gemm bit exactness for 256x512x128 int8",
    "what's the DRAM energy share for opt 6.7b with 4-bit weights",
    "mixpe vs ant: normalized execution time for batch 8",
    "how many dequantisations does per-group dequant save for K=4096",
    "is the mixed precision PE more efficient than an fp16 systolic array",
])
def test_mixpe_requests_still_plan_to_mixpe(request_text: str) -> None:
    assert plan(request_text).tool in ("mixpe_perf", "mixpe_gemm")


def test_a_bad_knob_reaches_the_tool_and_is_rejected_by_name() -> None:
    call = plan("profile GraphSAGE on digits with fan-out 10/5 and 3 layers")
    assert call.args["config"]["fanouts"] == [10, 5] and call.args["config"]["layers"] == 3
    with pytest.raises(ValueError, match="fanouts"):
        AGENT.tool(call.tool).invoke(call.args)


def test_profile_end_to_end_plans_runs_and_answers(tmp_path: Path) -> None:
    call = plan("profile GraphSAGE on the karate club with fan-out 3/3, batch size 8, hidden 16 and 3 epochs on cpu")
    args = {**call.args, "out_dir": str(tmp_path)}
    result = AGENT.tool(call.tool).invoke(args)
    rec = result.record
    text = render(call, result)
    first = text.splitlines()[0]
    assert f"{rec.epoch_s * 1e3:,.1f} ms per epoch" in first and f"{rec.peak_mb:,.2f} MiB" in first
    assert "`sage nb 3/3 b8 h16` on karate" in first
    assert "| epoch time (ms) |" in text and result.artifacts["record"] in text


def test_render_refused_profile_says_why(tmp_path: Path) -> None:
    call = plan("will full-batch GraphSAGE with 3 layers and hidden 1024 on an SBM graph with 20k nodes fit in 64 MB?")
    result = run_gnn_profile(GNNProfileArgs(**call.args, out_dir=str(tmp_path)))
    text = render(call, result)
    assert text.startswith("**Not launched:") and "above the 64.0 MiB budget" in text


def _record(label_hidden: int, epoch_s: float, peak: float, acc: float, **extra: object) -> ProfileRecord:
    return ProfileRecord(config=GNNConfig(hidden=label_hidden), graph="digits", device="cpu", epoch_s=epoch_s,
                         sample_s=epoch_s / 4, move_s=epoch_s / 4, compute_s=epoch_s / 2, peak_mb=peak, val_acc=acc,
                         test_acc=acc, clock="cpu", **extra)


def test_render_explore_leads_with_the_choice_and_tabulates_the_searches() -> None:
    ref, fast, other = _record(256, 0.030, 12.0, 0.97), _record(64, 0.010, 4.0, 0.965), _record(128, 0.02, 8.0, 0.96)
    searches = [SearchRun(strategy="model", seed=0, records=[ref, fast], chosen=1, trace=[0.03, 0.01], runs_to_reach=2),
                SearchRun(strategy="random", seed=1000, records=[ref, other], chosen=1, trace=[0.03, 0.02])]
    result = GNNExploreResult(
        graph={"name": "digits"}, priority="fastest", accuracy_tolerance=0.01, candidates=6006, reference=ref,
        chosen=fast, chosen_predicted={"epoch_s": 0.011, "peak_mb": 4.2, "val_acc": 0.965}, speedup=3.0,
        memory_reduction=2 / 3, accuracy_delta=-0.005, test_accuracy_delta=-0.005, searches=searches, refused=[],
        pareto=[fast.config.label()], prediction_error={"runs": 1.0, "time_median_rel_error": 0.1,
                                                        "memory_median_rel_error": 0.05},
        coefficients={}, artifacts={"pareto": "/x/pareto.png"},
    )
    text = render(plan("find the fastest GNN configuration on digits"), result)
    assert text.splitlines()[0] == ("**Chosen (fastest, accuracy within 1.0%): `sage nb 25/10 b1024 h64` — 3.00x "
                                    "faster than the default with 66.7% less peak memory, validation accuracy -0.5 "
                                    "points** on digits.")
    assert "| model (seed 0) | 2 | 2 | `sage nb 25/10 b1024 h64` | 3.00x | 66.7% |" in text
    assert "| random (seed 1000) | 2 | not reached |" in text and "`/x/pareto.png`" in text


def test_render_fit_reports_the_heldout_error() -> None:
    ref = _record(256, 0.03, 12.0, 0.97)
    held = HeldOut(**_record(64, 0.01, 4.0, 0.96).model_dump(),
                   prediction={"epoch_s": 0.011, "peak_mb": 4.4, "val_acc": 0.95})
    result = GNNFitResult(graph={"name": "digits"}, coefficients={"overlap_gain": 1.0, "overhead_s": 0.0},
                          features={}, fit_error={}, heldout_error={"time_median_rel_error": 0.1,
                                                                   "memory_median_rel_error": 0.1},
                          fitted=[ref], heldout=[held])
    text = render(plan("fit the GNN performance model on digits"), result)
    assert text.startswith("**Fitted on 1 runs of digits; on 1 held-out configurations the median relative error "
                           "is 10.0% for epoch time and 10.0% for peak memory**")
    assert "| `sage nb 25/10 b1024 h64` | 10.0 | 11.0 | 4.00 | 4.40 | 96.0% | 95.0% |" in text


def test_spec_lists_the_gnn_tools_examples_and_prompt() -> None:
    assert {"gnn_profile", "gnn_fit", "gnn_explore"} <= {t.name for t in AGENT.tools}
    assert sum("gnn" in e.lower() or "graph" in e.lower() for e in AGENT.examples) >= 10
    assert {"gnn", "graphsage", "gnnavigator"} <= set(AGENT.keywords)
    prompt = load_prompt(AGENT.prompt)
    assert all(name in prompt for name in ("gnn_profile", "gnn_fit", "gnn_explore"))


@pytest.fixture(scope="module")
def router():
    from agents import registry
    from graphs.router import Router
    from tools.embedding import load_embedder

    return Router(registry(), load_embedder())


@pytest.mark.parametrize("request_text", [
    "profile GraphSAGE on the digits graph with fan-out 10/5",
    "find the fastest GNN training configuration within 1% accuracy",
    "how much peak memory does neighbour sampling with fanout 25/10 need for a graph neural network",
    "compare cluster-GCN with full-batch training on a power-law graph",
    "fit the performance model of GNN training and report its held-out error",
])
def test_gnn_requests_route_to_the_hardware_architect(router, request_text: str) -> None:
    decision = router.route(request_text)
    assert decision.agent == "hardware_architect", decision.as_json()


def test_supervisor_answers_a_gnn_request_end_to_end(settings_none) -> None:
    from chipcrew.app import ChipCrew

    turn = ChipCrew(settings_none).ask("profile GraphSAGE on the karate club with fan-out 3/3, batch size 8, "
                                       "hidden 16, 3 epochs on cpu")
    assert turn.agent == "hardware_architect" and turn.tool_calls[0]["tool"] == "gnn_profile"
    assert "ms per epoch" in turn.answer and "karate" in turn.answer
