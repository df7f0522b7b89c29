"""OPC recipe benchmark (issue 17): searched vs random vs default recipes, tree transfer, summary faithfulness.

1. Training clips (StdMetal and the first 120 StdContact, evenly spaced subsets): the contextual-bandit search
   and random search, each with the same budget of solver runs per clip (the default recipe is run 1 of both);
   optionally PPO (``ppo=True``). Reported: J cut against the default (best run no worse than the default in
   L2, EPE and PV band), and the best J cut with no such condition.
2. (full only) The cross-validation on the training clips that chose the tree's fitting rules
   (``tools.opc.recipe_cv``: fit on one family, apply to the other; leave one clip out), rerun and reported,
   with whether its choice is still ``fit_tree``'s default. No held-out clip takes part.
3. The recipe tree fitted on the bandit's recipes (``run_opc_recipe`` stage ``fit``) is applied to held-out
   clips (ICCAD13 and the last 45 StdContact): J change against the default on every one, and the share of the
   searched gain it keeps on the held-out clips that also get a reference search (searched for measurement
   only; the tree never sees them). Reported twice: the tree's recipe as is, and guarded (the tool's
   verification run: where the tree's mask is worse than the default's in J or in any metric, the default is
   kept). The searched gain is under the search's condition (no metric worse), the raw tree's is not, so the
   guarded share is the like-for-like one. A third variant, "tree + verify", guards on J alone: the tree's
   recipe is deployed, its result checked against the default run on the same clip (both are run anyway) and
   the lower J kept, so it is never worse than the default by construction; the issue-17 tree targets are
   reported for all three, and the README says which one meets them.
4. The summary: valid JSON, faithfulness mismatches (0 required with the template or embedded backend).

Every solver run is logged (``<out>/runs/<clip>.jsonl``), so an interrupted benchmark resumes where it stopped.
Published numbers: Chen et al. (AAAI 2025) publish no code and no numbers on these clips or this cost, so the
table has no published row to stand beside (the LithoBench StdMetal averages in metal/README.md are pixel-ILT
masks under another raster and EPE convention, not recipes for model-based OPC).

Run:  chipcrew bench opc-recipe [--quick] --out runs/recipe
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tools.common import package_versions, report

__all__ = ("NAME", "DESCRIPTION", "SIZES", "SummaryBackend", "run_recipe_bench", "run_bench", "to_markdown")

NAME = "opc-recipe"
DESCRIPTION = "OPC recipe search (bandit vs random vs default), recipe-tree transfer to held-out clips, summary check"
BUDGETS: dict[str, int] = {"quick": 24, "full": 32}
"""Solver runs per clip (the issue allows up to 32); --quick uses 24 to fit its 10 minutes."""
SummaryBackend = Literal["none", "embedded"]
"""Who phrases the benchmark's summary: the template, or the embedded model (checked against the tree like any)."""
SIZES: dict[str, dict[str, int]] = {
    # train metal, train contact, test iccad13, test contact, reference searches among the iccad13 / contact tests
    "quick": {"metal": 2, "contact": 1, "iccad13": 1, "test_contact": 2, "ref_iccad13": 1, "ref_contact": 1, "tree_cv": 0},
    "full": {"metal": 10, "contact": 5, "iccad13": 10, "test_contact": 45, "ref_iccad13": 3, "ref_contact": 4, "tree_cv": 1},
}
"""Clip counts per size. Budget (2-core CPU, ~1.5 s per solver run with SRAF/process-window recipes): quick =
3 x 24 x 2 + 2 x 24 + 3 x 2 = 198 runs (~5 min quiet), full = 15 x 32 x 2 + 7 x 32 + 55 x 2 = 1,294 runs
(~33 min quiet), plus at most 2 x 4 x 15 = 120 tree runs of the cross-validation that chose the tree's fitting
rules (``tools.opc.recipe_cv``; identical tree recipes are solved once). ``tree_cv`` 0: --quick's three training
clips make folds of one or two clips, which choose nothing, so it skips the cross-validation."""


def _spread(names: list[str], n: int) -> list[str]:
    """``n`` names evenly spaced over the sorted list (deterministic, covers the whole family)."""
    if n >= len(names):
        return list(names)
    return [names[i] for i in np.linspace(0, len(names) - 1, n).round().astype(int)]


def _clips(size: dict[str, int]) -> dict[str, list[str]]:
    from tools.opc.splits import split_clips

    train, test = split_clips("train"), split_clips("test")
    iccad, contact = _spread(test["iccad13"], size["iccad13"]), _spread(test["contact"], size["test_contact"])
    return {
        "train": _spread(train["metal"], size["metal"]) + _spread(train["contact"], size["contact"]),
        "test": iccad + contact,
        "reference": _spread(iccad, size["ref_iccad13"]) + _spread(contact, size["ref_contact"]),
    }


def _cut(default: float, value: float) -> float:
    return round(100.0 * (1.0 - value / max(default, 1.0)), 2)


def run_recipe_bench(
    out_dir: Path,
    quick: bool = True,
    progress: Callable[[str, float], None] | None = None,
    ppo: bool = False,
    llm: Callable[[str, Any, list[str]], str] | None = None,
    device: str = "cpu",
    threads: int = 1,
) -> dict[str, Any]:
    """Run the benchmark into ``out_dir`` (resumable) and return the result dict (also ``bench_recipe.json``).

    ``threads``: torch intra-op threads for the run (restored afterwards). One solver run is small (a 35 x 35
    spectrum, 2048^2 images), so on the shared 2-core machine one thread is faster: ``--quick`` took 6.8 min
    with one thread and 26.9 min with two at the same load (12-14), with identical results.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _run(out_dir, quick, progress, ppo, llm, device)
    finally:
        torch.set_num_threads(previous)


def _run(
    out_dir: Path,
    quick: bool,
    progress: Callable[[str, float], None] | None,
    ppo: bool,
    llm: Callable[[str, Any, list[str]], str] | None,
    device: str,
) -> dict[str, Any]:
    from tools.litho.simulator import LithoSim, resolve_device
    from tools.opc.recipe_search import search_clips
    from tools.opc.recipe_tool import OPCRecipeArgs, run_opc_recipe

    start = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    size_name = "quick" if quick else "full"
    budget = BUDGETS[size_name]
    clips = _clips(SIZES[size_name])
    sim = LithoSim(device=resolve_device(device))
    methods = ["bandit", "random"] + (["ppo"] if ppo else [])
    stages = len(methods) + 3
    searched: dict[str, list[Any]] = {}
    for k, method in enumerate(methods):
        sub = _part(progress, k / stages, (k + 1) / stages)
        searched[method] = search_clips(clips["train"], method, budget, out_dir, sim, 0, sub)
    report(progress, "reference searches on held-out clips (measurement only)", len(methods) / stages)
    reference = search_clips(clips["reference"], "bandit", budget, out_dir, sim, 0,
                             _part(progress, len(methods) / stages, (len(methods) + 1) / stages))
    cv = _tree_cv(out_dir, sim, _part(progress, (len(methods) + 1) / stages, (len(methods) + 2) / stages)) \
        if SIZES[size_name]["tree_cv"] else None
    report(progress, "fitting the recipe tree, applying it to held-out clips, summarising", (len(methods) + 2) / stages)
    tool = run_opc_recipe(
        OPCRecipeArgs(clips=clips["train"], budget=budget, stage="fit", apply_to=clips["test"], out_dir=str(out_dir),
                      device=device),
        _part(progress, (len(methods) + 2) / stages, 0.99), llm=llm,
    )
    result = _assemble(size_name, budget, clips, searched, reference, tool)
    result["tree_cv"] = cv
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["versions"] = package_versions("torch", "numpy", "scikit-learn", "gymnasium", "stable-baselines3")
    (out_dir / "bench_recipe.json").write_text(json.dumps(result, indent=1))
    report(progress, "done", 1.0)
    return result


def _tree_cv(out_dir: Path, sim: Any, progress: Callable[[str, float], None] | None) -> dict[str, Any]:
    """The training-clip cross-validation of the tree's fitting rules, its choice and ``fit_tree``'s defaults."""
    import inspect

    from tools.opc.recipe_cv import choose, cross_validate, training_clips
    from tools.opc.recipe_tree import fit_tree

    results = cross_validate(training_clips(out_dir, "bandit", sim), progress=progress)
    params = inspect.signature(fit_tree).parameters
    default = [params["switch"].default, params["leaves"].default]
    choice = list(choose(results))
    return {"results": [r.model_dump() for r in results], "choice": choice, "fit_default": default,
            "choice_is_default": choice == default}


def _part(progress: Callable[[str, float], None] | None, lo: float, hi: float) -> Callable[[str, float], None] | None:
    return None if progress is None else (lambda m, f: progress(m, lo + (hi - lo) * f))


def _assemble(size: str, budget: int, clips: dict[str, list[str]], searched: dict[str, list[Any]], reference: list[Any], tool: Any) -> dict[str, Any]:
    rows = []
    for i, clip in enumerate(clips["train"]):
        d = searched["bandit"][i].default
        row: dict[str, Any] = {"clip": clip, "default": d.model_dump()}
        for method, found in searched.items():
            s = found[i]
            row[method] = {"best": s.best.model_dump(), "j_cut_pct": _cut(d.cost, s.best.cost),
                           "j_cut_any_pct": _cut(d.cost, s.best_any.cost),
                           "j_cut_near_pct": _cut(d.cost, s.best_near.cost), "new_runs": s.new_runs,
                           "worse_metric": not (s.best.l2 <= d.l2 and s.best.pvb <= d.pvb and s.best.epe <= d.epe)}
        rows.append(row)
    ref = {s.clip: s for s in reference}
    held = []
    for a in tool.applied:
        entry: dict[str, Any] = {"clip": a.clip, "default": a.default.model_dump(), "tree": a.tree.model_dump(),
                                 "j_change_pct": a.j_change_pct, "fallback": a.fallback,
                                 "guarded_j_change_pct": a.guarded_j_change_pct}
        if a.clip in ref:
            entry["searched_j_cut_pct"] = _cut(a.default.cost, ref[a.clip].best.cost)
            entry["searched_gain"] = a.default.cost - ref[a.clip].best.cost
            entry["tree_gain"] = a.default.cost - a.tree.cost
            entry["guarded_gain"] = 0.0 if a.fallback else entry["tree_gain"]
            entry["verified_gain"] = max(entry["tree_gain"], 0.0)
        entry["verified_j_change_pct"] = min(a.j_change_pct, 0.0)
        held.append(entry)
    with_ref = [h for h in held if "searched_gain" in h]
    gain_s = sum(h["searched_gain"] for h in with_ref)
    aggregate: dict[str, Any] = {}
    for method in searched:
        cuts = [r[method]["j_cut_pct"] for r in rows]
        aggregate[method] = {"mean_j_cut_pct": round(float(np.mean(cuts)), 2),
                             "mean_j_cut_any_pct": round(float(np.mean([r[method]["j_cut_any_pct"] for r in rows])), 2),
                             "mean_j_cut_near_pct": round(float(np.mean([r[method]["j_cut_near_pct"] for r in rows])), 2),
                             "clips_worse_metric": sum(r[method]["worse_metric"] for r in rows)}
    fallbacks = {"tree": 0, "guarded": sum(h["fallback"] for h in held),
                 "verified": sum(h["j_change_pct"] > 0 for h in held)}
    for name, change, gain in (("tree", "j_change_pct", "tree_gain"),
                               ("guarded", "guarded_j_change_pct", "guarded_gain"),
                               ("verified", "verified_j_change_pct", "verified_gain")):
        aggregate[name] = {
            "mean_j_change_pct": round(float(np.mean([h[change] for h in held])), 2) if held else None,
            "worst_j_change_pct": max((h[change] for h in held), default=None),
            "clips_worse_by_1pct": sum(h[change] > 1.0 for h in held),
            "gain_kept_share": round(sum(h[gain] for h in with_ref) / gain_s, 3) if gain_s > 0 else None,
            "reference_clips": len(with_ref),
            "fallbacks": fallbacks[name],
        }
    aggregate["summary"] = {"backend": tool.summary_backend, "valid_json": tool.summary_valid_json,
                            "mismatches": len(tool.mismatches), "rejected_draft": len(tool.rejected_draft)}
    targets = {
        "searched_cut_ge_10pct": aggregate["bandit"]["mean_j_cut_pct"] >= 10.0,
        "beats_random_by_2pts": aggregate["bandit"]["mean_j_cut_pct"] - aggregate["random"]["mean_j_cut_pct"] >= 2.0,
        "no_metric_worse_than_default": aggregate["bandit"]["clips_worse_metric"] == 0,
        "tree_keeps_half_the_gain": (aggregate["tree"]["gain_kept_share"] or 0.0) >= 0.5,
        "tree_never_worse_by_1pct": aggregate["tree"]["clips_worse_by_1pct"] == 0,
        "guarded_tree_keeps_half_the_gain": (aggregate["guarded"]["gain_kept_share"] or 0.0) >= 0.5,
        "guarded_tree_never_worse_by_1pct": aggregate["guarded"]["clips_worse_by_1pct"] == 0,
        "verified_tree_keeps_half_the_gain": (aggregate["verified"]["gain_kept_share"] or 0.0) >= 0.5,
        "verified_tree_never_worse_by_1pct": aggregate["verified"]["clips_worse_by_1pct"] == 0,
        "summary_valid_and_faithful": bool(tool.summary_valid_json) and not tool.mismatches,
    }
    return {"size": size, "budget": budget, "clips": clips, "train": rows, "held_out": held, "aggregate": aggregate,
            "targets": targets, "rules": tool.summary.model_dump()["rules"] if tool.summary else [],
            "summary": tool.summary.model_dump() if tool.summary else None,
            "mismatches": [m.model_dump() for m in tool.mismatches], "artifacts": tool.artifacts}


def to_markdown(result: dict[str, Any]) -> str:
    """The report: per training clip, the aggregates, the held-out table, targets met or not."""
    methods = [m for m in ("bandit", "random", "ppo") if m in result["aggregate"]]
    head = "| clip | J default | " + " | ".join(f"{m} J cut % [1 %] (any)" for m in methods) + " | bandit L2 / PVB / EPE |"
    lines = [f"## OPC recipe search ({result['size']}, {result['budget']} solver runs per clip)", "", head,
             "|---|---:|" + "---:|" * len(methods) + "---|"]
    for r in result["train"]:
        cells = " | ".join(f"{r[m]['j_cut_pct']:.1f} [{r[m]['j_cut_near_pct']:.1f}] ({r[m]['j_cut_any_pct']:.1f})"
                           for m in methods)
        b = r["bandit"]["best"]
        lines.append(f"| {r['clip']} | {r['default']['cost']:,.0f} | {cells} | {b['l2']:,} / {b['pvb']:,} / {b['epe']} |")
    agg = result["aggregate"]
    cells = " | ".join(f"**{agg[m]['mean_j_cut_pct']:.2f}** [{agg[m]['mean_j_cut_near_pct']:.2f}] "
                       f"({agg[m]['mean_j_cut_any_pct']:.2f})" for m in methods)
    lines += [f"| mean | | {cells} | |", ""]
    lines += ["J cut: best run no worse than the default in L2, EPE, PV band and mask rules; [1 %]: L2 and PV band "
              "allowed 1 % above the default; (any): best J with no such condition.",
              "", "## Recipe tree on held-out clips", "",
              "| clip | J default | J tree | change % | guarded % | verified % | searched cut % |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for h in result["held_out"]:
        ref = f"{h['searched_j_cut_pct']:.1f}" if "searched_j_cut_pct" in h else "–"
        lines.append(f"| {h['clip']} | {h['default']['cost']:,.0f} | {h['tree']['cost']:,.0f} | {h['j_change_pct']:+.2f} "
                     f"| {h['guarded_j_change_pct']:+.2f} | {h['verified_j_change_pct']:+.2f} | {ref} |")
    lines.append("")
    cv = result.get("tree_cv")
    if cv:
        lines += ["## Tree fitting rules: cross-validation on the training clips", "",
                  "| switch | leaves | folds | worst clip J change % | clips worse by > 1 % | mean % | share kept |",
                  "|---|---|---|---:|---:|---:|---:|"]
        lines += [f"| {r['switch']} | {r['leaves']} | {r['folds']} | {r['worst_j_change_pct']:+.2f} ({r['worst_clip']}) "
                  f"| {r['clips_worse_by_1pct']} | {r['mean_j_change_pct']:+.2f} | {r['gain_kept_share']} |"
                  for r in cv["results"]]
        lines += ["", f"Chosen: switch {cv['choice'][0]}, leaves {cv['choice'][1]} (fit_tree's default: "
                  f"{'yes' if cv['choice_is_default'] else 'NO'}).", ""]
    for name in ("tree", "guarded", "verified"):
        t = agg[name]
        lines.append(f"{name.capitalize()}: mean J change {t['mean_j_change_pct']}%, worst {t['worst_j_change_pct']}%, "
                     f"{t['clips_worse_by_1pct']} clips worse than the default by > 1%, share of the searched gain kept "
                     f"{t['gain_kept_share']} (on {t['reference_clips']} clips with a reference search); "
                     f"{t['fallbacks']} fallbacks to the default.")
    lines += [f"Summary: {agg['summary']['backend']}, valid JSON {agg['summary']['valid_json']}, "
              f"{agg['summary']['mismatches']} faithfulness mismatches.", "", "Published: none comparable (see "
              "eval/bench_recipe.py).", "", "| target | met |", "|---|---|"]
    lines += [f"| {k} | {'yes' if v else 'NO'} |" for k, v in result["targets"].items()]
    lines.append(f"\n_{result['seconds']:.0f} s_")
    return "\n".join(lines)


def run_bench(out_dir: Path, quick: bool = True, progress: Callable[[str, float], None] | None = None) -> dict[str, Any]:
    """The registry entry (``eval.benchmarks``): the template summary, no PPO."""
    return run_recipe_bench(out_dir, quick, progress)
