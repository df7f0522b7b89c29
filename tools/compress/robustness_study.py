"""MoreauPruner's robustness study: how much a structured-pruning mask moves when the weights move a little.

Wang et al. (arXiv 2406.07017, Sec. 5) show that a one-shot gradient score (LLM-Pruner's Taylor importance)
picks different structures once the weights are rounded to bf16 instead of fp16, and that the Moreau-envelope
gradient does not. Transposed here: for each seed (calibration windows, MoreauPruner's noise, the perturbation),
each method (``taylor``, ``moreau``) computes its mask at ``sparsity`` from the fp32 weights, the bf16- and
fp16-rounded weights and the fp32 weights plus relative Gaussian noise (``perturb``); every mask is applied to the
fp32 model and scored by held-out perplexity. Reported per method and condition: the overlap of the mask with the
same seed's fp32 mask (share of the fp32 mask's removed head groups and MLP channels that are removed again), the
perplexity, both as mean ± sd over seeds, and the perplexity spread across conditions.

One model load serves every run (the per-run tool would reload the model and re-tokenise the corpus 24 times);
the engines are the ``prune_structured`` tool's own (``importance_plan``, ``apply_plan``, ``perplexity``).
"""

from __future__ import annotations

import copy
import json
import statistics
from typing import Literal

from pydantic import BaseModel, Field

from tools.common import ProgressFn, Timer, ToolResult, package_versions, report
from tools.compress.structured_tool import StructuredArgs

__all__ = (
    "Condition",
    "RobustnessStudyArgs",
    "RobustnessRow",
    "RobustnessSummary",
    "RobustnessStudyResult",
    "run_robustness_study",
    "summarise",
)

Condition = Literal["fp32", "bf16", "fp16", "noise"]
"""The weights an importance is computed from: fp32, rounded to bf16 / fp16, or fp32 plus relative noise."""


class RobustnessStudyArgs(StructuredArgs):
    """Methods, conditions and seeds of the study; the Wikipedia held-out split by default."""

    corpus: str | None = Field("wikipedia", description="Calibration and held-out text (default: Wikipedia).")
    methods: list[Literal["taylor", "moreau"]] = Field(["taylor", "moreau"], min_length=1)
    conditions: list[Condition] = Field(["fp32", "bf16", "fp16", "noise"], min_length=1)
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="One study per seed (authors: 3 runs).")
    perturb: float = Field(
        2**-9, gt=0.0, le=0.1, description="Relative noise std of the 'noise' condition (2^-9: half a bf16 step)."
    )
    proxy_items: int = Field(0, ge=0, le=1000, description="Proxy tasks are off: the study scores perplexity only.")
    latency: bool = Field(False, description="Latency is off: every mask has the same shapes.")


class RobustnessRow(BaseModel):
    """One method, seed and condition."""

    method: str
    seed: int
    condition: str
    kv_overlap: float = Field(description="Share of the fp32 mask's removed head groups removed again.")
    channel_overlap: float = Field(description="Share of the fp32 mask's removed MLP channels removed again.")
    perplexity: float
    seconds: float = Field(description="Importance estimate, without the evaluation. In s.")


class RobustnessSummary(BaseModel):
    """One method and condition over the seeds."""

    method: str
    condition: str
    kv_overlap: float
    kv_overlap_sd: float
    channel_overlap: float
    channel_overlap_sd: float
    perplexity: float
    perplexity_sd: float


class RobustnessStudyResult(ToolResult):
    """Every run, the summaries, and the dense model's perplexity on the same held-out windows."""

    corpus: str
    sparsity: float
    dense_perplexity: float
    rows: list[RobustnessRow]
    summaries: list[RobustnessSummary]
    ppl_spread: dict[str, float] = Field(
        description="Per method: mean over seeds of (max - min) perplexity across the conditions."
    )


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(rows: list[RobustnessRow]) -> tuple[list[RobustnessSummary], dict[str, float]]:
    """Mean ± sd over seeds per method and condition, and per method the mean over seeds of the perplexity
    spread across conditions (also merges studies run one seed at a time)."""
    methods = list(dict.fromkeys(r.method for r in rows))
    conditions = list(dict.fromkeys(r.condition for r in rows))
    seeds = list(dict.fromkeys(r.seed for r in rows))
    summaries = []
    for method in methods:
        for cond in conditions:
            sel = [r for r in rows if r.method == method and r.condition == cond]
            kv, ch, ppl = ([getattr(r, k) for r in sel] for k in ("kv_overlap", "channel_overlap", "perplexity"))
            summaries.append(
                RobustnessSummary(
                    method=method,
                    condition=cond,
                    kv_overlap=statistics.mean(kv),
                    kv_overlap_sd=_sd(kv),
                    channel_overlap=statistics.mean(ch),
                    channel_overlap_sd=_sd(ch),
                    perplexity=statistics.mean(ppl),
                    perplexity_sd=_sd(ppl),
                )
            )
    spread = {
        m: statistics.mean(
            max(r.perplexity for r in rows if r.method == m and r.seed == s)
            - min(r.perplexity for r in rows if r.method == m and r.seed == s)
            for s in seeds
        )
        for m in methods
    }
    return summaries, spread


def run_robustness_study(args: RobustnessStudyArgs, progress: ProgressFn | None = None) -> RobustnessStudyResult:
    """Masks and perplexities of every method x condition x seed (see the module docstring).

    Example:
        >>> r = run_robustness_study(RobustnessStudyArgs(seeds=[0]))  # doctest: +SKIP
        >>> r.summaries[0].condition  # doctest: +SKIP
        'fp32'
    """
    from tools.compress.corpus import load_split, windows
    from tools.compress.loading import load_model
    from tools.compress.metrics import perplexity
    from tools.compress.structured import apply_plan, mask_overlap
    from tools.compress.structured_tool import calibration_batches, importance_plan

    with Timer() as timer:
        report(progress, "loading the model", 0.0)
        model, tok = load_model(args.model, args.cache_dir, args.device)
        _, calib_stream, heldout = load_split(tok, args.corpus)
        evals = windows(heldout, args.eval_seq_len, max(1, args.eval_tokens // args.eval_seq_len))
        dense = perplexity(model, evals)
        cached: dict[str, float] = {}  # identical masks are scored once

        def score(plan) -> float:
            key = json.dumps(plan.to_json(), sort_keys=True)
            if key not in cached:
                pruned = copy.deepcopy(model)
                apply_plan(pruned, plan)
                cached[key] = perplexity(pruned, evals)
            return cached[key]

        rows: list[RobustnessRow] = []
        runs = [(s, m) for s in args.seeds for m in args.methods]
        for i, (seed, method) in enumerate(runs):
            calib = calibration_batches(calib_stream, args, method, seed).to(args.device)
            reference = None
            for j, cond in enumerate(args.conditions):
                frac = (i + j / len(args.conditions)) / len(runs)
                report(progress, f"seed {seed}, {method} on {cond} weights", frac)
                precision = "fp32" if cond == "noise" else cond
                with Timer() as t:
                    plan = importance_plan(
                        model, calib, args, method, precision, args.perturb if cond == "noise" else 0.0, seed
                    )
                if reference is None and cond != "fp32":
                    reference = importance_plan(model, calib, args, method, "fp32", 0.0, seed)
                reference = reference or plan
                overlap = mask_overlap(reference, plan)
                rows.append(
                    RobustnessRow(
                        method=method,
                        seed=seed,
                        condition=cond,
                        kv_overlap=overlap["kv_groups"],
                        channel_overlap=overlap["channels"],
                        perplexity=score(plan),
                        seconds=t.seconds,
                    )
                )
    summaries, spread = summarise(rows)
    return RobustnessStudyResult(
        corpus=args.corpus or "pydoc",
        sparsity=args.sparsity,
        dense_perplexity=dense,
        rows=rows,
        summaries=summaries,
        ppl_spread=spread,
        seed=args.seeds[0],
        seconds=timer.seconds,
        versions=package_versions("torch", "transformers"),
    )
