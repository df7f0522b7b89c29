"""Tool: search OPC recipes on training clips, fit the recipe tree, apply it to held-out clips, summarise.

The Intelligent OPC Engineer Assistant's loop (Chen et al., AAAI 2025) on the project's engine: recipe search
per clip (``recipe_search``), an interpretable tree over topology (``recipe_tree``), the tree's recipe run on
clips never searched, and a summary written by the configured LLM or the template (``recipe_summary``),
checked for faithfulness. Applying the tree to a clip is verified the way an OPC flow verifies a recipe
before tape-out: the default recipe is run too, and where the tree's mask simulates worse than the default's
(higher J, or worse in L2, EPE, PV band or mask rules: the search's own acceptance condition) the clip falls
back to the default (``guarded``); the unguarded tree result is reported beside it. Stages let a caller resume: ``search`` only, ``fit`` (tree from the runs already in
``out_dir``), ``apply`` (tree already in ``out_dir``), or ``all``.

Artefacts in the run folder: ``runs/<clip>.jsonl`` (every solver run, append-only), ``recipe_tree.json``,
``recipe_rules.txt``, ``recipe_summary.json``, ``<clip>_default_print.png`` / ``<clip>_tree_print.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.opc.recipe import Recipe, RunMetrics
from tools.opc.recipe_summary import Mismatch, RecipeSummary, SummaryLLM, TableRow, write_summary
from tools.opc.recipe_tree import TreeRule

__all__ = ("OPCRecipeArgs", "OPCRecipeResult", "SearchRow", "ApplyRow", "run_opc_recipe", "DEFAULT_CLIPS", "searched_recipes")

DEFAULT_CLIPS: tuple[str, ...] = ("metal:AND2_X4__0_0", "metal:AND3_X2__0_0", "AND2_X4__0_0", "AOI21_X2__0_0")
"""Training clips searched when the request names none (two StdMetal, two StdContact)."""


class OPCRecipeArgs(BaseModel):
    """Arguments of ``run_opc_recipe``."""

    clips: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CLIPS),
        description="Training clips to search: metal:<name> (StdMetal) or one of the first 120 StdContact clips. "
        "ICCAD13 clips and the last 45 contact clips are held out and refused here.",
    )
    budget: int = Field(default=16, ge=1, le=32, description="Solver runs per clip, the default recipe included.")
    method: Literal["bandit", "ppo", "random"] = Field(
        default="bandit", description="bandit (contextual bandit, the default), ppo (stable-baselines3) or random."
    )
    apply_to: list[str] = Field(
        default_factory=lambda: ["M1_test1"], description="Held-out clips the fitted tree is applied to."
    )
    depth: int = Field(default=4, ge=1, le=4, description="Decision-tree depth.")
    stage: Literal["all", "search", "fit", "apply"] = Field(
        default="all", description="all; search only; fit the tree from runs already in out_dir; apply the tree "
        "already in out_dir."
    )
    llm_mode: Literal["phrasing", "llm"] = Field(
        default="phrasing", description="How a configured LLM is used: phrasing (prose only) or llm (whole JSON)."
    )
    seed: int = Field(default=0, description="Search seed.")
    out_dir: str | None = Field(default=None, description="Run folder (resume: the same folder); None = a fresh one.")
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="Torch device of the litho engine.")


class SearchRow(BaseModel):
    clip: str
    runs: int
    new_runs: int
    default: RunMetrics
    best: RunMetrics
    best_recipe: Recipe
    j_cut_pct: float = Field(description="J reduction of the best recipe against the default. In %.")


class ApplyRow(BaseModel):
    clip: str
    default: RunMetrics
    tree: RunMetrics
    j_change_pct: float = Field(description="J of the tree's recipe against the default, + = worse. In %.")
    fallback: bool = Field(default=False, description="The tree's mask simulated worse (J or any metric), so the "
                           "default is kept.")
    guarded_j_change_pct: float = Field(default=0.0, description="J change after the verification fallback. In %.")


class OPCRecipeResult(ToolResult):
    method: str
    budget: int
    searches: list[SearchRow] = Field(default_factory=list)
    rules: list[TreeRule] = Field(default_factory=list)
    globals: Recipe | None = None
    applied: list[ApplyRow] = Field(default_factory=list)
    summary: RecipeSummary | None = None
    summary_backend: str | None = None
    summary_valid_json: bool | None = None
    mismatches: list[Mismatch] = Field(default_factory=list)
    rejected_draft: list[Mismatch] = Field(default_factory=list)


def searched_recipes(folder: Path, method: str) -> list[tuple[str, RunMetrics, RunMetrics, Recipe]]:
    """``(clip, default, best feasible, best recipe)`` from the run logs in ``folder`` for ``method``.

    Held-out clips (searched only for reference) are left out.
    """
    from tools.opc.splits import is_test_clip
    from tools.opc.recipe_env import feasible
    from tools.opc.recipe_runs import RunLog

    out = []
    for path in sorted((folder / "runs").glob("*.jsonl")):
        first = path.read_text().split("\n", 1)[0]
        if not first.strip():
            continue
        clip = json.loads(first)["clip"]
        if is_test_clip(clip):
            continue
        runs = RunLog(folder, clip).runs(method)
        default = next((r.metrics for r in runs if r.recipe == Recipe()), None)
        if default is None:
            continue
        ok = [r for r in runs if feasible(r.metrics, default)]
        best = min(ok, key=lambda r: r.metrics.cost)
        out.append((clip, default, best.metrics, best.recipe))
    return out


def run_opc_recipe(
    args: OPCRecipeArgs, progress: ProgressFn | None = None, llm: SummaryLLM | None = None, instructions: str = ""
) -> OPCRecipeResult:
    """Search -> tree -> apply -> summary (or one stage of it); see the module docstring.

    Raises:
        InputError: a held-out or unknown clip to search, an empty clip, a tree asked for before any search.
    """
    from tools.litho.simulator import LithoSim, resolve_device
    from tools.opc.splits import is_test_clip

    from tools.litho.clips import load_clip

    for i, clip in enumerate(args.clips):  # every name checked before anything is written
        if is_test_clip(clip):
            raise InputError(f"clips[{i}]", clip, "a training clip (metal:<name> or one of the first 120 StdContact "
                             "clips); ICCAD13 and the last 45 contact clips are held out for testing")
    for clip in [*args.clips, *args.apply_to]:
        load_clip(clip)
    folder = run_dir(args.out_dir, "opc-recipe")
    result = OPCRecipeResult(method=args.method, budget=args.budget, seed=args.seed)
    artifacts: dict[str, str] = {"runs": str(folder / "runs")}
    with Timer() as total:
        sim = LithoSim(device=resolve_device(args.device))
        if args.stage in ("all", "search"):
            result.searches = _search(args, folder, sim, progress)
        if args.stage in ("all", "fit"):
            tree = _fit(args, folder)
            artifacts |= tree.save(folder)
        if args.stage in ("all", "fit", "apply"):
            _apply(args, folder, sim, result, artifacts, llm, instructions, progress)
    report(progress, "done", 1.0)
    result.seconds = round(total.seconds, 3)
    result.versions = package_versions("torch", "numpy", "scikit-learn", "gymnasium")
    result.artifacts = artifacts
    return result


def _search(args: OPCRecipeArgs, folder: Path, sim: object, progress: ProgressFn | None) -> list[SearchRow]:
    from tools.opc.recipe_search import search_clips

    sub = None if progress is None else (lambda m, f: progress(m, 0.7 * f))
    found = search_clips(list(args.clips), args.method, args.budget, folder, sim, args.seed, sub)
    return [SearchRow(clip=s.clip, runs=s.runs, new_runs=s.new_runs, default=s.default, best=s.best,
                      best_recipe=s.best_recipe, j_cut_pct=round(s.reduction, 2)) for s in found]


def _fit(args: OPCRecipeArgs, folder: Path) -> object:
    from tools.litho.simulator import LithoSim
    from tools.opc.recipe_cv import training_clips
    from tools.opc.recipe_tree import fit_tree

    clips = training_clips(folder, args.method, LithoSim(device="cpu"))
    if not clips:
        raise InputError("stage", args.stage, f"'search' or 'all' first: no {args.method} search runs in {folder}")
    return fit_tree([c.sample for c in clips], args.depth, {c.name: c.gains for c in clips})


def _apply(
    args: OPCRecipeArgs,
    folder: Path,
    sim: object,
    result: OPCRecipeResult,
    artifacts: dict[str, str],
    llm: SummaryLLM | None,
    instructions: str,
    progress: ProgressFn | None,
) -> None:
    from tools.litho.images import save_print_png
    from tools.litho.metrics import corner_prints
    from tools.opc.recipe import load_problem, solve
    from tools.opc.recipe_env import feasible
    from tools.opc.recipe_tree import load_tree, solve_tree

    tree = load_tree(folder)
    result.rules, result.globals = tree.rules(), tree.globals
    table: list[TableRow] = []
    images: list[str] = []
    for i, clip in enumerate(args.apply_to):
        report(progress, f"applying the recipe tree to {clip}", 0.7 + 0.25 * i / max(len(args.apply_to), 1))
        problem = load_problem(clip, sim)
        base, base_res = solve(problem, Recipe())
        mine, mine_res = solve_tree(problem, tree)
        change = round(100.0 * (mine.cost / max(base.cost, 1.0) - 1.0), 2)
        fallback = change > 0 or not feasible(mine, base)
        result.applied.append(ApplyRow(clip=clip, default=base, tree=mine, j_change_pct=change, fallback=fallback,
                                       guarded_j_change_pct=0.0 if fallback else change))
        table.append(_row(clip, "test", "tree", base, mine))
        if i == 0:
            for tag, res in (("default", base_res), ("tree", mine_res)):
                path = folder / f"{_safe(clip)}_{tag}_print.png"
                save_print_png(problem.target, corner_prints(res.mask, problem.sim)["nominal"], path)
                artifacts[f"{tag}_print_png"] = str(path)
                images.append(str(path))
    for clip, default, best, _ in searched_recipes(folder, args.method):
        table.append(_row(clip, "train", "searched", default, best))
    report(progress, "writing the recipe summary", 0.96)
    outcome = write_summary(tree, table, images, llm, args.llm_mode, instructions)
    result.summary, result.summary_backend = outcome.summary, outcome.backend
    result.summary_valid_json, result.mismatches, result.rejected_draft = outcome.valid_json, outcome.mismatches, outcome.rejected_draft
    path = folder / "recipe_summary.json"
    path.write_text(outcome.model_dump_json(indent=1))
    artifacts["summary_json"] = str(path)


def _row(clip: str, split: str, kind: str, default: RunMetrics, value: RunMetrics) -> TableRow:
    pick = lambda m: {"J": m.cost, "L2": float(m.l2), "PVB": float(m.pvb), "EPE": float(m.epe)}  # noqa: E731
    return TableRow(clip=clip, split=split, recipe=kind, default=pick(default), value=pick(value))


def _safe(clip: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in clip)

