"""LLANA (Chen et al., "LLM-Enhanced Bayesian Optimization for Efficient Analog Layout Constraint Generation",
IEEE LAD 2024, arXiv 2406.05250), a LLAMBO-style loop (Liu et al., ICLR 2024) over the layout knobs.

Each iteration after the initial design:

1. *candidate sampling*: the LLM sees few-shot (configuration, score) examples with semantic knob names
   ("weight of net VO1M/VO1P: 2.35") and a target score s* = best - alpha * (max - min), and proposes a
   configuration meant to reach it; ``n_candidates`` prompts, each with the examples in another order;
2. *surrogate*: for each candidate the LLM predicts the score ``n_samples`` times (examples reordered each
   time, which also gives a deterministic endpoint several samples); their mean and standard deviation feed
   expected improvement (Jones et al. 1998), EI = (best - mu) Phi(z) + sigma phi(z), z = (best - mu) / sigma;
3. the candidate with the largest EI is evaluated.

The LLM is any ``PromptFn``: prompt text (and an optional JSON schema the endpoint may enforce) in, text out;
its three prompt templates arrive beside it as ``LLANAPrompts`` (plain strings): this module knows nothing about
backends or where prompts are kept. Replies are parsed leniently (JSON, ``name: value`` pairs, or bare
numbers in knob order); a configuration outside the ranges or already evaluated is not usable (counted, dropped,
as LLAMBO drops out-of-bounds candidates). Every LLM call is recorded (``CallRecord``: role, latency,
candidates proposed and usable). Whatever the LLM cannot supply is
filled from a GP fit and counted: candidates from Thompson samples of the GP, mean/std from its posterior.
With no LLM at all the loop runs on those fallbacks alone and says so.

The LLM-as-constraint mode asks once, before GP-EI runs, for narrowed ranges and for knobs that should
share a value (ties); the search then runs in the reduced box.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from tools.analog.optim import fit_gp, gp_mean_std, sobol_points
from tools.analog.problem import OBJECTIVES, KnobSpace, objective_text
from tools.common import InputError

__all__ = (
    "PromptFn",
    "LLANAPrompts",
    "LLMStats",
    "CallRecord",
    "LLANAProposer",
    "Subspace",
    "parse_configuration",
    "parse_score",
    "parse_constraints",
    "ask_constraints",
    "expected_improvement",
    "OBJECTIVE_TEXT",
)

OBJECTIVE_TEXT = {o: objective_text(o) for o in OBJECTIVES}
"""The score in words with LLANA's bases; a problem with other bases passes its own ``objective_text``."""


class PromptFn(Protocol):
    """An LLM as a function: prompt in, completion out. ``schema`` is a JSON schema the reply should follow."""

    def __call__(self, prompt: str, *, schema: dict[str, Any] | None = None) -> str: ...


@dataclass(frozen=True)
class LLANAPrompts:
    """LLANA's three prompt templates (``str.format`` text), loaded by the caller (ChipCrew keeps them in
    ``prompts/llana_*.txt``).

    Fields filled: ``candidate`` circuit, ranges, objective, examples, target, decimals, example_json;
    ``surrogate`` circuit, ranges, objective, examples, configuration, score_hint; ``constraint`` circuit,
    objective, ranges, names.
    """

    candidate: str
    surrogate: str
    constraint: str


def _require_prompts(prompts: LLANAPrompts | None) -> LLANAPrompts:
    """The templates an LLM call needs; an LLM given without them is a caller's mistake."""
    if prompts is None:
        raise InputError("prompts", None, "LLANAPrompts (candidate, surrogate, constraint templates) whenever an llm is given")
    return prompts


@dataclass
class CallRecord:
    """One LLM call: which prompt (``candidate``, ``surrogate``, ``constraint``), its latency, whether it failed
    or did not parse, and for a candidate call the configurations proposed and usable (valid, in range, new)."""

    role: str
    seconds: float
    error: bool = False
    parsed: bool = False
    proposed: int = 0
    usable: int = 0


@dataclass
class LLMStats:
    """How the LLM part went: calls made, replies that failed or did not parse, GP fallbacks used, and one
    ``CallRecord`` per call."""

    calls: int = 0
    errors: int = 0
    unparsed: int = 0
    out_of_range: int = 0
    duplicates: int = 0
    llm_candidates: int = 0
    fallback_candidates: int = 0
    llm_predictions: int = 0
    fallback_predictions: int = 0
    seconds: float = 0.0
    records: list[CallRecord] = field(default_factory=list)

    def totals(self) -> dict[str, float]:
        """The counters, plus latency (mean, max) and proposed/usable candidates from the records."""
        out = {k: v for k, v in vars(self).items() if k != "records"}
        lat = [r.seconds for r in self.records]
        cand = [r for r in self.records if r.role == "candidate"]
        out.update(latency_mean_s=float(np.mean(lat)) if lat else 0.0, latency_max_s=max(lat, default=0.0),
                   proposed=sum(r.proposed for r in cand), usable=sum(r.usable for r in cand))
        return out


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _json_objects(text: str) -> list[Any]:
    """Every JSON value that parses from a '{' in the text, outermost first."""
    out = []
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text[m.start() :])
        except json.JSONDecodeError:
            continue
        out.append(value)
    return out


def _key(text: str) -> str:
    return re.sub(r"^weight of net\s*", "", text.strip().lower()).strip()


def _knob_index(space: KnobSpace) -> dict[str, int]:
    """Lower-case knob names, labels and single nets -> knob index."""
    index: dict[str, int] = {}
    for k, name in enumerate(space.names):
        index[name.lower()] = k
        index[_key(space.labels[k])] = k
        for net in name.split("/"):
            index.setdefault(net.lower(), k)
    return index


def parse_configuration(text: str, space: KnobSpace) -> np.ndarray | None:
    """Knob values from an LLM reply: a JSON object, ``label: value`` pairs, or d bare numbers in order."""
    index = _knob_index(space)
    for obj in _json_objects(text):
        if isinstance(obj, dict):
            values = [math.nan] * space.dim
            for key, val in obj.items():
                k = index.get(_key(str(key)))
                if k is not None and isinstance(val, (int, float)) and not isinstance(val, bool):
                    values[k] = float(val)
            if not any(math.isnan(v) for v in values):
                return np.array(values)
    values = [math.nan] * space.dim
    for k in range(space.dim):
        for name in (space.labels[k], space.names[k]):
            found = re.search(rf"{re.escape(name)}\"?\s*[:=]\s*({_NUM})", text, re.I)
            if found:
                values[k] = float(found[1])
                break
    if not any(math.isnan(v) for v in values):
        return np.array(values)
    numbers = re.findall(_NUM, re.sub(r"[A-Za-z_]\w*\d\w*", " ", text))  # drop names like VO1M, net0108
    if len(numbers) == space.dim:
        return np.array([float(n) for n in numbers])
    return None


def parse_score(text: str) -> float | None:
    """A predicted score: ``{"score": x}``, else the first number in the reply."""
    for obj in _json_objects(text):
        if isinstance(obj, dict) and isinstance(obj.get("score"), (int, float)):
            return float(obj["score"])
    found = re.search(_NUM, text)
    value = float(found[0]) if found else None
    return value if value is not None and math.isfinite(value) else None


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float) -> np.ndarray:
    """EI for minimisation (Jones, Schonlau, Welch, J. Global Optim. 13, 1998)."""
    z = (best - mu) / sigma
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
    return (best - mu) * cdf + sigma * pdf


def _candidate_schema(space: KnobSpace) -> dict[str, Any]:
    props = {n: {"type": "number", "minimum": lo, "maximum": hi} for n, lo, hi in zip(space.names, space.low, space.high)}
    return {"type": "object", "properties": props, "required": list(space.names), "additionalProperties": False}


_SCORE_SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "number"}},
    "required": ["score"],
    "additionalProperties": False,
}


@dataclass
class LLANAProposer:
    """One LLANA step per ``next`` call (identity search space: z is the knobs' unit cube).

    ``n_candidates`` = 10 proposals and ``n_samples`` = 10 surrogate predictions per candidate are the counts of
    LLANA's public code (with 5 initial points); ``alpha`` = 0.1 is LLAMBO's exploration setting and
    ``max_examples`` a prompt-length choice. The bench runs SmolLM2 on a CPU with fewer (and says so).
    """

    space: KnobSpace
    circuit_text: str
    objective: str
    llm: PromptFn | None
    seed: int
    prompts: LLANAPrompts | None = None
    alpha: float = 0.1
    n_candidates: int = 10
    n_samples: int = 10
    max_examples: int = 10
    objective_text: str = ""
    """The score in words for the prompts; empty: LLANA's bases (``OBJECTIVE_TEXT``)."""
    stats: LLMStats = field(default_factory=LLMStats)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.llm is not None:
            _require_prompts(self.prompts)

    def _ask(self, prompt: str, schema: dict[str, Any], role: str) -> tuple[str | None, CallRecord]:
        """The reply (None on failure) and the call's record, already appended to the stats."""
        self.stats.calls += 1
        start = time.perf_counter()
        record = CallRecord(role, 0.0)
        self.stats.records.append(record)
        try:
            return self.llm(prompt, schema=schema), record  # type: ignore[misc]
        except Exception as exc:  # an endpoint failure must not kill the optimisation: fall back, count it
            self.stats.errors += 1
            record.error = True
            if self.stats.errors == 1:
                self.notes.append(f"LLM call failed ({type(exc).__name__}: {exc}); GP fallback used for it")
            return None, record
        finally:
            record.seconds = time.perf_counter() - start
            self.stats.seconds += record.seconds

    def _examples(self, values: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> str:
        """Up to ``max_examples``: the best half by score, the rest drawn at random; shuffled."""
        order = np.argsort(y, kind="stable")
        keep = list(order[: self.max_examples // 2])
        rest = [int(i) for i in order[self.max_examples // 2 :]]
        extra = self.max_examples - len(keep)
        if rest and extra > 0:
            keep += list(rng.choice(rest, size=min(extra, len(rest)), replace=False))
        rng.shuffle(keep)
        return "\n".join(f"Configuration: {self.space.describe(values[i])}\nScore: {y[i]:.4f}" for i in keep)

    def _context(self) -> dict[str, str]:
        return {"circuit": self.circuit_text, "ranges": self.space.ranges(), "objective": self.objective_text or OBJECTIVE_TEXT[self.objective]}

    def next(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]:
        rng = np.random.default_rng(self.seed * 104729 + len(z))
        values = self.space.to_values(z)
        target = float(y.min() - self.alpha * (y.max() - y.min()))
        cands, sources = self._llm_candidates(values, y, target, rng)
        if len(cands) < self.n_candidates:
            extra = self._gp_candidates(z, y, self.n_candidates - len(cands), rng)
            cands += extra
            sources += ["gp_sample"] * len(extra)
        mu, sigma = self._predict(np.array(cands), z, values, y, rng)
        ei = expected_improvement(mu, sigma, float(y.min()))
        pick = int(np.argmax(ei))
        return np.array(cands[pick]), sources[pick]

    def predict(self, cands: np.ndarray, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The surrogate alone (the paper's surrogate study): mean and std of the score at unit points ``cands``."""
        rng = np.random.default_rng(self.seed * 104729 + len(z))
        return self._predict(np.asarray(cands), z, self.space.to_values(z), y, rng)

    def _llm_candidates(
        self, values: np.ndarray, y: np.ndarray, target: float, rng: np.random.Generator
    ) -> tuple[list[np.ndarray], list[str]]:
        if self.llm is None:
            return [], []
        template = _require_prompts(self.prompts).candidate
        seen = {tuple(v) for v in values}
        s = self.space
        example = {n: float(s.fmt(k, (lo + hi) / 2)) for k, (n, lo, hi) in enumerate(zip(s.names, s.low, s.high))}
        decimals = sorted({self.space.decimals(k) for k in range(self.space.dim)})
        out: list[np.ndarray] = []
        for _ in range(self.n_candidates):
            prompt = template.format(
                **self._context(),
                examples=self._examples(values, y, rng),
                target=f"{target:.4f}",
                decimals="/".join(str(d) for d in decimals),
                example_json=json.dumps(example),
            )
            reply, record = self._ask(prompt, _candidate_schema(self.space), "candidate")
            parsed = parse_configuration(reply, self.space) if reply is not None else None
            if parsed is None:
                self.stats.unparsed += reply is not None
                continue
            record.parsed, record.proposed = True, 1
            lo, hi = np.array(self.space.low), np.array(self.space.high)
            if np.any((parsed < lo) | (parsed > hi)):
                self.stats.out_of_range += 1
                continue
            rounded = self.space.to_values(self.space.to_unit(parsed))
            if tuple(rounded) in seen:
                self.stats.duplicates += 1
                continue
            seen.add(tuple(rounded))
            out.append(self.space.to_unit(rounded))
            record.usable = 1
            self.stats.llm_candidates += 1
        return out, ["llm"] * len(out)

    def _gp_candidates(self, z: np.ndarray, y: np.ndarray, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        """``n`` distinct Thompson-sample maximisers of a GP fit over 512 Sobol points."""
        import torch
        from botorch.generation import MaxPosteriorSampling

        self.stats.fallback_candidates += n
        model = fit_gp(z, -y)
        pool = sobol_points(self.space.dim, 512, int(rng.integers(1 << 30)))
        with torch.random.fork_rng():
            torch.manual_seed(int(rng.integers(1 << 30)))
            picks = MaxPosteriorSampling(model, replacement=False)(torch.tensor(pool), num_samples=n).numpy()
        return [self.space.to_unit(self.space.to_values(p)) for p in picks]

    def _predict(
        self, cands: np.ndarray, z: np.ndarray, values: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std of the LLM's sampled predictions; the GP posterior where the LLM gave none."""
        floor = 0.01 * float(y.max() - y.min()) + 1e-9
        mu, sigma = np.zeros(len(cands)), np.zeros(len(cands))
        missing = []
        for c, cand in enumerate(cands):
            preds = []
            for _ in range(self.n_samples if self.llm is not None else 0):
                prompt = _require_prompts(self.prompts).surrogate.format(
                    **self._context(),
                    examples=self._examples(values, y, rng),
                    configuration=self.space.describe(self.space.to_values(cand)),
                    score_hint=f"{float(np.median(y)):.4f}",
                )
                reply, record = self._ask(prompt, _SCORE_SCHEMA, "surrogate")
                value = parse_score(reply) if reply is not None else None
                if value is None:
                    self.stats.unparsed += reply is not None
                    continue
                record.parsed = True
                preds.append(value)
            if preds:
                self.stats.llm_predictions += 1
                mu[c], sigma[c] = float(np.mean(preds)), max(float(np.std(preds)), floor)
            else:
                missing.append(c)
        if missing:
            self.stats.fallback_predictions += len(missing)
            gm, gs = gp_mean_std(fit_gp(z, y), cands[missing])
            mu[missing], sigma[missing] = gm, np.maximum(gs, floor)
        return mu, sigma


@dataclass(frozen=True)
class Subspace:
    """A narrowed, possibly tied box: knob k takes ``low[k] + z[group[k]] * (high[k] - low[k])``."""

    group: tuple[int, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    @classmethod
    def full(cls, space: KnobSpace) -> Subspace:
        return cls(tuple(range(space.dim)), space.low, space.high)

    @property
    def dim(self) -> int:
        return max(self.group) + 1

    def to_unit(self, z: np.ndarray, space: KnobSpace) -> np.ndarray:
        """Search point -> unit cube of the full knob space."""
        lo, hi = np.array(self.low), np.array(self.high)
        values = lo + np.asarray(z)[list(self.group)] * (hi - lo)
        return space.to_unit(values)

    def from_unit(self, unit: np.ndarray, space: KnobSpace) -> np.ndarray:
        """Full unit point -> search point (a tied group takes its first knob's coordinate)."""
        values = np.array(space.low) + np.asarray(unit) * (np.array(space.high) - np.array(space.low))
        z = np.zeros(self.dim)
        for k in reversed(range(len(self.group))):
            width = self.high[k] - self.low[k]
            z[self.group[k]] = (values[k] - self.low[k]) / width if width > 0 else 0.0
        return np.clip(z, 0.0, 1.0)


def _constraint_schema(space: KnobSpace) -> dict[str, Any]:
    pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    return {
        "type": "object",
        "properties": {
            "ranges": {"type": "object", "properties": {n: pair for n in space.names}, "additionalProperties": False},
            # bounded, so that a grammar-constrained small model cannot ramble until it runs out of tokens
            "ties": {
                "type": "array",
                "items": {"type": "array", "items": {"enum": list(space.names)}, "minItems": 2, "maxItems": 4},
                "maxItems": 6,
            },
        },
        "required": ["ranges", "ties"],
        "additionalProperties": False,
    }


def parse_constraints(text: str, space: KnobSpace, min_fraction: float = 0.1) -> tuple[Subspace, list[str]]:
    """Narrowed ranges and ties from an LLM reply; anything invalid keeps the full range. Returns notes too.

    Each range is clipped to the original, widened about its centre to at least ``min_fraction`` of it;
    tied knobs take the intersection of their ranges (the union if they do not intersect).
    """
    notes: list[str] = []
    index = _knob_index(space)
    low, high = list(space.low), list(space.high)
    obj = next((o for o in _json_objects(text) if isinstance(o, dict) and "ranges" in o), None)
    if obj is None:
        return Subspace.full(space), ["constraint reply had no JSON with 'ranges': full box kept"]
    ranges = obj.get("ranges") if isinstance(obj.get("ranges"), dict) else {}
    for key, pair in ranges.items():
        k = index.get(_key(str(key)))
        nums = [float(v) for v in pair if isinstance(v, (int, float))] if isinstance(pair, list) else []
        if k is None or len(nums) != 2 or not all(math.isfinite(v) for v in nums):
            notes.append(f"ignored range for {key!r}")
            continue
        lo, hi = max(min(nums), space.low[k]), min(max(nums), space.high[k])
        need = min_fraction * (space.high[k] - space.low[k])
        if hi - lo < need:
            centre = min(max((lo + hi) / 2, space.low[k] + need / 2), space.high[k] - need / 2)
            lo, hi = centre - need / 2, centre + need / 2
        low[k], high[k] = lo, hi
    group = list(range(space.dim))
    tied: set[int] = set()
    for tie in obj.get("ties") or []:
        members = [index.get(_key(str(n))) for n in tie] if isinstance(tie, list) else []
        members = [m for m in dict.fromkeys(members) if m is not None and m not in tied]
        if len(members) < 2:
            continue
        lo, hi = max(low[m] for m in members), min(high[m] for m in members)
        if hi <= lo:
            lo, hi = min(low[m] for m in members), max(high[m] for m in members)
        for m in members:
            group[m], low[m], high[m] = members[0], lo, hi
        tied.update(members)
    remap = {g: i for i, g in enumerate(dict.fromkeys(group))}
    return Subspace(tuple(remap[g] for g in group), tuple(low), tuple(high)), notes


def ask_constraints(
    llm: PromptFn | None,
    space: KnobSpace,
    circuit_text: str,
    objective: str,
    prompts: LLANAPrompts | None = None,
    text: str = "",
) -> tuple[Subspace, list[str], LLMStats]:
    """Ask the LLM once for narrowed ranges and ties; without an LLM, or on failure, keep the full box."""
    stats = LLMStats()
    if llm is None:
        return Subspace.full(space), ["no LLM configured: LLM-as-constraint kept the full box (plain GP-EI)"], stats
    prompt = _require_prompts(prompts).constraint.format(
        circuit=circuit_text, objective=text or OBJECTIVE_TEXT[objective], ranges=space.ranges(), names=", ".join(space.names)
    )
    stats.calls = 1
    start = time.perf_counter()
    try:
        reply = llm(prompt, schema=_constraint_schema(space))
    except Exception as exc:  # the endpoint failed: say so and search the full box
        stats.errors = 1
        stats.records.append(CallRecord("constraint", time.perf_counter() - start, error=True))
        return Subspace.full(space), [f"LLM call failed ({type(exc).__name__}: {exc}): full box kept"], stats
    stats.seconds = time.perf_counter() - start
    sub, notes = parse_constraints(reply, space)
    stats.unparsed = int(sub == Subspace.full(space))
    stats.records.append(CallRecord("constraint", stats.seconds, parsed=not stats.unparsed))
    return sub, notes, stats
