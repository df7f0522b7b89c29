"""The hardware architect: MixPE's mixed-precision GEMM and accelerator model; GNNavigator's GNN training DSE.

Tools:
- ``mixpe_gemm``: the functional model of MixPE's mpGEMM (dequantise after the per-group partial sum,
  shift-and-add products) against ``torch.matmul``, with operation counts of both orders;
- ``mixpe_perf``: time and energy of iso-area FP16, INT8, BitFusion, ANT and MixPE arrays on the weight
  GEMMs of ViT-Base, ViT-Huge, OPT-6.7B or LLaMA-2-13B, normalised to a baseline;
- ``gnn_profile``: train one GNN configuration for real (sampler, fan-outs, batch, width, depth, feature
  cache, overlap) and measure epoch time, peak memory and accuracy, refusing what is predicted not to fit;
- ``gnn_fit``: fit the gray-box runtime/memory/accuracy model on a few runs and report its held-out error;
- ``gnn_explore``: GNNavigator's model-guided search for the configuration that best meets a priority,
  against the default configuration and random search, with a Pareto plot.

The deterministic planner sends requests about GNN training (GraphSAGE, GCN, fan-outs, neighbour or cluster
sampling, feature caches, the digits/karate/SBM/power-law graphs) to the GNN tools, and everything else to
MixPE. For MixPE it reads shapes (``256x512x128``), precisions (``W4A8``, ``fp16 activations``), model names
in any common spelling, designs and the baseline after "than"/"vs"/"over", sequence length, batch and group
size; for GNNs the graph and its size, the knobs, epochs, budgets, priority and accuracy tolerance. Anything
the request does not mention is left to the tool's defaults.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from agents.base import AgentSpec, ToolCall, ToolSpec
from tools.gnn.explore import GNNExploreArgs, GNNExploreResult, run_gnn_explore
from tools.gnn.fit import GNNFitArgs, GNNFitResult, run_gnn_fit
from tools.gnn.profile import GNNProfileArgs, GNNProfileResult, run_gnn_profile
from tools.gnn.train import ProfileRecord
from tools.mixpe.gemm import MixPEGemmArgs, MixPEGemmResult, run_mixpe_gemm
from tools.mixpe.perf import MixPEPerfArgs, MixPEPerfResult, run_mixpe_perf
from tools.mixpe.transformer_shapes import find_model

__all__ = ("AGENT", "plan", "render")

_FLAGS = re.I
_SHAPE = re.compile(r"\b(\d+)\s*[x×*]\s*(\d+)\s*[x×*]\s*(\d+)\b", _FLAGS)
_DIM = {d: re.compile(rf"\b{d}\s*=\s*(\d+)\b", _FLAGS) for d in ("m", "k", "n")}
_WXAY = re.compile(r"\bw(\d+)\s*a(\d+)\b", _FLAGS)
_GEMM_INTENT = re.compile(
    r"bit[\s-]*exact|exactness|functional[\s-]+(?:model|check)|torch\.matmul|\bverify\b|"
    r"op(?:eration)?s?[\s-]+counts?|count(?:s|ing)?\s+(?:the\s+)?(?:op|mult|shift|add|dequant)|"
    r"how\s+many\s+(?:op|mult|shift|add|dequant)|\bcheck\b.*\bgemm\b|\bgemm\b.*\bcheck\b",
    _FLAGS,
)
_GROUP = (
    re.compile(r"\bgroup(?:[\s_-]*size)?\s*(?:of|=|:|is)?\s*(\d+)\b", _FLAGS),
    re.compile(r"\bgroups?\s+of\s+(\d+)\b", _FLAGS),
    re.compile(r"\bg\s*=?\s*(\d+)\b", _FLAGS),
)
_SEED = re.compile(r"\bseed\s*(?:of|=|:|is)?\s*(\d+)\b", _FLAGS)
_BATCH = re.compile(r"\bbatch(?:[\s_-]*size)?\s*(?:of|=|:|is)?\s*(\d+)\b", _FLAGS)
_SEQ = (
    re.compile(
        r"\b(?:seq(?:uence)?[\s_-]*len(?:gth)?|context(?:[\s_-]*length)?|prompt(?:[\s_-]*length)?)"
        r"\s*(?:of|=|:|is)?\s*(\d+)\s*(k)?\b",
        _FLAGS,
    ),
    re.compile(r"\b(\d+)\s*(k)?[\s-]*tokens?\b", _FLAGS),
)
_DECODE = re.compile(r"\bdecod\w*|\bnext[\s-]token|\bper[\s-]token\b|\btoken[\s-]+generation\b", _FLAGS)
_WEIGHT_BITS = re.compile(r"\b(?:u?int(\d+)|(\d+)[\s-]*bits?)[\s-]+weights?\b", _FLAGS)
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
_ALL_DESIGNS = re.compile(r"\ball\s+(?:the\s+)?(?:designs|baselines|accelerators|arrays)\b", _FLAGS)


def plan(request: str) -> ToolCall:
    """GNN training requests go to ``gnn_explore``/``gnn_fit``/``gnn_profile``; otherwise ``mixpe_gemm`` for
    correctness / op-count questions and shapes, else ``mixpe_perf``."""
    if _GNN.search(request):
        return _plan_gnn(request)
    if _SHAPE.search(request) or _GEMM_INTENT.search(request):
        return ToolCall(tool="mixpe_gemm", args=_gemm_args(request))
    return ToolCall(tool="mixpe_perf", args=_perf_args(request))


def _gemm_args(text: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    shape = _SHAPE.search(text)
    if shape:
        args.update(m=int(shape[1]), k=int(shape[2]), n=int(shape[3]))
    for dim, pattern in _DIM.items():
        found = pattern.search(text)
        if found:
            args[dim] = int(found[1])
    args.update(_precision_args(text, bare_formats=True))
    _put_int(args, "group_size", text, *_GROUP)
    _put_int(args, "seed", text, _SEED)
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
    for pattern in _SEQ:
        found = pattern.search(text)
        if found:
            args["seq_len"] = int(found[1]) * (1024 if found[2] else 1)
            break
    _put_int(args, "batch", text, _BATCH)
    _put_int(args, "group_size", text, *_GROUP)
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
            out["weight_bits"] = int(bits[1] or bits[2])
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


def _put_int(args: dict[str, Any], key: str, text: str, *patterns: re.Pattern[str]) -> None:
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            args[key] = int(found[1])
            return



# --- GNN training (GNNavigator) ---------------------------------------------------------------------------

_GNN = re.compile(
    r"\bgnns?\b|graph[\s-]+neural|graph\s*sage|\bsage\b|\bgcns?\b|gnnavigator|fan[\s-]*outs?\b|"
    r"neighbou?r[\s-]+sampl|cluster[\s-]+(?:sampl|gcn|batch)|full[\s-]+(?:batch|graph)\s+training|"
    r"feature[\s-]+cach|node[\s-]+classification|\bdigits\s+graph|\bknn\s+graph|karate|stochastic[\s-]+block|"
    r"\bsbm\b|power[\s-]*law\s+graph|scale[\s-]+free\s+graph",
    _FLAGS,
)
_EXPLORE = re.compile(
    r"\bexplor\w*|\bsearch\w*|\bpareto\b|design[\s-]+space|\btun(?:e|ing)\b|\boptimi[sz]\w*|\bbest\b|"
    r"\brecommend\w*|\bpick\b|\bchoose\b|\bwhich\s+(?:training\s+)?config\w*|fastest|least\s+memory|"
    r"lowest\s+memory|minimi[sz]e\s+(?:the\s+)?(?:peak\s+)?memory|\bbalanced?\b|trade[\s-]?off",
    _FLAGS,
)
_FIT = re.compile(
    r"\bfit(?:s|ting|ted)?\s+(?:the\s+|a\s+|its\s+)?(?:[\w-]+\s+){0,3}?model|\bcalibrat\w*|prediction\s+errors?|"
    r"held[\s-]*out|\bhold[\s-]*out|how\s+(?:accurate|good|well)\s+(?:is\s+)?(?:the\s+)?(?:[\w-]+\s+){0,2}?model",
    _FLAGS,
)
_NUM = r"(\d[\d,_]*(?:\.\d+)?)"
_GRAPH_NAMES = (
    ("digits", re.compile(r"\bdigits?\b", _FLAGS)),
    ("karate", re.compile(r"\bkarate\b", _FLAGS)),
    ("sbm", re.compile(r"\bsbm\b|stochastic[\s-]+block|\bsynthetic\b", _FLAGS)),
    ("powerlaw", re.compile(r"power[\s-]*law|scale[\s-]+free|chung[\s-]+lu", _FLAGS)),
)
_GRAPH_PATH = re.compile(r"(?:^|\s)((?:~|\.{1,2})?/[\w./-]+)")
_NODES = re.compile(
    rf"{_NUM}\s*(k|m|thousand|million)?\s*(?:-|\s)?nodes?\b|\b10\s*\^\s*(\d)\s*(?:-|\s)?nodes?\b|"
    rf"\b1e(\d)\s*(?:-|\s)?nodes?\b",
    _FLAGS,
)
_NOT_A_FANOUT = r"(?!\s*(?:(?:-?\s*layers?|hops?|epochs?|runs?|nodes?|seeds?)\b|%|\s*percent))"
_FANOUTS = (
    re.compile(rf"fan[\s-]*outs?\s*(?:of|=|:|is|are)?\s*(\d+\b(?:\s*(?:/|,|x|and)\s*\d+\b{_NOT_A_FANOUT})*)", _FLAGS),
    re.compile(r"\b(\d+(?:\s*/\s*\d+)+)\s*(?:fan[\s-]*outs?|neighbou?rs|sampling)\b", _FLAGS),
    re.compile(r"\bsampl\w*\s+(?:of\s+|with\s+)?(\d+(?:\s*/\s*\d+)+)\b", _FLAGS),
)
_GNN_BATCH = re.compile(r"\bbatch(?:[\s_-]*size)?\s*(?:of|=|:|is)?\s*(\d+)\b|\b(\d+)\s+seeds?\b", _FLAGS)
_HIDDEN = (
    re.compile(r"\bhidden(?:[\s_-]*(?:size|width|dim(?:ension)?s?|units|channels|layers?))?\s*(?:of|=|:|is)?\s*(\d+)",
               _FLAGS),
    re.compile(r"\b(\d+)\s*(?:hidden\s+(?:units|channels|dim\w*)|-?dim(?:ensional)?\s+hidden|hidden)\b", _FLAGS),
    re.compile(r"\bwidth\s*(?:of|=|:)?\s*(\d+)", _FLAGS),
)
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4}
_LAYERS = (
    re.compile(r"\b(\d|one|two|three|four)[\s-]*(?:gnn\s+|message[\s-]passing\s+)?(?:layers?|hops?)\b", _FLAGS),
    re.compile(r"\b(?:layers?|depth)\s*(?:of|=|:|is)?\s*(\d)\b", _FLAGS),
)
_CACHE_RATIO = (
    re.compile(r"\bcach\w*\s+(?:the\s+)?(?:features\s+of\s+)?(?:the\s+)?(?:top\s+|hottest\s+)?(\d+(?:\.\d+)?)\s*%",
               _FLAGS),
    re.compile(r"\b(\d+(?:\.\d+)?)\s*%\s*(?:of\s+(?:the\s+)?(?:nodes?|features?)\s*)?(?:\w+\s+)?cach", _FLAGS),
    re.compile(r"\bcache[\s_-]*ratio\s*(?:of|=|:|is)?\s*(0?\.\d+|1(?:\.0+)?)\b", _FLAGS),
)
_NO_CACHE = re.compile(r"\bno\s+(?:feature\s+)?cach|without\s+(?:a\s+|the\s+)?(?:feature\s+)?cach", _FLAGS)
_OVERLAP_ON = re.compile(r"\boverlap\w*|\bpipelin\w*|\bprefetch\w*", _FLAGS)
_OVERLAP_OFF = re.compile(r"\b(?:no|without|disable\w*)\s+(?:data[\s-]loading\s+)?(?:overlap|pipelin|prefetch)",
                          _FLAGS)
_EPOCHS = re.compile(r"\b(\d+)\s*epochs?\b|\bepochs?\s*(?:of|=|:|is)?\s*(\d+)\b", _FLAGS)
_GNN_SEED = re.compile(r"\bseed\s*(?:of|=|:|is)?\s*(\d+)\b", _FLAGS)
_DEVICE = re.compile(r"\bon\s+(?:the\s+)?(cpu|cuda|gpu)\b|\b(cuda|gpu)\b", _FLAGS)
_MEMORY_BUDGET = re.compile(
    rf"(?:budget|limit|under|below|within|at\s+most|fit\s+in(?:to)?|cap)\s+(?:of\s+)?{_NUM}\s*(gib|gb|mib|mb)\b|"
    rf"{_NUM}\s*(gib|gb|mib|mb)\s+(?:of\s+)?(?:memory\s+)?(?:budget|limit|cap)",
    _FLAGS,
)
_TIME_BUDGET = re.compile(
    rf"{_NUM}\s*(ms|milliseconds?|s|secs?|seconds?)\s*(?:per|an|/|a)\s*epoch|"
    rf"(?:time\s+budget|epoch[\s-]time\s+(?:budget|limit))\s*(?:of|=|:|is)?\s*{_NUM}\s*"
    r"(ms|milliseconds?|s|secs?|seconds?)",
    _FLAGS,
)
_TOLERANCE = re.compile(
    r"(?:within|lose|losing|loss\s+of|drop\s+of|at\s+most|no\s+more\s+than|≤|<=)\s*(?:at\s+most\s+)?"
    r"(\d+(?:\.\d+)?)\s*(?:%|percent|pp|points?|percentage\s+points?)\s*(?:of\s+)?(?:\w+\s+){0,2}?(?:accuracy|acc)?",
    _FLAGS,
)
_RUNS = re.compile(r"\b(\d+)\s+(?:real\s+|training\s+|profil\w+\s+)?(?:runs|trials|profiles|evaluations|"
                   r"experiments)\b|\bbudget\s+of\s+(\d+)\s+runs\b", _FLAGS)
_HOLDOUT = re.compile(r"\bhold(?:ing)?[\s-]*out\s+(\d+)|\b(\d+)\s+held[\s-]*out", _FLAGS)
_RANDOM = re.compile(r"\brandom[\s-]+search|\bagainst\s+random|\bvs\.?\s+random|\bversus\s+random|"
                     r"\bthan\s+random", _FLAGS)


def _plan_gnn(text: str) -> ToolCall:
    """``gnn_explore`` for search/priority requests, ``gnn_fit`` for model-fitting requests, else ``gnn_profile``."""
    args = _graph_args(text)
    train = _train_args(text)
    if train:
        args["train"] = train
    config = _config_args(text)
    budget = _mib(_MEMORY_BUDGET.search(text))
    if budget is not None:
        args["memory_budget_mb"] = budget
    runs = _RUNS.search(text)
    if _EXPLORE.search(text) and not (_FIT.search(text) and not _priority(text)):
        if config:
            args["reference"] = config
            if "model" in config:
                args["space"] = {"model": config["model"]}
        priority = _priority(text)
        if priority:
            args["priority"] = priority
        tolerance = _TOLERANCE.search(text)
        if tolerance:
            args["accuracy_tolerance"] = float(tolerance[1]) / 100.0
        seconds = _seconds(_TIME_BUDGET.search(text))
        if seconds is not None:
            args["time_budget_s"] = seconds
        if runs:
            args["runs"] = int(runs[1] or runs[2])
        if _RANDOM.search(text):
            args["compare_random"] = True
        return ToolCall(tool="gnn_explore", args=args)
    if _FIT.search(text):
        if runs:
            args["runs"] = int(runs[1] or runs[2])
        holdout = _HOLDOUT.search(text)
        if holdout:
            args["holdout"] = int(holdout[1] or holdout[2])
        if config:
            args["reference"] = config
        return ToolCall(tool="gnn_fit", args=args)
    if config:
        args["config"] = config
    return ToolCall(tool="gnn_profile", args=args)


def _graph_args(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    path = _GRAPH_PATH.search(text)
    named = [(m.start(), name) for name, pattern in _GRAPH_NAMES if (m := pattern.search(text))]
    if path:
        out["graph"] = path[1]
    elif named:
        out["graph"] = min(named)[1]
    nodes = _NODES.search(text)
    if nodes and out.get("graph") in ("sbm", "powerlaw"):
        if nodes[3] or nodes[4]:
            out["num_nodes"] = 10 ** int(nodes[3] or nodes[4])
        else:
            scales = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}
            scale = scales.get((nodes[2] or "").lower(), 1)
            out["num_nodes"] = int(float(nodes[1].replace(",", "").replace("_", "")) * scale)
    return out


def _train_args(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    epochs = _EPOCHS.search(text)
    if epochs:
        out["epochs"] = int(epochs[1] or epochs[2])
    seed = _GNN_SEED.search(text)
    if seed:
        out["seed"] = int(seed[1])
    device = _DEVICE.search(text)
    if device:
        out["device"] = "cpu" if (device[1] or "").lower() == "cpu" else "cuda"
    if re.search(r"\bcpu[\s-]+time\b", text, _FLAGS):
        out["clock"] = "cpu"
    return out


def _config_args(text: str) -> dict[str, Any]:
    """The knobs the request names, as a partial ``GNNConfig``."""
    out: dict[str, Any] = {}
    if re.search(r"\bgcns?\b", text, _FLAGS) and not re.search(r"cluster[\s-]+gcn", text, _FLAGS):
        out["model"] = "gcn"
    elif re.search(r"graph\s*sage|\bsage\b", text, _FLAGS):
        out["model"] = "sage"
    if re.search(r"\bfull[\s-]+(?:batch|graph)\b", text, _FLAGS):
        out["sampler"] = "full"
    elif re.search(r"\bcluster(?:[\s-]+(?:gcn|sampl\w*|batch\w*))?\b", text, _FLAGS):
        out["sampler"] = "cluster"
    elif re.search(r"neighbou?r[\s-]+sampl", text, _FLAGS):
        out["sampler"] = "neighbor"
    for pattern in _FANOUTS:
        found = pattern.search(text)
        if found:
            out["fanouts"] = [int(v) for v in re.findall(r"\d+", found[1])]
            out.setdefault("sampler", "neighbor")
            break
    batch = _GNN_BATCH.search(text)
    if batch and out.get("sampler") != "full":
        out["batch_size"] = int(batch[1] or batch[2])
    for pattern in _HIDDEN:
        found = pattern.search(text)
        if found:
            out["hidden"] = int(found[1])
            break
    for pattern in _LAYERS:
        found = pattern.search(text)
        if found:
            word = found[1].lower()
            out["layers"] = _WORD_NUMBERS.get(word) or int(word)
            break
    if not _NO_CACHE.search(text):
        if re.search(r"pre[\s-]*sampl\w*|hotness|visit\s+counts?|gnnlab", text, _FLAGS):
            out["cache_policy"] = "presample"
        elif re.search(r"\bdegree\b|pagraph", text, _FLAGS) and re.search(r"cach", text, _FLAGS):
            out["cache_policy"] = "degree"
        for pattern in _CACHE_RATIO:
            found = pattern.search(text)
            if found:
                value = float(found[1])
                out["cache_ratio"] = value / 100.0 if "%" in found[0] else value
                break
    if _OVERLAP_OFF.search(text):
        out["overlap"] = False
    elif _OVERLAP_ON.search(text):
        out["overlap"] = True
    return out


def _priority(text: str) -> str | None:
    if re.search(r"least\s+memory|lowest\s+memory|less\s+memory|minimi[sz]e\s+(?:the\s+)?(?:peak\s+)?memory|"
                 r"memory[\s-]+(?:efficient|frugal|saving)|smallest\s+(?:peak\s+)?memory", text, _FLAGS):
        return "least_memory"
    if re.search(r"\bbalanced?\b|trade[\s-]?off|both\s+time\s+and\s+memory", text, _FLAGS):
        return "balanced"
    if re.search(r"fastest|quickest|speed|minimi[sz]e\s+(?:the\s+)?(?:epoch\s+)?time|shortest", text, _FLAGS):
        return "fastest"
    return None


def _mib(found: re.Match[str] | None) -> float | None:
    if not found:
        return None
    value, unit = (found[1], found[2]) if found[1] else (found[3], found[4])
    number = float(value.replace(",", ""))
    return number * 1024.0 if unit.lower() in ("gb", "gib") else number


def _seconds(found: re.Match[str] | None) -> float | None:
    if not found:
        return None
    value, unit = (found[1], found[2]) if found[1] else (found[3], found[4])
    number = float(value.replace(",", ""))
    return number / 1000.0 if unit.lower().startswith("m") else number

def render(call: ToolCall, result: BaseModel) -> str:
    """Markdown answer: the key finding first (one line), then a table and the artefacts."""
    if isinstance(result, MixPEGemmResult):
        return _render_gemm(result)
    if isinstance(result, MixPEPerfResult):
        return _render_perf(result)
    if isinstance(result, GNNProfileResult):
        return _render_gnn_profile(result)
    if isinstance(result, GNNFitResult):
        return _render_gnn_fit(result)
    if isinstance(result, GNNExploreResult):
        return _render_gnn_explore(result)
    raise TypeError(f"hardware_architect cannot render a {type(result).__name__} (from {call.tool})")


def _render_perf(r: MixPEPerfResult) -> str:
    base = next(d for d in r.designs if d.design == r.baseline)
    lines = [
        f"**{r.focus_label} is {r.speedup:.2f}x faster than {base.label} and uses {r.energy_reduction:.2f}x less "
        f"energy** on {r.model} ({r.tokens} tokens: batch {r.batch} x {r.seq_len}; W{r.weight_bits} weights, "
        f"group {r.group_size}).",
        "",
        f"| design | array | peak MAC/cycle | time (ms) | time / {base.label} | energy (mJ) | energy / {base.label} "
        "| core | buffer | DRAM | static |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in r.designs:
        e = d.norm_energy
        lines.append(
            f"| {d.label} | {d.array} | {d.peak_macs_per_cycle:,.0f} | {d.time_ms:,.1f} | {d.norm_time:.3f} "
            f"| {d.energy_mj['total']:,.1f} | {e['total']:.3f} | {e['core']:.3f} | {e['buffer']:.3f} "
            f"| {e['dram']:.3f} | {e['static']:.3f} |"
        )
    lines += [
        "",
        f"Energy parts are fractions of {base.label}'s total. Iso-area arrays at 500 MHz, 28 nm, with the MixPE "
        "simulator's published configuration; time = max(compute, DRAM) per GEMM over QKV, O, FFN1, FFN2 of "
        f"all {r.layers} blocks.",
    ]
    lines += [f"- {kind}: `{path}`" for kind, path in r.artifacts.items()]
    return "\n".join(lines)


def _render_gemm(r: MixPEGemmResult) -> str:
    conv, mix = r.op_counts["conventional"], r.op_counts["mixpe"]
    if r.activation == "int8":
        verdict = "match torch.matmul bit for bit" if r.passed else "DO NOT match torch.matmul exactly"
    else:
        verdict = "match torch.matmul within FP16 rounding" if r.passed else "miss the FP16-rounding tolerance"
    lines = [
        f"**Both orders {verdict}** ({r.m}x{r.k}x{r.n}, {r.activation.upper()} activations, W{r.weight_bits}, "
        f"group {r.group_size}); MixPE needs {r.dequant_saving:g}x fewer dequantisations and "
        f"{r.multiply_saving:g}x fewer multiplications.",
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


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1e3:,.1f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _render_gnn_profile(r: GNNProfileResult) -> str:
    rec, pred = r.record, r.record.predicted
    name = f"`{rec.config.label()}` on {rec.graph}"
    if not rec.launched:
        return "\n".join([
            f"**Not launched: {name} is predicted to need {pred.get('peak_mb', 0.0):,.1f} MiB of peak memory, above "
            f"the {r.memory_budget_mb:,.1f} MiB budget.**",
            "",
            f"{rec.reason}. Lower the batch size, fan-outs, width or cache ratio, or use neighbour sampling.",
        ])
    lines = [
        f"**{name}: {_ms(rec.epoch_s)} ms per epoch, peak memory {rec.peak_mb:,.2f} MiB, validation accuracy "
        f"{_pct(rec.val_acc)}** (test {_pct(rec.test_acc)}; {rec.clock} time, {rec.device}).",
        "",
        "| quantity | measured | predicted |",
        "|---|---:|---:|",
        f"| epoch time (ms) | {_ms(rec.epoch_s)} | {_ms(pred.get('epoch_s'))} |",
        f"| sampling (ms/epoch) | {_ms(rec.sample_s)} | {_ms(pred.get('sample_s'))} |",
        f"| feature movement (ms/epoch) | {_ms(rec.move_s)} | {_ms(pred.get('move_s'))} |",
        f"| compute (ms/epoch) | {_ms(rec.compute_s)} | {_ms(pred.get('compute_s'))} |",
        f"| peak memory (MiB) | {rec.peak_mb:,.2f} | {pred.get('peak_mb', float('nan')):,.2f} |",
        f"| validation accuracy | {_pct(rec.val_acc)} | {_pct(pred.get('val_acc'))} |",
        "",
        f"{rec.batches_per_epoch} batches per epoch, {rec.epochs} epochs ({rec.steps} steps, time = median of "
        f"{'epochs 2..' if rec.timed == 'epochs' else 'steps after warm-up, extrapolated'}); cache hit rate "
        f"{_pct(rec.hit_rate)}; memory budget {r.memory_budget_mb:,.0f} MiB. "
        + ("Predictions from the fitted model." if "epoch_s" in pred else "Memory predicted by the analytic prior; "
           "fit the model (gnn_fit) to predict time and accuracy."),
    ]
    lines += [f"- {kind}: `{path}`" for kind, path in r.artifacts.items()]
    return "\n".join(lines)


def _render_gnn_fit(r: GNNFitResult) -> str:
    e = r.heldout_error
    head = (
        f"**Fitted on {len(r.fitted)} runs of {r.graph['name']}; on {len(r.heldout)} held-out configurations the "
        f"median relative error is {e['time_median_rel_error']:.1%} for epoch time and "
        f"{e['memory_median_rel_error']:.1%} for peak memory**"
        if e else f"**Fitted on {len(r.fitted)} runs of {r.graph['name']}** (no held-out runs requested)"
    )
    lines = [head + ".", "",
             "| held-out configuration | epoch ms | predicted | peak MiB | predicted | val acc | predicted |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for h in r.heldout:
        p = h.prediction
        lines.append(f"| `{h.config.label()}` | {_ms(h.epoch_s)} | {_ms(p['epoch_s'])} | {h.peak_mb:,.2f} | "
                     f"{p['peak_mb']:,.2f} | {_pct(h.val_acc)} | {_pct(p['val_acc'])} |")
    if r.fit_error:
        lines += ["", f"On the fitted runs: time {r.fit_error['time_median_rel_error']:.1%}, memory "
                      f"{r.fit_error['memory_median_rel_error']:.1%} median relative error."]
    coef = r.coefficients
    lines.append(f"Overlap gain g = {coef['overlap_gain']:.2f}, per-batch overhead {coef['overhead_s'] * 1e3:.2f} ms.")
    lines += [f"- {kind}: `{path}`" for kind, path in r.artifacts.items()]
    return "\n".join(lines)


def _row(label: str, rec: ProfileRecord) -> str:
    return (f"| {label} | `{rec.config.label()}` | {_ms(rec.epoch_s)} | {rec.peak_mb:,.2f} | {_pct(rec.val_acc)} | "
            f"{_pct(rec.test_acc)} |")


def _render_gnn_explore(r: GNNExploreResult) -> str:
    ref, ch, p = r.reference, r.chosen, r.chosen_predicted
    goal = {"fastest": "fastest", "least_memory": "least memory", "balanced": "best time x memory"}[r.priority]
    if ch.config == ref.config:
        head = f"**No configuration beat the default `{ref.config.label()}` ({goal}) on {ref.graph}.**"
    else:
        head = (f"**Chosen ({goal}, accuracy within {r.accuracy_tolerance:.1%}): `{ch.config.label()}` — "
                f"{r.speedup:.2f}x faster than the default with {r.memory_reduction:.1%} less peak memory, "
                f"validation accuracy {r.accuracy_delta * 100:+.1f} points** on {ref.graph}.")
    lines = [
        head, "",
        "| | configuration | epoch ms | peak MiB | val acc | test acc |",
        "|---|---|---:|---:|---:|---:|",
        _row("default", ref),
        _row("chosen (measured)", ch),
        f"| chosen (predicted) | | {_ms(p['epoch_s'])} | {p['peak_mb']:,.2f} | {_pct(p['val_acc'])} | |",
        "",
        "| search | real runs | runs to within 5 % of the best | chosen | speed-up | memory saved |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for s in r.searches:
        c = s.records[s.chosen]
        reach = "not reached" if s.runs_to_reach is None else str(s.runs_to_reach)
        lines.append(f"| {s.strategy} (seed {s.seed}) | {s.launched} | {reach} | `{c.config.label()}` | "
                     f"{ref.epoch_s / c.epoch_s:.2f}x | {1 - c.peak_mb / ref.peak_mb:.1%} |")
    e = r.prediction_error
    if e:
        lines += ["", f"Model predictions made before each model-chosen run ({e['runs']:.0f} runs): median error "
                      f"{e['time_median_rel_error']:.1%} (epoch time), {e['memory_median_rel_error']:.1%} (memory)."]
    if r.heldout_error:
        h = r.heldout_error
        lines.append(f"Final model on {h['runs']:.0f} random-search runs it never saw: {h['time_median_rel_error']:.1%}"
                     f" (time), {h['memory_median_rel_error']:.1%} (memory).")
    if r.refused:
        lines.append(f"Predicted not to fit in memory, never launched: {', '.join(r.refused)}.")
    lines.append(f"{r.candidates:,} candidate configurations; {len(r.pareto)} measured runs on the Pareto front; "
                 f"times are {ref.clock} seconds.")
    lines += [f"- {kind}: `{path}`" for kind, path in r.artifacts.items()]
    return "\n".join(lines)


AGENT = AgentSpec(
    name="hardware_architect",
    description=(
        "Accelerator architecture for quantised ML: MixPE mixed-precision GEMM checked bit for bit with op "
        "counts, and time/energy of iso-area MixPE, FP16, INT8, BitFusion and ANT arrays on transformer workloads; "
        "GNN training configuration exploration (GNNavigator): profile, fit a performance model, Pareto search."
    ),
    examples=(
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
        "profile GraphSAGE training on the digits graph with fan-out 10/5 and batch size 512",
        "how long does a GNN training epoch take with neighbour sampling 25/10 and what is its peak memory",
        "find the fastest GNN training configuration within 1% accuracy of the default",
        "explore sampler, batch size and feature cache settings for GCN training on a power-law graph",
        "which GNN training configuration uses the least memory under a time budget",
        "fit the GNN performance model and tell me its prediction error on held-out configurations",
        "Pareto front of epoch time, peak memory and accuracy for mini-batch graph neural network training",
        "compare cluster sampling with full-batch training on a stochastic block model graph with 100k nodes",
        "does caching 20% of node features by degree speed up GraphSAGE training",
        "run GNNavigator's design space exploration and compare it with random search",
        "will full-batch GCN training on a million-node graph fit in 2 GB of memory",
        "overlap data loading with compute for graph neural network training and measure the speedup",
    ),
    keywords=(
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
        "gnn",
        "graphsage",
        "gcn",
        "gnnavigator",
        "graph neural network",
        "neighbor sampling",
        "neighbour sampling",
        "fan-out",
        "fanout",
        "cluster-gcn",
        "feature cache",
        "node classification",
    ),
    tools=(
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
                "Time and energy (core/buffer/DRAM/static) of iso-area MixPE-W4A8/W4A16, FP16, INT8, BitFusion "
                "and ANT arrays on ViT-Base, ViT-Huge, OPT-6.7B or LLaMA-2-13B, normalised to a baseline."
            ),
            args_model=MixPEPerfArgs,
            run=run_mixpe_perf,
        ),
        ToolSpec(
            name="gnn_profile",
            description=(
                "Train one GNN configuration (GraphSAGE/GCN; neighbour, cluster or full-batch sampling; fan-outs, "
                "batch, width, depth, feature cache, overlap) for real on a graph and measure epoch time by phase, "
                "peak memory and accuracy; refuses configurations predicted not to fit in memory."
            ),
            args_model=GNNProfileArgs,
            run=run_gnn_profile,
        ),
        ToolSpec(
            name="gnn_fit",
            description=(
                "Fit the gray-box GNN training model (sampling + feature movement + compute time, memory, "
                "accuracy) on a few real runs and report its median error on held-out configurations."
            ),
            args_model=GNNFitArgs,
            run=run_gnn_fit,
        ),
        ToolSpec(
            name="gnn_explore",
            description=(
                "GNNavigator-style model-guided search of GNN training configurations for a priority (fastest, "
                "least memory, balanced) within an accuracy tolerance of the default; compares with random "
                "search and writes a Pareto plot."
            ),
            args_model=GNNExploreArgs,
            run=run_gnn_explore,
        ),
    ),
    plan=plan,
    render=render,
    prompt="hardware_architect",
)
