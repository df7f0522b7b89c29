"""GNNavigator's half of the hardware architect: GNN training-configuration tools, request parsing, answers.

``gnn_profile`` trains one configuration for real and measures it, ``gnn_fit`` fits the gray-box performance
model and reports its held-out error, ``gnn_explore`` searches the design space for a priority. The planner
reads the graph (a named one or a path) and its size, the knobs (model, sampler, fan-outs, batch, width, depth,
feature cache, overlap), epochs, seed, device, memory and time budgets, the priority, the accuracy tolerance and
run counts; anything unsaid is left to the tool's defaults.
"""

from __future__ import annotations

import re
from typing import Any

from agents.base import ToolCall, ToolSpec
from agents.parsing import (
    BATCH,
    NUMBER,
    SEED,
    artifact_lines,
    counted,
    device,
    first_int,
    first_match,
    ms,
    pct,
    put_int,
    rooted_paths,
    to_float,
)
from tools.gnn.explore import GNNExploreArgs, GNNExploreResult, run_gnn_explore
from tools.gnn.fit import GNNFitArgs, GNNFitResult, run_gnn_fit
from tools.gnn.profile import GNNProfileArgs, GNNProfileResult, run_gnn_profile
from tools.gnn.runs import ProfileRecord

__all__ = ("TOOLS", "EXAMPLES", "KEYWORDS", "RENDERERS", "handles", "plan")

_FLAGS = re.I
_GNN_REQUEST = re.compile(
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
_GRAPH_NAMES = (
    ("digits", re.compile(r"\bdigits?\b", _FLAGS)),
    ("karate", re.compile(r"\bkarate\b", _FLAGS)),
    ("sbm", re.compile(r"\bsbm\b|stochastic[\s-]+block|\bsynthetic\b", _FLAGS)),
    ("powerlaw", re.compile(r"power[\s-]*law|scale[\s-]+free|chung[\s-]+lu", _FLAGS)),
)
_NODES = re.compile(
    rf"{NUMBER}\s*(k|m|thousand|million)?\s*(?:-|\s)?nodes?\b|\b10\s*\^\s*(\d)\s*(?:-|\s)?nodes?\b|"
    rf"\b1e(\d)\s*(?:-|\s)?nodes?\b",
    _FLAGS,
)
_NOT_A_FANOUT = r"(?!\s*(?:(?:-?\s*layers?|hops?|epochs?|runs?|nodes?|seeds?)\b|%|\s*percent))"
_FANOUTS = (
    re.compile(rf"fan[\s-]*outs?\s*(?:of|=|:|is|are)?\s*(\d+\b(?:\s*(?:/|,|x|and)\s*\d+\b{_NOT_A_FANOUT})*)", _FLAGS),
    re.compile(r"\b(\d+(?:\s*/\s*\d+)+)\s*(?:fan[\s-]*outs?|neighbou?rs|sampling)\b", _FLAGS),
    re.compile(r"\bsampl\w*\s+(?:of\s+|with\s+)?(\d+(?:\s*/\s*\d+)+)\b", _FLAGS),
)
_GNN_BATCH = re.compile(rf"{BATCH.pattern}|\b(\d+)\s+seeds?\b", _FLAGS)
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
_MEMORY_BUDGET = re.compile(
    rf"(?:budget|limit|under|below|within|at\s+most|fit\s+in(?:to)?|cap)\s+(?:of\s+)?{NUMBER}\s*(gib|gb|mib|mb)\b|"
    rf"{NUMBER}\s*(gib|gb|mib|mb)\s+(?:of\s+)?(?:memory\s+)?(?:budget|limit|cap)",
    _FLAGS,
)
_TIME_BUDGET = re.compile(
    rf"{NUMBER}\s*(ms|milliseconds?|s|secs?|seconds?)\s*(?:per|an|/|a)\s*epoch|"
    rf"(?:time\s+budget|epoch[\s-]time\s+(?:budget|limit))\s*(?:of|=|:|is)?\s*{NUMBER}\s*"
    r"(ms|milliseconds?|s|secs?|seconds?)",
    _FLAGS,
)
_TOLERANCE = re.compile(
    r"(?:within|lose|losing|loss\s+of|drop\s+of|at\s+most|no\s+more\s+than|≤|<=)\s*(?:at\s+most\s+)?"
    r"(\d+(?:\.\d+)?)\s*(?:%|percent|pp|points?|percentage\s+points?)\s*(?:of\s+)?(?:\w+\s+){0,2}?(?:accuracy|acc)?",
    _FLAGS,
)
_EPOCHS = counted(r"epochs?")
_RUNS = counted(r"runs|trials|profiles|evaluations|experiments", qualifier=r"real|training|profil\w+")
_HOLDOUT = re.compile(r"\bhold(?:ing)?[\s-]*out\s+(\d+)|\b(\d+)\s+held[\s-]*out", _FLAGS)
_RANDOM = re.compile(r"\brandom[\s-]+search|\bagainst\s+random|\bvs\.?\s+random|\bversus\s+random|"
                     r"\bthan\s+random", _FLAGS)


def handles(request: str) -> bool:
    """Whether the request is about GNN training (the model, sampling, the GNNavigator graphs...)."""
    return _GNN_REQUEST.search(request) is not None


def plan(text: str) -> ToolCall:
    """``gnn_explore`` for search/priority requests, ``gnn_fit`` for model-fitting requests, else ``gnn_profile``."""
    args = _graph_args(text)
    train = _train_args(text)
    if train:
        args["train"] = train
    config = _config_args(text)
    budget = _mib(_MEMORY_BUDGET.search(text))
    if budget is not None:
        args["memory_budget_mb"] = budget
    runs = first_int(text, _RUNS)
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
        if runs is not None:
            args["runs"] = runs
        if _RANDOM.search(text):
            args["compare_random"] = True
        return ToolCall(tool="gnn_explore", args=args)
    if _FIT.search(text):
        if runs is not None:
            args["runs"] = runs
        put_int(args, "holdout", text, _HOLDOUT)
        if config:
            args["reference"] = config
        return ToolCall(tool="gnn_fit", args=args)
    if config:
        args["config"] = config
    return ToolCall(tool="gnn_profile", args=args)


def _graph_args(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    paths = rooted_paths(text)
    named = [(m.start(), name) for name, pattern in _GRAPH_NAMES if (m := pattern.search(text))]
    if paths:
        out["graph"] = paths[0]
    elif named:
        out["graph"] = min(named)[1]
    nodes = _NODES.search(text)
    if nodes and out.get("graph") in ("sbm", "powerlaw"):
        if nodes[3] or nodes[4]:
            out["num_nodes"] = 10 ** int(nodes[3] or nodes[4])
        else:
            scales = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}
            scale = scales.get((nodes[2] or "").lower(), 1)
            out["num_nodes"] = int(to_float(nodes[1]) * scale)
    return out


def _train_args(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    put_int(out, "epochs", text, _EPOCHS)
    put_int(out, "seed", text, SEED)
    where = device(text)
    if where:
        out["device"] = where
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
    fanouts = first_match(text, *_FANOUTS)
    if fanouts:
        out["fanouts"] = [int(v) for v in re.findall(r"\d+", fanouts[1])]
        out.setdefault("sampler", "neighbor")
    batch = _GNN_BATCH.search(text)
    if batch and out.get("sampler") != "full":
        out["batch_size"] = int(batch[1] or batch[2])
    put_int(out, "hidden", text, *_HIDDEN)
    layers = first_match(text, *_LAYERS)
    if layers:
        out["layers"] = _WORD_NUMBERS.get(layers[1].lower()) or int(layers[1])
    if not _NO_CACHE.search(text):
        if re.search(r"pre[\s-]*sampl\w*|hotness|visit\s+counts?|gnnlab", text, _FLAGS):
            out["cache_policy"] = "presample"
        elif re.search(r"\bdegree\b|pagraph", text, _FLAGS) and re.search(r"cach", text, _FLAGS):
            out["cache_policy"] = "degree"
        ratio = first_match(text, *_CACHE_RATIO)
        if ratio:
            out["cache_ratio"] = float(ratio[1]) / 100.0 if "%" in ratio[0] else float(ratio[1])
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
    number = to_float(value)
    return number * 1024.0 if unit.lower() in ("gb", "gib") else number


def _seconds(found: re.Match[str] | None) -> float | None:
    if not found:
        return None
    value, unit = (found[1], found[2]) if found[1] else (found[3], found[4])
    number = to_float(value)
    return number / 1000.0 if unit.lower().startswith("m") else number


def _render_profile(r: GNNProfileResult) -> str:
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
        f"**{name}: {ms(rec.epoch_s)} ms per epoch, peak memory {rec.peak_mb:,.2f} MiB, validation accuracy "
        f"{pct(rec.val_acc)}** (test {pct(rec.test_acc)}; {rec.clock} time, {rec.device}).",
        "",
        "| quantity | measured | predicted |",
        "|---|---:|---:|",
        f"| epoch time (ms) | {ms(rec.epoch_s)} | {ms(pred.get('epoch_s'))} |",
        f"| sampling (ms/epoch) | {ms(rec.sample_s)} | {ms(pred.get('sample_s'))} |",
        f"| feature movement (ms/epoch) | {ms(rec.move_s)} | {ms(pred.get('move_s'))} |",
        f"| compute (ms/epoch) | {ms(rec.compute_s)} | {ms(pred.get('compute_s'))} |",
        f"| peak memory (MiB) | {rec.peak_mb:,.2f} | {pred.get('peak_mb', float('nan')):,.2f} |",
        f"| validation accuracy | {pct(rec.val_acc)} | {pct(pred.get('val_acc'))} |",
        "",
        f"{rec.batches_per_epoch} batches per epoch, {rec.epochs} epochs ({rec.steps} steps, time = median of "
        f"{'epochs 2..' if rec.timed == 'epochs' else 'steps after warm-up, extrapolated'}); cache hit rate "
        f"{pct(rec.hit_rate)}; memory budget {r.memory_budget_mb:,.0f} MiB. "
        + ("Predictions from the fitted model." if "epoch_s" in pred else "Memory predicted by the analytic prior; "
           "fit the model (gnn_fit) to predict time and accuracy."),
    ]
    lines += artifact_lines(r.artifacts)
    return "\n".join(lines)


def _render_fit(r: GNNFitResult) -> str:
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
        lines.append(f"| `{h.config.label()}` | {ms(h.epoch_s)} | {ms(p['epoch_s'])} | {h.peak_mb:,.2f} | "
                     f"{p['peak_mb']:,.2f} | {pct(h.val_acc)} | {pct(p['val_acc'])} |")
    if r.fit_error:
        lines += ["", f"On the fitted runs: time {r.fit_error['time_median_rel_error']:.1%}, memory "
                      f"{r.fit_error['memory_median_rel_error']:.1%} median relative error."]
    coef = r.coefficients
    lines.append(f"Overlap gain g = {coef['overlap_gain']:.2f}, per-batch overhead {coef['overhead_s'] * 1e3:.2f} ms.")
    lines += artifact_lines(r.artifacts)
    return "\n".join(lines)


def _row(label: str, rec: ProfileRecord) -> str:
    return (f"| {label} | `{rec.config.label()}` | {ms(rec.epoch_s)} | {rec.peak_mb:,.2f} | {pct(rec.val_acc)} | "
            f"{pct(rec.test_acc)} |")


def _render_explore(r: GNNExploreResult) -> str:
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
        f"| chosen (predicted) | | {ms(p['epoch_s'])} | {p['peak_mb']:,.2f} | {pct(p['val_acc'])} | |",
        "",
        "| search | real runs | runs to within 5 % of the best | chosen | speed-up over the default "
        "| memory saved vs the default |",
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
    lines += artifact_lines(r.artifacts)
    return "\n".join(lines)

RENDERERS = {GNNProfileResult: _render_profile, GNNFitResult: _render_fit, GNNExploreResult: _render_explore}

EXAMPLES = (
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
)

KEYWORDS = (
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
)

TOOLS = (
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
)
