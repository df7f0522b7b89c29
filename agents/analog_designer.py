"""The analog designer: LLANA's post-layout loop for OTAs, placement -> parasitics and mismatch -> ngspice, and BO.

Tools:
- ``analog_simulate``: MAGICAL's OTA testbench in ngspice (open-loop gain, CM gain at 10 kHz, CMRR, offset in
  unity-gain feedback, GBW, phase margin) on the schematic or a placed layout;
- ``analog_place``: net-weighted symmetric placement with GDS, PNG, wirelength, area and pair mismatch;
- ``analog_optimize``: GP-EI, TuRBO-1, Sobol, random, LLANA or LLM-as-constraint over the net weights.

The deterministic planner reads the circuit (OTA_XT_MAGICAL by default, or the 5-transistor OTA), net weights
("weight of VO1M/VO1P 2.5", "VS=3"), the method, objective, budget, initial points, seeds, common-centroid
pairs and symmetry; anything the request does not mention is left to the tool's defaults.

LLANA needs an LLM at run time. ``run_optimize`` accepts the configured ``LLMClient`` as ``llm`` and hands the
tool its ``PromptFn`` and templates (built in ``chipcrew.llm.adapters``); called without one, LLANA runs its GP
fallback and its answer says so.
"""

from __future__ import annotations

import re
from typing import Any

from agents.base import AgentSpec, ToolCall, ToolSpec
from agents.parsing import (
    COUNT,
    NUMBER,
    SEED,
    artifact_lines,
    counted,
    first_int,
    mentions,
    num,
    render_by_type,
    seed_list,
    to_float,
    to_int,
)
from chipcrew.llm.adapters import llana_prompts, prompt_fn
from chipcrew.llm.base import LLMClient
from tools.analog.circuits import CIRCUIT_KNOBS
from tools.analog.optimize_tool import AnalogOptimizeArgs, AnalogOptimizeResult, run_analog_optimize
from tools.analog.place_tool import AnalogPlaceArgs, AnalogPlaceResult, run_analog_place
from tools.analog.simulate_tool import AnalogSimulateArgs, AnalogSimulateResult, run_analog_simulate
from tools.common import ProgressFn

__all__ = ("AGENT", "plan", "render", "run_optimize")

_F = re.I
_OPTIMIZE = re.compile(
    r"\boptimi[sz]\w*|\bbayesian\b|\bBO\b|\bllana\b|\bturbo\b|\bsobol\b|\brandom\s+search\b|\bgp[\s-]?ei\b|"
    r"\bexpected\s+improvement\b|\btun(?:e|ing)\b|\bllm[\s-]+as[\s-]+(?:a\s+)?constraint|\bbudget\b|"
    r"\b(?:reduce|lower|minimi[sz]e|improve)\b[^.?!]{0,40}\b(?:offset|score)\b|"
    r"\b(?:improve|maximi[sz]e|increase|raise|boost)\b[^.?!]{0,40}\b(?:cmrr|rejection)\b|"
    r"\bbest\s+(?:net\s+)?weights?\b|\bfind\b[^.?!]{0,30}\bweights?\b",
    _F,
)
_SIMULATE = re.compile(
    r"\bsimulat\w*|\bngspice\b|\bspice\b|\bcmrr\b|\boffset\b|\bgain\b|\bphase\s+margin\b|\bgbw\b|\bbandwidth\b|"
    r"\bpost[\s-]*layout\b|\bschematic\b|\bparasitic\w*|\bperformance\b",
    _F,
)
_PLACE = re.compile(
    r"\bplaced?\b|\bplacement\b|\bplacer\b|\blay(?:s|ing)?\s+out\b|\bgds\b|\bfloorplan\b|\bpng\b|\bhpwl\b|\bwire\s*length\b|\barea\b|"
    r"\bmismatch\b|\bgradient\b",
    _F,
)
_CIRCUITS = (
    ("OTA_5T", re.compile(r"\b(?:ota[\s_-]*5t|5t|5[\s-]*transistor|five[\s-]*transistor)\b", _F)),
    ("OTA_XT_MAGICAL", re.compile(r"\bota[\s_-]*xt(?:[\s_-]*magical)?\b|\bmagical\b", _F)),
)
_METHODS = (
    ("llana_constraint", re.compile(r"\bllm[\s-]+as[\s-]+(?:a\s+)?constraints?\b|\bconstraint\s+mode\b|\bnarrow\w*\b[^.?!]{0,30}\brang", _F)),
    ("llana", re.compile(r"\bllana\b|\bllm\b|\blanguage\s+model\b", _F)),
    ("turbo", re.compile(r"\bturbo(?:[\s-]*1)?\b|\btrust[\s-]*region\b", _F)),
    ("sobol", re.compile(r"\bsobol\b|\bquasi[\s-]*random\b", _F)),
    ("random", re.compile(r"\brandom\s+(?:search|sampling|points|knobs|settings|baseline)\b", _F)),
    ("gp_ei", re.compile(r"\bgp[\s-]?ei\b|\bexpected\s+improvement\b|\bgaussian\s+process\b|\bbotorch\b|\bbayesian\s+optimi[sz]ation\b", _F)),
)
_SCHEMATIC = re.compile(r"\bschematic\b|\bpre[\s-]*layout\b|\bideal\s+(?:netlist|circuit)\b|\bwithout\s+(?:the\s+)?layout\b", _F)
_POST = re.compile(r"\bpost[\s-]*layout\b", _F)
_SYM = re.compile(r"\bwith\s+(?:mirror\s+|full\s+)?symmetry\b|\bsymmetric(?:al)?\s+placement\b|\bsymmetry\s+on\b", _F)
_NO_SYM = re.compile(r"\b(?:no|without)\s+symmetr\w*|\basymmetric(?:al)?\b|\bsymmetry\s+off\b", _F)
_CC = re.compile(r"\bcommon[\s-]*centroid\b", _F)
_DEVICE = re.compile(r"\b(M\d+)\b", _F)
_PLACEMENT_SEED = re.compile(rf"\bplacement\s+seed\s*(?:of|=|:|is)?\s*{COUNT}", _F)
_INIT = re.compile(rf"{COUNT}\s*(?:initial|init|warm[\s-]*start)\b", _F)
_TOTAL = counted(r"evaluations|evals|simulations|budget|samples|tries|attempts|layouts")
_STEPS = counted(r"trials|iterations|steps|rounds", qualifier="bo")
_UNIFORM = re.compile(
    rf"\b(?:every|all|each|uniform|the\s+same)\b[^.?!\d]{{0,25}}?\bweight(?:s|ed)?\b[^.?!\d]{{0,12}}?{NUMBER}", _F
)
_METHOD_NAMES = tuple((name, re.compile(rf"\b{name}\b", _F)) for name, _ in _METHODS)
_AREA = re.compile(rf"\barea\s*weight\s*(?:of|=|:|to|is)?\s*{NUMBER}", _F)
_BOUNDS = re.compile(rf"\bweights?\s+(?:between|from|in|within)\s*\[?\s*{NUMBER}\s*(?:and|to|-|,)\s*{NUMBER}", _F)
_ALPHA = re.compile(rf"\balpha\s*(?:of|=|:|is)?\s*(-?{NUMBER})", _F)
_BOTH = re.compile(r"\bcmrr\b[^.?!]*\boffset\b|\boffset\b[^.?!]*\bcmrr\b", _F)


def plan(request: str) -> ToolCall:
    """``analog_optimize`` for optimisation requests, ``analog_simulate`` for performance questions, else place."""
    if _OPTIMIZE.search(request) or len(_methods(request)) > 1:  # "sobol against llana" compares optimisers
        args, sweep = _optimize_args(request)
        return ToolCall(tool="analog_optimize", args=args, sweep=sweep)
    if _SIMULATE.search(request) or not _PLACE.search(request):
        return ToolCall(tool="analog_simulate", args=_simulate_args(request))
    return ToolCall(tool="analog_place", args=_place_args(request))


def _methods(text: str) -> list[str]:
    """Optimisers named, in order: by their phrase ("trust region") or, as in a list ("gp_ei, turbo and random"),
    by their name."""
    named = mentions(text, (*_METHODS, *_METHOD_NAMES))
    return [m for m in named if not (m == "llana" and "llana_constraint" in named)]


def _circuit(text: str) -> str | None:
    return next((name for name, pattern in _CIRCUITS if pattern.search(text)), None)


def _layout_args(text: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    circuit = _circuit(text)
    if circuit:
        args["circuit"] = circuit
    found = _PLACEMENT_SEED.search(text)
    if found:
        args["placement_seed"] = to_int(found[1])
    found = _AREA.search(text)
    if found:
        args["area_weight"] = to_float(found[1])
    symmetry = mentions(text, ((False, _NO_SYM), (True, _SYM)))  # the first one said
    if symmetry:
        args["symmetric"] = symmetry[0]
    if _CC.search(text):
        devices = [d.upper() for d in _DEVICE.findall(text)]
        default = "M1" if circuit == "OTA_5T" else "M40"  # the input pair
        args["common_centroid"] = list(dict.fromkeys(devices)) or [default]
    return args


def _net_weights(text: str, circuit: str) -> dict[str, float]:
    """``{knob: weight}`` from phrasings like "weight of net VO1M/VO1P: 2.5", "VS=3", "weight 2 on TAIL1"."""
    out: dict[str, float] = {}
    uniform = _UNIFORM.search(text)
    if uniform:  # "every net weight set to 3", "a uniform net weight of 2", "all nets weighted 1.5"
        out = {"/".join(nets): to_float(uniform[1]) for nets in CIRCUIT_KNOBS[circuit]}
    for nets in CIRCUIT_KNOBS[circuit]:
        knob = "/".join(nets)
        for net in nets:
            n = re.escape(net)
            alt = r"(?:/\w+)?"
            patterns = (
                rf"\bweight\s+(?:of\s+)?(?:(?:the\s+)?net\s+)?{n}\b{alt}\s*(?:net\s*)?(?:=|:|to|of|at|is|as)?\s*{NUMBER}",
                rf"(?<![\w/]){n}\b{alt}\s*(?:net\s*)?(?:weight\s*)?(?:=|:|to|at|is)\s*{NUMBER}",
                rf"\b{n}\b{alt}\s+(?:net\s+)?weight\s*(?:of\s*)?{NUMBER}",
                rf"\bweight\s*(?:of\s*)?{NUMBER}\s*(?:on|for)\s+(?:(?:the\s+)?net\s+)?{n}\b",
            )
            for pattern in patterns:
                found = re.search(pattern, text, _F)
                if found:
                    out[knob] = to_float(found[1])
                    break
            if knob in out:
                break
    return out


def _simulate_args(text: str) -> dict[str, Any]:
    if _SCHEMATIC.search(text) and not _POST.search(text):
        args = _layout_args(text)
        for key in ("placement_seed", "area_weight", "symmetric", "common_centroid"):
            args.pop(key, None)
        return args | {"layout": "schematic"}
    return _place_args(text)


def _place_args(text: str) -> dict[str, Any]:
    args = _layout_args(text)
    weights = _net_weights(text, args.get("circuit", "OTA_XT_MAGICAL"))
    if weights:
        args["net_weights"] = weights
    return args


def _optimize_args(text: str) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    args = _layout_args(text)
    cleaned = _PLACEMENT_SEED.sub(" ", text)
    mentions_offset, mentions_cmrr = re.search(r"\boffset\b", text, _F), re.search(r"\bcmrr\b|\brejection\b", text, _F)
    if _BOTH.search(text):
        args["objective"] = "both"
    elif mentions_offset:
        args["objective"] = "offset"
    elif mentions_cmrr:
        args["objective"] = "cmrr"
    sweep: dict[str, list[Any]] = {}
    methods = _methods(text)
    if len(methods) > 1:
        sweep["method"] = methods
    elif methods:
        args["method"] = methods[0]
    init, total, steps = first_int(text, _INIT), first_int(text, _TOTAL), first_int(text, _STEPS)
    if init is not None:
        args["n_init"] = init
    if total is not None:
        args["budget"] = total
    elif steps is not None:
        # "20 trials" is the budget the user states; "5 initial points and 20 trials" adds the initial design
        args["budget"] = steps + (init if init is not None else 0)
    seeds = seed_list(cleaned)
    if seeds:
        sweep["seed"] = seeds
    else:
        seed = first_int(cleaned, SEED)
        if seed is not None:
            args["seed"] = seed
    found = _BOUNDS.search(text)
    if found:
        args["weight_min"], args["weight_max"] = sorted((to_float(found[1]), to_float(found[2])))
    found = _ALPHA.search(text)
    if found:
        args["llana_alpha"] = to_float(found[1])
    return args, sweep


def run_optimize(
    args: AnalogOptimizeArgs, progress: ProgressFn | None = None, llm: LLMClient | None = None
) -> AnalogOptimizeResult:
    """``run_analog_optimize`` with the configured LLM (when the caller passes one) behind LLANA's prompts."""
    ask = prompt_fn(llm)
    return run_analog_optimize(args, progress, llm=ask, prompts=llana_prompts() if ask else None)


# ----------------------------------------------------------------------------------------------- rendering


def _cmrr(perf: Any) -> str:
    """CMRR in dB, or 'ideal' with its bound when Acm is below the numerical floor (a symmetric netlist)."""
    return f"ideal (Acm below the numerical floor; >= {perf.cmrr_db:,.0f} dB)" if perf.cmrr_ideal else num(perf.cmrr_db, unit=" dB")


def _perf_rows(perf: Any) -> list[str]:
    return [
        "| metric | value |",
        "|---|---:|",
        f"| open-loop differential gain Adm | {num(perf.adm_db, unit=' dB')} |",
        f"| common-mode gain Acm at 10 kHz | {num(perf.acm_db, unit=' dB')} |",
        f"| CMRR = Adm - (Acm - 6 dB) | {_cmrr(perf)} |",
        f"| input-referred offset (unity-gain feedback) | {num(perf.offset_v, ',.4f', 1e3, ' mV')} |",
        f"| GBW (unity-gain frequency) | {num(perf.gbw_hz, ',.1f', 1e-6, ' MHz')} |",
        f"| phase margin | {num(perf.pm_deg, ',.1f', unit=' deg')} |",
        f"| supply current | {num(perf.supply_a, ',.1f', 1e6, ' uA')} |",
    ]


def _render_simulate(r: AnalogSimulateResult) -> str:
    where = "post-layout" if r.layout == "post_layout" else "schematic"
    if not r.converged:
        return "\n".join(
            [f"**ngspice found no operating point** for the {where} {r.circuit}: {r.message}. No metric is reported.", "", *artifact_lines(r.artifacts)]
        )
    p = r.performance
    lines = [
        f"**{where.capitalize()} CMRR {_cmrr(p)}, offset {num(p.offset_v, ',.4f', 1e3, ' mV')}** on "
        f"{r.circuit} (gain {num(p.adm_db, unit=' dB')}, GBW {num(p.gbw_hz, ',.1f', 1e-6, ' MHz')}, PM {num(p.pm_deg, ',.1f', unit=' deg')}).",
        "",
        *_perf_rows(p),
        f"| LLANA CMRR score (-(CMRR-80)/80) | {num(r.cmrr_score, ',.4f')} |",
        f"| LLANA offset score ((abs(Vos)-1mV)/1mV) | {num(r.offset_score, ',.4f')} |",
    ]
    if r.area_um2 is not None:
        lines.append(f"| layout area | {r.area_um2:,.0f} um^2 |")
    if r.layout == "schematic" and p.cmrr_db is not None and p.cmrr_db > 200:
        lines += ["", "The schematic is perfectly symmetric: its common-mode-to-differential gain is numerical noise, "
                  "so CMRR is unbounded in principle and offset is zero; the layout is what makes them finite."]
    if r.pair_dvth_mv:
        worst = sorted(r.pair_dvth_mv.items(), key=lambda kv: -abs(kv[1]))[:3]
        lines += ["", "Largest pair threshold mismatch from the layout: " + ", ".join(f"{k} {v:+.3f} mV" for k, v in worst) + "."]
    lines += ["", f"ngspice {r.versions.get('ngspice', '?')} took {r.sim_seconds:.2f} s; {r.wire_resistors} wire/via resistors stamped.", ""]
    lines += artifact_lines(r.artifacts)
    return "\n".join(lines)


def _render_place(r: AnalogPlaceResult) -> str:
    legal = "no overlap" if r.overlap_um2 < 1e-6 else f"{r.overlap_um2:.3f} um^2 overlap left"
    heavy = {k: v for k, v in r.net_weights.items() if v != 1.0}
    lines = [
        f"**Placed {r.circuit}: {r.area_um2:,.0f} um^2, HPWL {r.hpwl_um:,.0f} um, {legal}** ({r.devices} devices in "
        f"{r.cells} cells, {r.seconds:.2f} s).",
        "",
        "| metric | value |",
        "|---|---:|",
        f"| half-perimeter wirelength | {r.hpwl_um:,.1f} um |",
        f"| weighted wirelength | {r.weighted_hpwl_um:,.1f} um |",
        f"| spanning-tree route length | {r.routed_um:,.1f} um |",
        f"| bounding-box area | {r.area_um2:,.0f} um^2 |",
        f"| wire/via resistors | {r.wire_resistors} |",
        f"| wire capacitance | {r.wire_cap_f * 1e15:,.1f} fF |",
        "",
        "Net weights: " + (", ".join(f"{k} {v:g}" for k, v in heavy.items()) if heavy else "all 1") + ".",
    ]
    if r.pair_dvth_mv:
        lines += ["", "| symmetric pair | dVth (mV) |", "|---|---:|"]
        lines += [f"| {k} | {v:+.4f} |" for k, v in r.pair_dvth_mv.items()]
    return "\n".join(lines + ["", *artifact_lines(r.artifacts)])


def _render_optimize(r: AnalogOptimizeResult) -> str:
    if r.best_score is None or r.best_performance is None:
        return f"**No evaluation of {r.circuit} converged** in {r.evaluations} tries ({r.method}); nothing to report."
    p = r.best_performance
    lines = [
        f"**{r.method} reached score {r.best_score:.4f} ({r.objective}) on {r.circuit}: CMRR {num(p.cmrr_db, unit=' dB')}, "
        f"offset {num(p.offset_v, ',.4f', 1e3, ' mV')}** in {r.evaluations} evaluations"
        + (f" (best of the initial design: {r.initial_best:.4f})." if r.initial_best is not None else "."),
        "",
        *_perf_rows(p),
        "",
        "| knob | best weight | searched range |",
        "|---|---:|---|",
    ]
    lines += [f"| {k} | {v:g} | {r.search_box.get(k, ['?', '?'])} |" for k, v in r.best_knobs.items()]
    lines += ["", f"{r.failed} of {r.evaluations} simulations did not converge; one evaluation took {r.eval_seconds:.2f} s on average; the run took {r.seconds:.1f} s."]
    if r.ties:
        lines.append("Tied knobs: " + "; ".join(" = ".join(t) for t in r.ties) + ".")
    if r.llm:
        lines.append("LLM: " + ", ".join(f"{k} {v:g}" for k, v in r.llm.items()) + ".")
    lines += [f"Note: {n}" for n in r.notes]
    return "\n".join(lines + ["", *artifact_lines(r.artifacts)])


render = render_by_type(
    "analog_designer",
    {AnalogSimulateResult: _render_simulate, AnalogPlaceResult: _render_place, AnalogOptimizeResult: _render_optimize},
)
"""Markdown answer: the key numbers first (one line), then a table and the artefacts."""

AGENT = AgentSpec(
    name="analog_designer",
    description=(
        "Analog layout with LLANA: net-weighted symmetric placement of OTAs, wire parasitics and mismatch from the "
        "layout, ngspice post-layout CMRR/offset/gain/GBW/phase margin, and Bayesian optimisation (GP-EI, TuRBO, "
        "LLM-enhanced LLANA) of the placement knobs."
    ),
    examples=(
        "optimize the layout of the OTA for CMRR",
        "reduce the input offset of my amplifier layout",
        "run Bayesian optimisation on the placement net weights of the opamp",
        "run LLANA with 5 initial points and 20 trials to maximise post-layout CMRR",
        "use the LLM as a constraint generator to narrow the net weight ranges before BO",
        "compare TuRBO against Sobol sampling on the OTA_XT_MAGICAL layout knobs",
        "what is the post-layout CMRR of OTA_XT_MAGICAL with weight of net VO1M/VO1P 2.5",
        "simulate the 5-transistor OTA in ngspice",
        "what is the open-loop gain and phase margin of the operational amplifier",
        "what is the input offset of the OTA after placement and routing",
        "simulate the schematic of the MAGICAL OTA without layout parasitics",
        "how much do wire parasitics reduce the CMRR of the differential amplifier",
        "place the OTA with a weight of 3 on net VS and show me the GDS",
        "symmetric placement of the opamp with a common-centroid input pair",
        "place the OTA without symmetry constraints and report the wirelength",
        "what is the gain bandwidth product of the amplifier post-layout",
        "set net weight TAIL1=4 and VOM/VOP=0.5 and simulate the OTA",
        "minimise offset and maximise CMRR together with GP-EI over 30 evaluations",
        "find the best critical net weights for the analog placer",
        "random search baseline over the net weights with seed 3",
        "layout-dependent mismatch and process gradient of the matched pairs in my OTA",
        "how big is the area of the placed OTA with area weight 0.5",
        "draw the analog placement as a PNG with the symmetry axis",
        "evaluate common-mode rejection ratio and offset with ngspice post-layout simulation",
        "tune the placement knobs of the operational transconductance amplifier with expected improvement",
        "LLANA on the MAGICAL OTA benchmark versus plain Bayesian optimisation",
        "device placement of an analog block with matching constraints",
        "how does gradient-induced mismatch shift the offset of the input pair",
        "what gain and GBW does the amplifier reach after layout",
        "propose placement constraints for the OTA with the LLM",
        "which placer settings minimise the input-referred offset",
        "how many simulations does Bayesian optimisation need for the OTA layout",
        "layout parasitics of the differential pair in gf180mcu",
    ),
    keywords=(
        "ota",
        "opamp",
        "op-amp",
        "operational amplifier",
        "amplifier",
        "cmrr",
        "common-mode rejection",
        "offset",
        "ngspice",
        "spice",
        "analog",
        "llana",
        "net weight",
        "placement knob",
        "post-layout",
        "parasitic",
        "phase margin",
        "gbw",
        "common-centroid",
        "common centroid",
        "symmetric placement",
        "magical",
        "turbo",
        "bayesian optimi",
    ),
    tools=(
        ToolSpec(
            name="analog_simulate",
            description=(
                "ngspice simulation of an OTA (OTA_XT_MAGICAL or OTA_5T) with MAGICAL's testbench: open-loop gain, "
                "CM gain at 10 kHz, CMRR, offset in unity-gain feedback, GBW, phase margin; schematic or post-layout "
                "with given net weights or a layout.json."
            ),
            args_model=AnalogSimulateArgs,
            run=run_analog_simulate,
        ),
        ToolSpec(
            name="analog_place",
            description=(
                "Net-weighted analytical placement with mirror symmetry (and optional common-centroid pairs): GDS, "
                "PNG, layout.json, wirelength, area, wire RC and pair threshold mismatch."
            ),
            args_model=AnalogPlaceArgs,
            run=run_analog_place,
        ),
        ToolSpec(
            name="analog_optimize",
            description=(
                "Optimise the critical-net weights against post-layout CMRR and/or offset (LLANA's scores) with "
                "gp_ei, turbo, sobol, random, llana (LLM proposals + LLM surrogate) or llana_constraint."
            ),
            args_model=AnalogOptimizeArgs,
            run=run_optimize,
            wants_llm=True,
        ),
    ),
    plan=plan,
    render=render,
    prompt="analog_designer",
)
