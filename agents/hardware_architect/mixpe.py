"""MixPE's half of the hardware architect: its tools, request parsing and answer templates.

``mixpe_gemm`` checks the mixed-precision GEMM (dequantise after the per-group partial sum, shift-and-add
products) against ``torch.matmul`` and counts the operations of both orders; ``mixpe_perf`` gives the time and
energy of iso-area designs on a transformer's weight GEMMs. The planner reads shapes (``256x512x128``), precisions
(``W4A8``, ``fp16 activations``), model names in any common spelling, designs and the baseline after
"than"/"vs"/"over", sequence length, batch and group size; anything unsaid is left to the tool's defaults.
"""

from __future__ import annotations

import re
from typing import Any

from agents.base import ToolCall, ToolSpec
from agents.parsing import (
    BATCH,
    SEED,
    SIGNED_INT,
    artifact_lines,
    first_match,
    put_int,
    to_int,
)
from tools.mixpe.gemm import MixPEGemmArgs, MixPEGemmResult, run_mixpe_gemm
from tools.mixpe.perf import MixPEPerfArgs, MixPEPerfResult, run_mixpe_perf
from tools.mixpe.transformer_shapes import find_model

__all__ = ("TOOLS", "EXAMPLES", "KEYWORDS", "RENDERERS", "plan")

_FLAGS = re.I
_BY = r"\s*(?:[x×*]|by)\s*"
_SHAPE = re.compile(
    rf"\b(-?\d+){_BY}(-?\d+){_BY}(-?\d+)\b|\(\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*\)", _FLAGS
)
"""M x K x N as "256x512x128", "512 by 1024 by 256" or "(256, 4096, 128)"."""
_TWO_MATRICES = re.compile(rf"\b(\d+){_BY}(\d+)\b[^\d]{{1,40}}?\b(\d+){_BY}(\d+)\b", _FLAGS)
"""An activation matrix M x K times a weight matrix K x N ("activations of 64x1024 times weights of 1024x256")."""
_DIM = {d: re.compile(rf"\b{d}\s*(?:=|:|is|of)?\s*(-?\d+)\b(?!\s*(?:bits?|tokens?|%))", _FLAGS) for d in ("m", "k", "n")}
_WXAY = re.compile(r"\bw(\d+)\s*a(\d+)\b", _FLAGS)
_GEMM_INTENT = re.compile(
    r"bit[\s-]*exact|exactness|functional[\s-]+(?:model|check)|torch\.matmul|\bverify\b|"
    r"op(?:eration)?s?[\s-]+counts?|count(?:s|ing)?\s+(?:the\s+)?(?:op|mult|shift|add|dequant)|"
    r"how\s+many\s+(?:op|mult|shift|add|dequant)|\bcheck\b.*\bgemm\b|\bgemm\b.*\bcheck\b",
    _FLAGS,
)
_GROUP = (
    re.compile(rf"\bgroup(?:[\s_-]*size)?\s*(?:of|=|:|is)?\s*{SIGNED_INT}\b", _FLAGS),
    re.compile(r"\bgroups?\s+of\s+(\d+)\b", _FLAGS),
    re.compile(r"\bg\s*=?\s*(\d+)\b", _FLAGS),
)
_SEQ = (
    re.compile(
        r"\b(?:seq(?:uence)?[\s_-]*len(?:gth)?|context(?:[\s_-]*length)?|prompt(?:[\s_-]*length)?)"
        rf"\s*(?:of|=|:|is)?\s*{SIGNED_INT}\s*(k)?\b",
        _FLAGS,
    ),
    re.compile(r"\b(\d+)\s*(k)?[\s-]*tokens?\b", _FLAGS),
)
_DECODE = re.compile(r"\bdecod\w*|\bnext[\s-]token|\bper[\s-]token\b|\btoken[\s-]+generation\b", _FLAGS)
_WEIGHT_BITS = re.compile(
    r"\b(?:u?int(\d+)|(\d+)[\s-]*bits?)(?:[\s-]+(?:uniform(?:ly)?|group(?:[\s-]*wise)?|quanti[sz]ed|symmetric|asymmetric)){0,2}"
    r"[\s-]+weights?\b|\bweights?\s+(?:(?:uniformly|are|quanti[sz]ed|group[\s-]*wise)\s+){0,3}(?:to|at|in|of)\s+(\d+)[\s-]*bits?\b",
    _FLAGS,
)
_ACT_FP16 = re.compile(
    r"\b(?:fp16|float16|half)[\s-]+activations?\b|\bactivations?\s+(?:in|at|of)\s+(?:fp16|float16)\b", _FLAGS
)
_ACT_INT8 = re.compile(r"\bint8[\s-]+activations?\b|\bactivations?\s+(?:in|at|of)\s+int8\b", _FLAGS)
_BARE_FP16 = re.compile(r"\b(?:fp16|float16|half[\s-]precision)\b", _FLAGS)
_BARE_INT8 = re.compile(r"\bint8\b", _FLAGS)
_COMPARE = r"(?:than|vs\.?|versus|against|over|compared\s+(?:to|with)|relative\s+to|normali[sz]ed\s+to)"
_ARTICLES = r"(?:\s+(?:on|an?|the|a\s+plain|plain|conventional))*"
_HW_NOUN = r"(?:array|accelerator|baseline|pes?|design|hardware|systolic|mac|engine|chip|unit|core)s?"
_NOT_ACTIVATIONS = r"(?![\s-]+activations?)"
_DESIGN_WORDS = (("BitFusion", r"bit[\s-]*fusion"), ("ANT", r"ant"), ("FP16", r"fp16|float16"), ("INT8", r"int8"))
_AFTER_COMPARE = tuple(
    (name, rf"{_COMPARE}{_ARTICLES}\s+(?:{word})\b{_NOT_ACTIVATIONS}") for name, word in _DESIGN_WORDS
)
_MENTION = (
    ("BitFusion", re.compile(r"\bbit[\s-]*fusion\b", _FLAGS)),  # BitFusion and ANT are only ever designs
    ("ANT", re.compile(r"\bant\b", _FLAGS)),
    # FP16 and INT8 are designs as hardware or after a comparison word, otherwise number formats
    ("FP16", re.compile(rf"\b(?:fp16|float16)\s+{_HW_NOUN}\b|{_AFTER_COMPARE[2][1]}", _FLAGS)),
    ("INT8", re.compile(rf"\bint8\s+{_HW_NOUN}\b|{_AFTER_COMPARE[3][1]}", _FLAGS)),
)
_EQUAL_PE = re.compile(
    r"\b(?:equal|same|matched|identical)[\s-]+(?:number\s+of\s+)?(?:pes?|pe[\s-]+counts?|processing\s+elements)\b|"
    r"\biso[\s-]*pe\b",
    _FLAGS,
)
_ALL_DESIGNS = re.compile(r"\ball\s+(?:the\s+)?(?:designs|baselines|accelerators|arrays)\b", _FLAGS)


def plan(request: str) -> ToolCall:
    """``mixpe_gemm`` for correctness / op-count questions and explicit shapes, else ``mixpe_perf``."""
    dims = sum(pattern.search(request) is not None for pattern in _DIM.values())
    if _SHAPE.search(request) or _TWO_MATRICES.search(request) or dims >= 2 or _GEMM_INTENT.search(request):
        return ToolCall(tool="mixpe_gemm", args=_gemm_args(request))
    return ToolCall(tool="mixpe_perf", args=_perf_args(request))


def _gemm_args(text: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    shape = _SHAPE.search(text)
    pair = _TWO_MATRICES.search(text)
    if shape:
        m, k, n = (int(g) for g in shape.groups() if g is not None)
        args.update(m=m, k=k, n=n)
    elif pair and pair[2] == pair[3]:  # the inner dimensions agree: M x K times K x N
        args.update(m=int(pair[1]), k=int(pair[2]), n=int(pair[4]))
    for dim, pattern in _DIM.items():
        found = pattern.search(text)
        if found:
            args[dim] = int(found[1])
    args.update(_precision_args(text, bare_formats=True))
    put_int(args, "group_size", text, *_GROUP)
    put_int(args, "seed", text, SEED)
    return args


def _perf_args(text: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    model = find_model(text)
    if model:
        args["model"] = model
    args.update(_precision_args(text, bare_formats=False))
    focus = "MixPE-A16" if args.get("activation") == "fp16" else "MixPE-A8"
    mentioned = _designs_mentioned(text)
    baseline = _baseline(text) or (mentioned[0] if len(mentioned) == 1 else None)
    if baseline:
        args["baseline"] = baseline
    if mentioned and not _ALL_DESIGNS.search(text):
        args["designs"] = [focus, *[d for d in mentioned if d != focus]]
    if _DECODE.search(text):
        args["seq_len"] = 1
    if _EQUAL_PE.search(text):
        args["array"] = "equal_pe"
    seq = first_match(text, *_SEQ)
    if seq:
        args["seq_len"] = to_int(seq[1]) * (1024 if seq[2] else 1)
    put_int(args, "batch", text, BATCH)
    put_int(args, "group_size", text, *_GROUP)
    return args


def _precision_args(text: str, bare_formats: bool) -> dict[str, Any]:
    """``weight_bits`` and ``activation`` from ``W4A8``-style tags or "fp16 activations"-style phrases.

    With ``bare_formats`` a lone "fp16"/"int8" names the activation format (GEMM checks); in performance
    requests a lone format names a design ("than FP16"), so it is left to ``_designs_mentioned``.
    """
    out: dict[str, Any] = {}
    tag = _WXAY.search(text)
    if tag:
        out["weight_bits"] = int(tag[1])
        out["activation"] = {"8": "int8", "16": "fp16"}.get(tag[2], f"a{tag[2]}")
    else:
        bits = _WEIGHT_BITS.search(text)
        if bits:
            out["weight_bits"] = int(bits[1] or bits[2] or bits[3])
    if _ACT_FP16.search(text) or (bare_formats and "activation" not in out and _BARE_FP16.search(text)):
        out["activation"] = "fp16"
    elif _ACT_INT8.search(text) or (bare_formats and "activation" not in out and _BARE_INT8.search(text)):
        out["activation"] = "int8"
    return out


def _designs_mentioned(text: str) -> list[str]:
    """Baseline designs named in the text, in order of appearance.

    BitFusion and ANT count wherever they appear; FP16 and INT8 only as hardware ("an INT8 array") or
    after a comparison word ("than FP16"), not as activation formats ("FP16 activations").
    """
    hits = [(found.start(), name) for name, pattern in _MENTION if (found := pattern.search(text))]
    return [name for _, name in sorted(hits)]


def _baseline(text: str) -> str | None:
    """The design after "than", "vs", "over", "against", "compared to"... if any."""
    return next((name for name, pattern in _AFTER_COMPARE if re.search(pattern, text, _FLAGS)), None)


def _render_perf(r: MixPEPerfResult) -> str:
    base = next(d for d in r.designs if d.design == r.baseline)
    focus = next(d for d in r.designs if d.design == r.focus)
    arrays = "iso-area arrays" if r.array == "iso_area" else "every design at the same PE count"
    lines = [
        f"**{r.focus_label} is {r.speedup:.2f}x faster than the {base.label} array and uses {r.energy_reduction:.2f}x "
        f"less energy than it** on {r.model} ({r.tokens} token{'s' if r.tokens > 1 else ''}: batch {r.batch} x {r.seq_len}; W{r.weight_bits} "
        f"weights, group {r.group_size}; {arrays}).",
        "",
        _ratio_sentence(r, focus, base),
        "",
        f"| design | array | datapath | peak MAC/cycle | time (ms) | time / {base.label} | energy (mJ) "
        f"| energy / {base.label} | core | buffer | DRAM | static |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in r.designs:
        e = d.norm_energy
        lines.append(
            f"| {d.label} | {d.array} | {d.datapath} | {d.peak_macs_per_cycle:,.0f} | {d.time_ms:,.1f} | {d.norm_time:.3f} "
            f"| {d.energy_mj['total']:,.1f} | {e['total']:.3f} | {e['core']:.3f} | {e['buffer']:.3f} "
            f"| {e['dram']:.3f} | {e['static']:.3f} |"
        )
    lines += [
        "",
        f"Energy parts are fractions of {base.label}'s total. Arrays at 500 MHz, 28 nm, with the MixPE simulator's "
        "published configuration; time = max(compute, DRAM) per GEMM over QKV, O, FFN1, FFN2 of "
        f"all {r.layers} blocks.",
    ]
    lines += artifact_lines(r.artifacts)
    return "\n".join(lines)


def _ratio_sentence(r: MixPEPerfResult, focus: Any, base: Any) -> str:
    """One sentence: what the baseline runs, and the speed-up as PE count x packing x dequantisation x the rest."""
    f = r.speedup_factors
    return (
        f"Against the {base.label} array ({base.datapath}), the {r.speedup:.2f}x = {f['pe_count']:.2f}x PE count "
        f"({focus.array} vs {base.array} PEs) x {f['packing']:.2f}x packing ({focus.macs_per_pe:.2g} vs "
        f"{base.macs_per_pe:.2g} MACs per PE per cycle) x {f['dequant']:.2f}x dequantisation ({focus.dequant_overhead:.1%} "
        f"vs {base.dequant_overhead:.1%} extra cycles: {r.focus_label} dequantises once per group of {r.group_size}) "
        f"x {f['other']:.2f} from DRAM stalls, weight-tile loading and pipeline fill."
    )


def _render_gemm(r: MixPEGemmResult) -> str:
    conv, mix = r.op_counts["conventional"], r.op_counts["mixpe"]
    if r.activation == "int8":
        verdict = "match torch.matmul bit for bit" if r.passed else "DO NOT match torch.matmul exactly"
    else:
        verdict = "match torch.matmul within FP16 rounding" if r.passed else "miss the FP16-rounding tolerance"
    lines = [
        f"**Both orders {verdict}** ({r.m}x{r.k}x{r.n}, {r.activation.upper()} activations, W{r.weight_bits}, "
        f"group {r.group_size}); MixPE needs {r.dequant_saving:g}x fewer dequantisations and "
        f"{r.multiply_saving:g}x fewer multiplications than the conventional order (dequantise every weight, then "
        "multiply).",
        "",
        "| order | max abs error | max rel error | multiplies | shifts | adds | dequantisations |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, counts in (("conventional (dequantise, then MAC)", conv), ("MixPE (group MACs, then dequantise)", mix)):
        key = "conventional" if name.startswith("conv") else "mixpe"
        lines.append(
            f"| {name} | {r.max_abs_error[key]:.3g} | {r.max_rel_error[key]:.3g} | {counts.multiplies:,} "
            f"| {counts.shifts:,} | {counts.adds:,} | {counts.dequantizations:,} |"
        )
    lines += [
        "",
        f"Reference: {r.reference}; tolerance {r.tolerance:g} relative to the largest output; seed {r.seed}; "
        f"{r.mean_set_bits:.2f} set bits per weight code on average drive the shift-and-add work.",
    ]
    return "\n".join(lines)


RENDERERS = {MixPEGemmResult: _render_gemm, MixPEPerfResult: _render_perf}

EXAMPLES = (
    "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?",
    "How much faster is W4A16 than FP16 on LLaMA-2-13B?",
    "compare the energy of MixPE with BitFusion and ANT on ViT-Huge",
    "what is the energy breakdown into core, buffer, DRAM and static for the FP16 accelerator on ViT-Base",
    "check the mixpe gemm bit exactness for 256x512x128 int8",
    "verify the mixed-precision GEMM against torch.matmul with fp16 activations",
    "count the multiplications and dequantizations of MixPE versus dequantize-then-multiply",
    "how many dequantization operations does per-group dequantization save for group size 64",
    "speedup of the MixPE processing element over a conventional systolic array",
    "simulate an iso-area accelerator running LLaMA 2 13B with 4-bit weights",
    "is the accelerator compute bound or memory bound when decoding OPT 6.7B",
    "normalized execution time of W4A8 and W4A16 designs relative to FP16",
    "how does shift-and-add multiplication reduce the PE energy",
    "model a 64x64 systolic array with int4 weights and int8 activations",
    "estimate the DRAM traffic and buffer energy of a quantized GEMM accelerator",
    "mixed-precision matrix multiplication hardware for low-bit LLM inference",
    "which processing element design gives the best energy efficiency for 4-bit weights",
    "what does dequantization overhead cost on an FP16 array",
    "compare the BitFusion bit-fusible PE with MixPE on OPT",
    "throughput of ANT's adaptive numeric type accelerator versus MixPE",
    "latency of a batch of 8 sequences of 512 tokens on the MixPE accelerator",
    "roofline of weight-stationary dataflow for transformer GEMMs",
    "how much energy does MixPE save against INT8 at 8-bit weights",
    "run the mpGEMM functional model with group size 32 and 8-bit weights",
    "hardware speedup of int4 group quantization with scale and zero point per group",
)

KEYWORDS = (
    "mixpe",
    "accelerator",
    "systolic",
    "processing element",
    "mpgemm",
    "mixed-precision gemm",
    "dequantiz",
    "dequantis",
    "shift-and-add",
    "shift and add",
    "w4a8",
    "w4a16",
    "bitfusion",
    "bit fusion",
    "iso-area",
    "dataflow",
    "roofline",
    "energy breakdown",
    "energy",
    "pe array",
)

TOOLS = (
    ToolSpec(
        name="mixpe_gemm",
        description=(
            "Bit-exact functional model of MixPE's mixed-precision GEMM (conventional vs per-group "
            "dequantisation, shift-and-add) checked against torch.matmul, with op counts of both orders."
        ),
        args_model=MixPEGemmArgs,
        run=run_mixpe_gemm,
    ),
    ToolSpec(
        name="mixpe_perf",
        description=(
            "Time and energy (core/buffer/DRAM/static) of MixPE-W4A8/W4A16, FP16, INT8, BitFusion and ANT arrays "
            "(iso-area or equal PE count) on ViT-Base, ViT-Huge, OPT-6.7B or LLaMA-2-13B, prefill or decode, "
            "normalised to a baseline, the speed-up split into PE count x packing x dequantisation."
        ),
        args_model=MixPEPerfArgs,
        run=run_mixpe_perf,
    ),
)
