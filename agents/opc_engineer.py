"""The OPC engineer: mask optimisation (DiffOPC, pixel ILT, EPE-feedback OPC, CAMO RL) and lithography on one engine.

Tools:
- ``opc_list_clips``: the clips of the ICCAD13, via or contact suite;
- ``opc_simulate``: print a clip as drawn at one or all process corners (``tools.litho`` simulate tool);
- ``opc_optimize``: optimise a clip's mask with diffopc, ilt, mbopc or camo and score it (L2, PV band, EPE, shots, MRC);
- ``opc_evaluate``: score a mask file against a clip (``tools.litho`` evaluate tool);
- ``opc_recipe``: search OPC recipes for EPE-feedback OPC on training clips, fit a recipe tree over segment topology,
  apply it to held-out clips and summarise it (the configured LLM writes the summary through
  ``chipcrew.llm.adapters.recipe_summary_llm``).

The deterministic planner reads clip names (``M1_test3``, ``case 3``, ``clip 5``, via and contact clip names,
``.glp`` paths), method names in common spellings, iteration counts, segment lengths, raster convention,
corners, seeds, devices and mask paths; anything the request does not mention is left to the tool's defaults.
"""

from __future__ import annotations

import re
from typing import Any

from agents.base import AgentSpec, ToolCall, ToolSpec
from agents.parsing import (
    LENGTH,
    SEED,
    artifact_lines,
    counted,
    device,
    file_pattern,
    first_int,
    first_match,
    length_nm,
    mentions,
    out_dir,
    put_int,
    render_by_type,
    seed_list,
)
from chipcrew.llm.adapters import recipe_summary_llm
from chipcrew.llm.base import LLMClient
from prompts import load_prompt
from tools.common import ChipCrewError, ProgressFn
from tools.litho.clips import list_clips
from tools.litho.evaluate_tool import LithoEvaluateArgs, LithoEvaluateResult, run_litho_evaluate
from tools.litho.metrics import MaskMetrics
from tools.litho.simulate_tool import LithoSimulateArgs, LithoSimulateResult, run_litho_simulate
from tools.opc.clips_tool import OPCListClipsArgs, OPCListClipsResult, run_opc_list_clips
from tools.opc.optimize_tool import OPCOptimizeArgs, OPCOptimizeResult, run_opc_optimize
from tools.opc.recipe_tool import OPCRecipeArgs, OPCRecipeResult, run_opc_recipe

__all__ = ("AGENT", "plan", "render", "run_recipe")

_F = re.I
_ICCAD = (
    re.compile(r"\bm1[_\s-]*test[_\s-]*(\d+)\b", _F),
    re.compile(r"\b(?:case|test|clip|testcase)[_\s#-]*(?:no\.?\s*)?(\d+)\b", _F),
)
_VIA_NAME = re.compile(r"\baes_via1__\d+_\d+\b", _F)
_CONTACT_NAME = re.compile(r"\b[A-Z][A-Z0-9]*_X\d+__\d+_\d+\b", _F)
_FILE = file_pattern("glp", "gds", "oas", "npy", "png")
_METHODS = (
    ("camo", re.compile(r"\bcamo\b|reinforcement[\s-]+learn\w*|\brl\b|\bppo\b", _F)),
    ("mbopc", re.compile(r"\bmb[\s-]?opc\b|model[\s-]based|rule[\s-]based|epe[\s-]feedback|conventional\s+opc|simple\s*opc", _F)),
    ("ilt", re.compile(r"\bilt\b|inverse\s+litho\w*|pixel[\s-]*(?:based\s+)?(?:ilt|opt\w*|mask)|simple\s*ilt|openilt", _F)),
    ("diffopc", re.compile(r"diff[\s-]?opc|differentiable|edge[\s-]based|gradient[\s-]based\s+edge", _F)),
)
_ITERATIONS = counted(r"iterations?|iters?|steps?|epochs?|rounds?")
_FRAGMENT = r"(?:segments?|fragments?|fragmentation|seg(?:ment)?[\s_-]*length)"
_SEGMENT_LENGTH = (
    re.compile(rf"{LENGTH}\s+(?:long\s+)?{_FRAGMENT}\b", _F),
    re.compile(rf"\b{_FRAGMENT}\s*(?:of|=|:|is|at)?\s*{LENGTH}", _F),
)
_SEGMENT = (re.compile(r"\bseg(?:ment)?(?:[\s_-]*length)?\s*(?:of|=|:|is)?\s*(-?\d+)\s*(?:nm)?\b", _F),)
_INCLUSIVE = re.compile(r"\binclusive\b|\bcv2\b|fillpoly|openilt[\s-]+(?:raster|convention)", _F)
_EXACT = re.compile(r"\bexact\s+raster|\braster\s*(?:=|:)?\s*exact\b|\bexact\s+convention", _F)
_LIST = re.compile(r"\b(?:list|which|what|show|available|how\s+many)\b.*\bclips?\b|\bclips?\b.*\b(?:available|are\s+there)\b", _F)
_EVALUATE = re.compile(r"\b(?:evaluate|score|check|grade|rate|measure|assess)\b", _F)
_OPTIMIZE = re.compile(
    r"\b(?:optimi[sz]\w*|opc\b|correct\w*|improve|reduce|minimi[sz]e|fix|run\s+(?:diff|ilt|mb))|\bilt\b|"
    r"diff[\s-]?opc|mb[\s-]?opc|\bcamo\b|inverse\s+litho|\bsraf|\bmatch(?:es)?\s+the\s+target",
    _F,
)
_SIMULATE = re.compile(r"\b(?:simulat\w*|print\w*|aerial|image|litho(?:graphy)?\s+sim\w*)\b", _F)
_CORNERS = (
    ("all", re.compile(r"\ball\s+(?:three\s+)?corners|\bpv[\s-]*band|process\s+(?:window|variation|corners)|\bthree\s+corners", _F)),
    ("min", re.compile(r"\bmin(?:imum)?\s+(?:dose\s+)?corner|\bdefocus|\blow\s+dose|dose\s+0\.98", _F)),
    ("max", re.compile(r"\bmax(?:imum)?\s+(?:dose\s+)?corner|\bhigh\s+dose|dose\s+1\.02|\boverdose", _F)),
    ("nominal", re.compile(r"\bnominal\b|\bbest\s+focus\b", _F)),
)
_SUITES = (("contact", re.compile(r"\bcontacts?\b|std\s*contact|standard[\s-]cell", _F)),
           ("via", re.compile(r"\bvias?\b|\bvia1\b", _F)),
           ("iccad13", re.compile(r"\biccad|\bm1\b|\bmetal\b", _F)))
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_VIA_INDEX = re.compile(
    r"\bvia(?:1)?\s+(?:clip\s+)?(?:#|no\.?\s*)?(\d+)\b|\b(\d+)(?:st|nd|rd|th)\s+via\b|"
    rf"\b({'|'.join(_ORDINALS)})\s+via\b",
    _F,
)
_POSITION = re.compile(
    r"[\s,]*(?:(?:via|contact|clip|tile|cell|pattern)s?\s+)*(?:(?:located|placed|sitting)\s+)?(?:(?:at|@)\s*)?"
    r"(?:(?:position|pos\.?|coordinates?|offset)\s+)?\(?\s*(?:x\s*=?\s*)?(\d+)\s*(?:,|/|_|\s)\s*(?:y\s*=?\s*)?(\d+)\s*\)?",
    _F,
)
_MANY = re.compile(r"\bclips\b|\bsuite\b|\bbenchmark\b|\bevery\s+clip\b", _F)
"""A request about a whole suite: the answer lists its clips (a single-clip tool cannot do it)."""
_ONE_CLIP = re.compile(r"\b(?:the|a|one|this|that)\s+(?:\w+\s+){1,2}clip\b(?!s)", _F)
_RECIPE = re.compile(r"\brecipes?\b|\bopc\s+deck\b|\brule\s+(?:deck|script)\b", _F)
_METAL_NAME = re.compile(r"\bmetal:[A-Z][A-Z0-9]*_X\d+__\d+_\d+\b", _F)
_BUDGET = counted(r"runs?|trials?|attempts?|tries|evaluations?|budget", qualifier=r"solver|search")
_SEARCHERS = (("ppo", re.compile(r"\bppo\b|\bpolicy\s+gradient", _F)),
              ("random", re.compile(r"\brandom(?:ly)?\b", _F)),
              ("bandit", re.compile(r"\bbandit\b", _F)))
_LAYER = re.compile(r"\blayer\s*(?:=|:|#)?\s*(\d+)\b", _F)  # the GDS/OASIS layer of a file clip
_AS_DRAWN = re.compile(r"\bas\s+drawn\b|\bwithout\s+(?:any\s+)?(?:opc|correction)\b|\bno\s+opc\b|\buncorrected\b", _F)


def plan(request: str) -> ToolCall:
    """Pick the tool from the request's intent, then fill only the arguments it mentions.

    Order: a recipe request -> ``opc_recipe``; a listing question, a request about a whole suite, or one that names
    no clip and no action -> ``opc_list_clips``, so that the answer shows the names to choose from; an action on
    one clip that names none plans the tool without ``clip`` (the session supplies the last clip, or the agent asks
    for one with the accepted names); a mask file to score ->
    ``opc_evaluate``; an optimisation word or method name -> ``opc_optimize``; a simulation/print word ->
    ``opc_simulate``; otherwise ``opc_optimize`` (the agent's main job). "The via clip" (one clip of a suite,
    none named) is the suite's first clip.
    """
    files = [(m[1], m[2].lower()) for m in _FILE.finditer(request)]
    masks = [path for path, ext in files if ext in ("npy", "png") or (ext in ("gds", "oas") and _EVALUATE.search(request))]
    words = _FILE.sub(" ", request)  # names inside paths are not clip names
    if _RECIPE.search(words):
        return _plan_recipe(words)
    suite = next((name for name, pat in _SUITES if pat.search(words)), None)
    clip = _clip(words, [path for path, ext in files if path not in masks])
    if clip is None and suite and _ONE_CLIP.search(words) and not _LIST.search(words):
        clip = _clip_of_suite(suite, 1)
    methods = mentions(words, _METHODS)
    simulate = _AS_DRAWN.search(words) or (_SIMULATE.search(words) and not _OPTIMIZE.search(words))
    acts = methods or _OPTIMIZE.search(words) or simulate or (masks and _EVALUATE.search(request))
    if clip is None and (_LIST.search(words) or _MANY.search(words) or not acts):
        return ToolCall(tool="opc_list_clips", args={"suite": suite} if suite else {})
    named = {"clip": clip} if clip else {}  # no clip: the agent asks for one (or the session supplies it)
    if masks and (_EVALUATE.search(request) or not _OPTIMIZE.search(request)):
        return ToolCall(tool="opc_evaluate", args={"mask": masks[0], **named} | _common(words))
    if not methods and simulate:
        args = dict(named)
        corners = mentions(words, _CORNERS)  # the first one said, when a request names two
        if corners:
            args["corner"] = corners[0]
        put_int(args, "layer", words, _LAYER)
        return ToolCall(tool="opc_simulate", args=args | _common(words))
    args = dict(named)
    sweep: dict[str, list[Any]] = {}
    if len(methods) > 1:
        sweep["method"] = methods
    elif methods:
        args["method"] = methods[0]
    put_int(args, "iterations", words, _ITERATIONS)
    segment = first_match(words, *_SEGMENT_LENGTH)
    if segment:
        args["segment_length_nm"] = round(length_nm(segment[1], segment[2]))
    else:
        put_int(args, "segment_length_nm", words, *_SEGMENT)
    put_int(args, "layer", words, _LAYER)
    seeds = seed_list(words)
    if seeds:
        sweep["seed"] = seeds
    else:
        put_int(args, "seed", words, SEED)
    return ToolCall(tool="opc_optimize", args=args | _common(words), sweep=sweep)


def _plan_recipe(text: str) -> ToolCall:
    """``opc_recipe``: metal:<name> and contact names to search, ICCAD13 clips to apply the tree to, budget, method."""
    args: dict[str, Any] = {}
    rest = _METAL_NAME.sub(" ", text)
    clips = [m[0] for m in _METAL_NAME.finditer(text)] + [m[0] for m in _CONTACT_NAME.finditer(rest)]
    if clips:
        args["clips"] = clips
    tests = [f"M1_test{int(m[1])}" for pattern in _ICCAD for m in pattern.finditer(rest)]
    if tests:
        args["apply_to"] = list(dict.fromkeys(tests))
    put_int(args, "budget", text, _BUDGET)
    searchers = mentions(text, _SEARCHERS)  # the first one said
    if searchers:
        args["method"] = searchers[0]
    put_int(args, "seed", text, SEED)
    common = _common(text)
    if "device" in common:
        args["device"] = common["device"]
    if "out_dir" in common:
        args["out_dir"] = common["out_dir"]
    return ToolCall(tool="opc_recipe", args=args)


def run_recipe(args: OPCRecipeArgs, progress: ProgressFn | None = None, llm: LLMClient | None = None) -> OPCRecipeResult:
    """``run_opc_recipe`` with the configured LLM writing the summary: the whole JSON when the endpoint is capable
    (openai), the prose only for the embedded model, the template for ``none``."""
    from chipcrew.settings import Settings

    capable = getattr(llm, "name", "") == "openai"
    args = args.model_copy(update={"llm_mode": "llm" if capable else "phrasing"})
    ask = recipe_summary_llm(llm, images=capable and Settings().llm_accepts_images)
    return run_opc_recipe(args, progress, llm=ask, instructions=load_prompt("recipe_summary"))


def _clip(text: str, paths: list[str]) -> str | None:
    """The clip the request names: a layout path, a via/contact name, a via index, or an ICCAD13 case."""
    layouts = [p for p in paths if p.lower().endswith((".glp", ".gds", ".oas"))]
    if layouts:
        return layouts[0]
    named = first_match(text, _VIA_NAME, _CONTACT_NAME)
    if named:
        return named[0]
    positioned = _clip_at_position(text)
    if positioned:
        return positioned
    via = _VIA_INDEX.search(text)
    if via:
        index = int(via[1] or via[2]) if (via[1] or via[2]) else _ORDINALS.index(via[3].lower()) + 1
        return _clip_of_suite("via", index)
    case = first_int(text, *_ICCAD)
    return None if case is None else f"M1_test{case}"


def _clip_at_position(text: str) -> str | None:
    """A via or contact clip named by its file stem and position, as LithoBench names the files
    (``<stem>__<x>_<y>``): "aes_via1 at 328,455", "AND2_X4 at position 1 0", "aes_via1 (467, 621)"."""
    for suite in ("via", "contact"):
        try:
            names = list_clips(suite)  # type: ignore[arg-type]
        except ChipCrewError:
            continue
        stems = sorted({name.rsplit("__", 1)[0] for name in names if "__" in name}, key=len, reverse=True)
        by_lower = {name.lower(): name for name in names}
        for stem in stems:
            for found in re.finditer(rf"(?<![\w]){re.escape(stem)}(?![\w])", text, _F):
                where = _POSITION.match(text, found.end())
                if where:
                    wanted = f"{stem}__{int(where[1])}_{int(where[2])}"
                    return by_lower.get(wanted.lower(), wanted)  # an unknown position: the tool names the clips
    return None


def _clip_of_suite(suite: str, index: int) -> str | None:
    """The ``index``-th (1-based) clip of ``suite`` in sorted order, if the data is there."""
    try:
        names = list_clips(suite)  # type: ignore[arg-type]
    except ChipCrewError:
        return None
    return names[index - 1] if 1 <= index <= len(names) else None


def _common(text: str) -> dict[str, Any]:
    """Raster convention, device and output folder, shared by every tool but the listing."""
    out: dict[str, Any] = {}
    if _INCLUSIVE.search(text):
        out["raster"] = "inclusive"
    elif _EXACT.search(text):
        out["raster"] = "exact"
    where = device(text)
    if where:
        out["device"] = where
    folder = out_dir(text)
    if folder:
        out["out_dir"] = folder
    return out


def _choices(field: str) -> list[str]:
    """What a clip or mask may be, for the question the agent asks when the request names none."""
    if field == "mask":
        return ["a mask file (.npy, .png, .gds, .oas)"]
    if field != "clip":
        return []
    out: list[str] = []
    for suite in ("iccad13", "via", "contact"):
        try:
            names = list_clips(suite)  # type: ignore[arg-type]
        except ChipCrewError:
            continue
        out += names if len(names) <= 10 else [f"{len(names)} {suite} clips ({', '.join(names[:3])}, ...)"]
    return out + ["a .glp/.gds/.oas layout path"]


_METHOD_LABEL = {"diffopc": "DiffOPC", "ilt": "pixel ILT", "mbopc": "EPE-feedback MB-OPC", "camo": "CAMO (RL)"}


def _metric_rows(rows: list[tuple[str, MaskMetrics]]) -> list[str]:
    lines = [
        "| mask | L2 (nm²) | PV band (nm²) | EPE (contest) | EPE (OpenILT) | shots | MRC violations |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in rows:
        lines.append(
            f"| {name} | {m.l2:,} | {m.pvb:,} | {m.epe_contest} | {m.epe_openilt} | {m.shots} | {m.mrc_violations} |"
        )
    return lines


def _render_optimize(r: OPCOptimizeResult) -> str:
    m, b = r.metrics, r.baseline
    gain = 100.0 * (b.l2 - m.l2) / b.l2 if b.l2 else 0.0
    label = _METHOD_LABEL.get(r.method, r.method)
    lines = [
        f"**{r.clip}, {label}, {r.iterations} iterations: L2 {m.l2:,} nm² ({gain:.0f}% below the uncorrected "
        f"{b.l2:,}), PV band {m.pvb:,} nm², EPE {m.epe_contest}, {m.shots} shots, {m.mrc_violations} MRC "
        f"violations** ({r.raster} raster, {r.device}, {r.optimize_seconds:.1f} s).",
        "",
        *_metric_rows([("as drawn (no OPC)", b), (label, m)]),
        "",
        f"Kept iteration {r.best_iteration}"
        + (f"; {r.segments} movable segments" if r.segments else "")
        + f"; seed {r.seed}; total {r.seconds:.1f} s.",
        "",
    ]
    lines += artifact_lines(r.artifacts)
    return "\n".join(lines)


def _render_recipe(r: OPCRecipeResult) -> str:
    lines = []
    if r.summary is not None:
        lines += [f"**{r.summary.headline}**", "", r.summary.prose, ""]
    if r.searches:
        lines += [f"Recipe search ({r.method}, {r.budget} solver runs per clip):", "",
                  "| clip | J default | J searched | J cut | L2 | PV band | EPE |", "|---|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {s.clip} | {s.default.cost:,.0f} | {s.best.cost:,.0f} | {s.j_cut_pct:.1f}% | {s.best.l2:,} | "
                  f"{s.best.pvb:,} | {s.best.epe} |" for s in r.searches]
        lines.append("")
    if r.applied:
        lines += ["Recipe tree on held-out clips:", "", "| clip | J default | J tree | change |", "|---|---:|---:|---:|"]
        lines += [f"| {a.clip} | {a.default.cost:,.0f} | {a.tree.cost:,.0f} | {a.j_change_pct:+.1f}% |" for a in r.applied]
        lines.append("")
    if r.rules:
        lines += ["Rules:", "", *[f"- RULE {x.rule}: {x.condition} -> bias {x.bias_nm:+d} nm, EPE target "
                                  f"{x.epe_target_nm:+.1f} nm ({x.segments} segments)" for x in r.rules], ""]
    if r.summary_backend is not None:
        check = "0 mismatches" if not r.mismatches else f"{len(r.mismatches)} MISMATCHES: " + "; ".join(
            f"{m.where}: {m.found} (expected {m.expected})" for m in r.mismatches)
        lines.append(f"Summary by {r.summary_backend}; faithfulness check: {check}.")
        if r.rejected_draft:
            lines.append(f"The LLM's prose draft was replaced by the template: {len(r.rejected_draft)} numbers did not "
                         "match the tree or table.")
        lines.append("")
    lines += artifact_lines(r.artifacts)
    return "\n".join(lines)


def _render_simulate(r: LithoSimulateResult) -> str:
    head = f"**{r.clip} printed as drawn ({r.suite}, {r.raster} raster)**"
    parts = [f"L2 {r.l2:,} nm²" if r.l2 is not None else "", f"PV band {r.pv_band:,} nm²" if r.pv_band is not None else ""]
    summary = ", ".join(p for p in parts if p)
    lines = [
        f"{head}: {summary}." if summary else f"{head}.",
        "",
        "| corner | printed px | target px |",
        "|---|---:|---:|",
        *[f"| {corner} | {px:,} | {r.target_px:,} |" for corner, px in r.printed_px.items()],
        "",
        f"Simulation {r.seconds:.2f} s on {r.device} (engine setup {r.setup_seconds:.1f} s).",
        "",
    ]
    lines += artifact_lines(r.artifacts)
    return "\n".join(lines)


def _render_evaluate(r: LithoEvaluateResult) -> str:
    m = r.metrics
    lines = [
        f"**{r.mask} on {r.clip}: L2 {m.l2:,} nm², PV band {m.pvb:,} nm², EPE {m.epe_contest}, {m.shots} shots, "
        f"{m.mrc_violations} MRC violations** ({r.raster} raster).",
        "",
        *_metric_rows([("mask", m)]),
        "",
    ]
    lines += artifact_lines(r.artifacts)
    return "\n".join(lines)


def _render_clips(r: OPCListClipsResult) -> str:
    return (
        f"**{r.count} {r.suite} clips:** " + ", ".join(r.clips) + "\n\nName a clip to optimise its mask (DiffOPC, "
        "pixel ILT, EPE-feedback MB-OPC, or CAMO, the reinforcement-learning policy, which reports its segment moves), "
        "to simulate its print at the process corners, or to score a mask; 'search an OPC recipe' runs the recipe "
        "assistant (search, recipe tree, rule script)."
    )


render = render_by_type(
    "opc_engineer",
    {
        OPCOptimizeResult: _render_optimize,
        LithoSimulateResult: _render_simulate,
        LithoEvaluateResult: _render_evaluate,
        OPCListClipsResult: _render_clips,
        OPCRecipeResult: _render_recipe,
    },
)
"""Markdown answer: the key numbers first (one line), then a table and the artefact paths."""

AGENT = AgentSpec(
    name="opc_engineer",
    description=(
        "Optical proximity correction and lithography on the ICCAD 2013 model: optimise masks with DiffOPC, pixel "
        "ILT, EPE-feedback OPC or CAMO reinforcement-learning OPC, simulate prints at the process corners, score "
        "masks (L2, PV band, EPE, shots, MRC)."
    ),
    examples=(
        "optimize M1_test3 with DiffOPC for 40 iterations",
        "run inverse lithography on clip 5",
        "run pixel ILT on case 7 with the OpenILT raster convention",
        "do model-based OPC on M1_test1",
        "correct the mask of test 9 with differentiable edge-based OPC using 40 nm segments",
        "reduce the edge placement error of M1_test2",
        "what is the PV band of M1_test4 printed as drawn",
        "simulate the aerial image of the via clip at the defocus corner",
        "litho simulate case 1 at all three corners",
        "how does M1_test10 print without OPC",
        "score my mask out/mask.npy against M1_test6",
        "evaluate the mask file results/M1_test1_mask.gds on case 1",
        "list the via clips",
        "which ICCAD 2013 clips are available",
        "show me the contact clips",
        "optimize the first via clip with DiffOPC",
        "run OPC on aes_via1__217_754 with EPE feedback",
        "run reinforcement learning OPC on M1_test4",
        "correct the via clip AND2_X4__0_0 with CAMO",
        "compare ILT and DiffOPC on the mask of M1_test8",
        "how many EPE violations does M1_test3 have after OPC",
        "make the printed pattern of case 2 match the target",
        "minimize L2 and PV band for M1_test5 on the GPU",
        "generate an OPC mask for the metal layer clip test6 and save it to runs/t6",
        "check mask rule violations and shot count of my OPC mask",
        "what mask does DiffOPC produce for M1_test1 with 100 steps",
        "fragment the edges of case 4 into 60 nm segments and move them to fix the print",
        "does the lithography print of M1_test7 need SRAF or serifs",
        "search an OPC recipe for the metal clips and summarise it as rules",
        "find the best mbopc recipe per topology class with reinforcement learning",
        "fit a recipe tree and apply it to M1_test3",
        "which kernels, threshold and dose were behind this EPE number",
        "what process corners are used for the PV band figure",
        "explain how the L2 metric of a mask is computed here",
        "what did the reinforcement learning policy choose for each segment",
        "show the decisions the RL agent made on the clip",
        "summarise the recipe that the search found for the metal clips",
        "what is the best OPC recipe for line ends and corners",
        "run the OPC recipe assistant on the LithoBench clips",
        "search for a good OPC recipe with a small budget",
        "how is the edge placement error measured in the contest metric",
        "what settings does the litho model use: wavelength, NA, threshold",
        "optimise the photomask so the wafer image matches the layout",
        "what does the wafer image look like at the focus corner",
        "give me the contest score of my mask on case 5",
        "correct the mask with segment moves learned by the CAMO policy",
        "what fragmentation and feedback gain does the EPE-driven OPC use",
        "which segment moves did the RL policy pick on this clip",
        "explain the choices of the reinforcement learning agent for the mask",
        "what did the RL policy do on the clip",
        "show what the reinforcement learning agent decided",
    ),
    keywords=(
        "opc", "diffopc", "ilt", "inverse lithography", "lithography", "litho", "mask", "epe", "edge placement",
        "pv band", "pvband", "process window", "aerial image", "clip", "m1_test", "iccad", "via", "sraf", "serif",
        "shots", "mrc", "resist", "print", "camo", "reinforcement learning", "recipe", "opc recipe", "socs", "hopkins", "rl",
        "defocus", "lithobench",
    ),
    tools=(
        ToolSpec(
            name="opc_optimize",
            choices=_choices,
            description=(
                "Optimise the mask of a clip with DiffOPC (differentiable edge-based, exact spectrum gradients), "
                "pixel ILT (OpenILT SimpleILT conventions), EPE-feedback model-based OPC or CAMO (reinforcement-"
                "learning segment OPC, a trained policy, <= 10 rounds); report L2, PV band, "
                "EPE, shots and MRC before and after; write GDS, mask .npy and PNGs."
            ),
            args_model=OPCOptimizeArgs,
            run=run_opc_optimize,
        ),
        ToolSpec(
            name="opc_simulate",
            choices=_choices,
            description=(
                "Print a clip as drawn (mask = target) through the ICCAD 2013 optics at the nominal, max, min or "
                "all corners; report printed area, L2 and PV band; write intensity .npy and print PNGs."
            ),
            args_model=LithoSimulateArgs,
            run=run_litho_simulate,
        ),
        ToolSpec(
            name="opc_evaluate",
            choices=_choices,
            description=(
                "Score a mask file (.npy, .png, .gds) against a clip's target: L2, PV band, EPE (contest and "
                "OpenILT counts), shots and mask-rule violations."
            ),
            args_model=LithoEvaluateArgs,
            run=run_litho_evaluate,
        ),
        ToolSpec(
            name="opc_recipe",
            description=(
                "Search EPE-feedback OPC recipes (fragment length, gain, step, iterations, per-topology bias and EPE "
                "target) on training clips with a contextual bandit, PPO or random search; fit a depth-4 decision "
                "tree from segment topology to the recipe; apply it to held-out clips; write a rule script and an "
                "LLM or template summary checked for faithfulness."
            ),
            args_model=OPCRecipeArgs,
            run=run_recipe,
            wants_llm=True,
        ),
        ToolSpec(
            name="opc_list_clips",
            description="List the clips of the iccad13, via or contact suite.",
            args_model=OPCListClipsArgs,
            run=run_opc_list_clips,
        ),
    ),
    plan=plan,
    render=render,
    prompt="opc_engineer",
)
