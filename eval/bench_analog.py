"""Benchmark of the analog loop: LLANA vs GP-EI vs TuRBO-1 vs Sobol vs random on real post-layout simulations.

Run: ``chipcrew bench analog [--quick] [--out DIR] [--llm scripted --llm embedded]``. Writes ``bench_analog.json``
and ``regret.png`` into the folder and prints:

1. *landscape*: CMRR, |offset| and evaluation time over Sobol-random knob settings (is there anything to
   optimise?), next to the schematic;
2. *optimisers*: best LLANA score and normalised regret against evaluations, mean +- standard error over
   seeds, for every method on the same black box and the same initial design per seed. Regret is
   (best so far - f*) / (f_worst - f*), with f* the best and f_worst the worst score any run evaluated
   (LLAMBO's normalisation; the true optimum is unknown);
3. *llana*: LLANA and LLM-as-constraint end to end with each requested LLM: ``scripted`` (a deterministic
   stand-in that copies the best few-shot configuration with one knob nudged, and predicts the score of the
   nearest example), ``embedded`` (SmolLM2-135M on the CPU, honest and weak), ``openai`` (the configured
   OpenAI-compatible endpoint, e.g. vLLM; added by default whenever ``CHIPCREW_OPENAI_BASE_URL`` is set),
   ``none`` (the GP fallback); LLANA's published counts (10 candidates, 10 surrogate samples, 5 initial points),
   and per LLM call its latency, candidates proposed and usable (valid, in range, not a duplicate).
   A real endpoint: ``vllm serve Qwen/Qwen2.5-7B-Instruct`` on a GPU machine, then
   ``CHIPCREW_OPENAI_BASE_URL=http://HOST:8000/v1 chipcrew bench analog --quick --llm scripted --llm openai``;
4. *layout-set studies* (``eval/analog_study.py``), per circuit (OTA_XT_MAGICAL and OTA_5T): on a cached set of
   random knob settings x 3 placement seeds (``tools.analog.dataset``, simulated once into the user cache folder),
   LLANA's surrogate experiment (GP, random forest, LLM-as-surrogate; R^2 and simple regret on held-out layouts
   at 5/10/20/30 observations) and GP-EI vs random choosing among the set's layouts (regret curves over >= 10
   seeds, ``pool_regret_<circuit>.png``), on the raw score (placement seed 0) and the smoothed one (seed mean);
5. *errors*: the messages for a non-converging simulation, a missing ngspice, a bad knob and an unknown circuit.

Scores use bases where each circuit sits after layout (``POST_LAYOUT_BASES``; ``--llana-bases`` for LLANA's).

Published reference: LLANA (arXiv 2406.05250) reports only surrogate-model experiments (its layout data is not
public), so there is no published number for this loop; MAGICAL-CIRCUITS' README gives the 40 nm schematic
OTA_XT_MAGICAL at 54 dB gain, 52 deg PM, 624 MHz GBW.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from chipcrew.llm.adapters import llana_prompts
from tools.analog.circuits import load_circuit
from tools.analog.llana import LLANAProposer, PromptFn, parse_configuration
from tools.analog.models import gf180_library, user_library
from tools.analog.optim import sobol_points
from tools.analog.problem import POST_LAYOUT_BASES, KnobSpace, LayoutOptions, Problem, objective_text
from tools.analog.search import SearchLog, run_search
from tools.analog.spice import ACM_FLOOR_DB, find_ngspice, simulate
from tools.analog.tech import GF180
from tools.common import ChipCrewError

__all__ = ("NAME", "DESCRIPTION", "Baseline", "LLMKind", "run_bench", "to_markdown", "CopyBestLLM")

NAME = "analog"
DESCRIPTION = "LLANA vs GP-EI vs TuRBO vs Sobol/random on the real placement -> parasitics -> ngspice loop of an OTA."
Progress = Callable[[str, float], None] | None
Baseline = Literal["gp_ei", "turbo", "sobol", "random"]
"""The optimisers LLANA is compared with (``tools.analog.search.Method`` without the LLANA ones)."""
LLMKind = Literal["scripted", "embedded", "openai", "none"]
"""What answers LLANA's prompts: a deterministic stand-in, SmolLM2-135M, the configured endpoint, or no LLM."""

MAGICAL_SCHEMATIC = {"adm_db": 54.0, "pm_deg": 52.0, "gbw_hz": 624e6}  # MAGICAL-CIRCUITS OTA README (40 nm)
# the layout-set studies (eval/analog_study.py): layouts x placement seeds cached under the user cache folder
_STUDY_FULL = {"study_layouts": 240, "study_placement_seeds": 3, "study_reps": 10, "study_test": 100, "pool_budget": 50,
               "pool_seeds": 20, "study_variants": ["raw", "smoothed"],
               "study_circuits": ["OTA_XT_MAGICAL", "OTA_5T"]}
_STUDY_QUICK = {**_STUDY_FULL, "study_layouts": 80, "study_reps": 3, "study_test": 40, "pool_budget": 20,
                "pool_seeds": 10, "study_variants": ["smoothed"]}
FULL = {"seeds": 5, "budget": 25, "n_init": 5, "landscape_points": 32, "methods": list(get_args(Baseline)),
        "llms": ["scripted", "none"], "llana_seeds": 5} | _STUDY_FULL
QUICK = {"seeds": 2, "budget": 10, "n_init": 5, "landscape_points": 8, "methods": list(get_args(Baseline)),
         "llms": ["scripted"], "llana_seeds": 1} | _STUDY_QUICK
# LLANA's own counts (10 candidates, 10 surrogate samples) are LLANAProposer's defaults and run with the scripted
# stand-in and an endpoint; SmolLM2-135M on 2 shared CPU cores needs seconds per call (110 calls a step at the
# published counts), so it runs with fewer candidates, samples and examples, recorded in the JSON's config.
_LLANA_SMALL = {"n_candidates": 2, "n_samples": 1, "max_examples": 5}


class CopyBestLLM:
    """A deterministic stand-in for an LLM, for the LLANA prompts.

    Candidates: the best few-shot configuration with one knob (chosen by a CRC of the prompt) moved by +-20% of
    its range. Predictions: the score of the nearest few-shot example (L1 distance in the unit cube).
    Constraints: every knob's central half, no ties.
    """

    def __init__(self, space: KnobSpace):
        self.space = space

    def _examples(self, prompt: str) -> list[tuple[np.ndarray, float]]:
        out = []
        for cfg, score in re.findall(r"Configuration: (.*)\nScore: (\S+)", prompt):
            values = parse_configuration(cfg, self.space)
            if values is not None:
                out.append((values, float(score)))
        return out

    def __call__(self, prompt: str, *, schema: dict[str, Any] | None = None) -> str:
        s = self.space
        if "Narrow each knob" in prompt:
            ranges = {n: [lo + (hi - lo) / 4, hi - (hi - lo) / 4] for n, lo, hi in zip(s.names, s.low, s.high)}
            return json.dumps({"ranges": ranges, "ties": []})
        examples = self._examples(prompt)
        if "Predict the score" in prompt:
            target = parse_configuration(prompt.split("Predict the score of this configuration:")[1], s)
            dist = [np.abs(s.to_unit(v) - s.to_unit(target)).sum() for v, _ in examples]
            return json.dumps({"score": examples[int(np.argmin(dist))][1]})
        best = min(examples, key=lambda e: e[1])[0].copy()
        crc = zlib.crc32(prompt.encode())
        k = crc % s.dim
        best[k] += (1 if crc & 1 << 16 else -1) * 0.2 * (s.high[k] - s.low[k])
        return json.dumps({n: float(v) for n, v in zip(s.names, np.clip(best, s.low, s.high))})


def _llm(kind: LLMKind, space: KnobSpace) -> PromptFn | None:
    if kind == "scripted":
        return CopyBestLLM(space)
    if kind == "none":
        return None
    from chipcrew.llm import make_client
    from chipcrew.llm.adapters import prompt_fn
    from chipcrew.settings import Settings

    settings = Settings(llm_backend=kind)  # embedded: SmolLM2-135M; openai: CHIPCREW_OPENAI_BASE_URL
    return prompt_fn(make_client(settings))


def _children_cpu() -> float:
    """CPU seconds used so far by finished child processes (the ngspice runs), user + system."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _landscape(problem: Problem, points: int, out: Path, progress: Progress) -> dict[str, Any]:
    """The score surface seen by random knobs, and the schematic for reference."""
    sch = simulate(problem.circuit, problem.lib, out / "schematic").performance
    rows = []
    for k, unit in enumerate(sobol_points(problem.space.dim, points, seed=12345)):
        start, child = time.process_time(), _children_cpu()
        t = problem(unit, "landscape")
        rows.append({"cmrr_db": t.performance.cmrr_db, "offset_v": t.performance.offset_v, "seconds": t.seconds,
                     "python_cpu_seconds": time.process_time() - start, "ngspice_cpu_seconds": _children_cpu() - child,
                     "converged": t.converged, "area_um2": t.area_um2})
        if progress:
            progress(f"landscape {k + 1}/{points}", 0.1 * (k + 1) / points)
    ok = [r for r in rows if r["converged"]]
    cmrr = [r["cmrr_db"] for r in ok]
    off = [abs(r["offset_v"]) * 1e3 for r in ok]

    def stats(v: list[float]) -> dict[str, float]:
        return {"min": min(v), "median": float(np.median(v)), "max": max(v), "std": float(np.std(v))} if v else {}

    return {
        "points": points,
        "failed": len(rows) - len(ok),
        "cmrr_db": stats(cmrr),
        "offset_mv": stats(off),
        "eval_seconds": stats([r["seconds"] for r in rows]),
        "python_cpu_seconds": stats([r["python_cpu_seconds"] for r in rows]),
        "ngspice_cpu_seconds": stats([r["ngspice_cpu_seconds"] for r in rows]),
        "area_um2": stats([r["area_um2"] for r in rows]),
        "schematic": sch.model_dump(),
        "magical_schematic_40nm": MAGICAL_SCHEMATIC,
    }


def _run(problem: Problem, method: str, seed: int, cfg: dict[str, Any], llm: PromptFn | None, llana: dict) -> dict[str, Any]:
    start = time.perf_counter()
    log: SearchLog = run_search(problem, method, cfg["budget"], cfg["n_init"], seed, llm, None, llana, llana_prompts())
    wall = time.perf_counter() - start
    best = log.best()
    return {
        "method": method,
        "seed": seed,
        "best_so_far": log.best_so_far(),
        "scores": [t.score for t in log.trials],
        "sources": [t.source for t in log.trials],
        "best_score": best.score if best else None,
        "best_cmrr_db": best.performance.cmrr_db if best else None,
        "best_offset_mv": abs(best.performance.offset_v) * 1e3 if best else None,
        "failed": sum(1 for t in log.trials if not t.converged),
        "seconds": wall,
        "eval_seconds": sum(t.seconds for t in log.trials),
        "llm": log.llm.totals(),
        "llm_calls": [vars(r) for r in log.llm.records],
        "notes": log.notes,
        "box": {"low": list(log.subspace.low), "high": list(log.subspace.high)},
        "ties": [[n for n, g in zip(problem.space.names, log.subspace.group) if g == k]
                 for k in sorted(set(log.subspace.group)) if list(log.subspace.group).count(k) > 1],
    }


def _regret(runs: list[dict[str, Any]]) -> None:
    """Add each run's normalised regret curve, from the best and worst scores any run evaluated."""
    scores = [s for r in runs for s in r["scores"] if s is not None]
    if not scores:
        return
    f_star, f_worst = min(scores), max(scores)
    span = (f_worst - f_star) or 1.0
    for r in runs:
        r["regret"] = [None if b is None else (b - f_star) / span for b in r["best_so_far"]]
        r["f_star"], r["f_worst"] = f_star, f_worst


def _summary(runs: list[dict[str, Any]], label: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """Mean and standard error per label of the final best score, regret, CMRR/offset at best, and time."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault(label(r), []).append(r)
    out = {}
    for name, rs in groups.items():
        def ms(values: list[float | None]) -> tuple[float | None, float | None]:
            v = [x for x in values if x is not None]
            if not v:
                return None, None
            return float(np.mean(v)), float(np.std(v, ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0

        n = max(len(r["best_so_far"]) for r in rs)
        curve = [ms([r["regret"][t] if t < len(r["regret"]) else None for r in rs]) for t in range(n)]
        n_init = rs[0]["n_init"]
        out[name] = {
            "runs": len(rs),
            "best_score": ms([r["best_score"] for r in rs]),
            "regret_at_init": ms([r["regret"][n_init - 1] for r in rs]),
            "regret_final": ms([r["regret"][-1] for r in rs]),
            "cmrr_db_at_best": ms([r["best_cmrr_db"] for r in rs]),
            "offset_mv_at_best": ms([r["best_offset_mv"] for r in rs]),
            "seconds_per_run": ms([r["seconds"] for r in rs]),
            "overhead_per_run": ms([r["seconds"] - r["eval_seconds"] for r in rs]),
            "failed": sum(r["failed"] for r in rs),
            "regret_curve": curve,
            "llm": _llm_summary(rs),
            "notes": sorted({n for r in rs for n in r["notes"]}),
        }
    return out


def _llm_summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Counters summed over runs; latency and proposed/usable candidates from every recorded call."""
    keys = ("calls", "errors", "unparsed", "out_of_range", "duplicates", "llm_candidates", "fallback_candidates",
            "llm_predictions", "fallback_predictions", "seconds")
    out: dict[str, float] = {k: sum(r["llm"][k] for r in runs) for k in keys}
    calls = [c for r in runs for c in r["llm_calls"]]
    lat = [c["seconds"] for c in calls]
    cand = [c for c in calls if c["role"] == "candidate"]
    out.update(latency_mean_s=float(np.mean(lat)) if lat else 0.0, latency_p50_s=float(np.median(lat)) if lat else 0.0,
               latency_max_s=max(lat, default=0.0), candidate_calls=len(cand),
               proposed=sum(c["proposed"] for c in cand), usable=sum(c["usable"] for c in cand))
    return out


def _plot(summary: dict[str, Any], path: Path, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, s in summary.items():
        mean = np.array([np.nan if m is None else m for m, _ in s["regret_curve"]])
        se = np.array([np.nan if e is None else e for _, e in s["regret_curve"]])
        steps = np.arange(1, len(mean) + 1)
        ax.plot(steps, mean, label=f"{name} (n={s['runs']})")
        ax.fill_between(steps, mean - se, mean + se, alpha=0.15)
    ax.set_xlabel("evaluations (placement + extraction + ngspice)")
    ax.set_ylabel("normalised regret (mean +- s.e.)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def _studies(cfg: dict[str, Any], out_dir: Path, progress: Progress) -> dict[str, Any]:
    """Per circuit, the surrogate and pool-optimisation studies on its cached layout set (simulated where missing).
    The metric is the bench's objective (CMRR for ``both``), with the circuit's post-layout base."""
    from eval.analog_study import run_studies
    from tools.analog.dataset import layout_set
    from tools.common import user_cache_dir

    out = {}
    for k, name in enumerate(cfg["study_circuits"]):
        circuit = load_circuit(name)
        bases = cfg["bases"] if name == cfg["circuit"] else POST_LAYOUT_BASES.get(name, {})
        problem = Problem.build(circuit, cfg["objective"], LayoutOptions(), GF180, gf180_library(), out_dir / f"set_{name}")
        at = 0.8 + 0.15 * k / len(cfg["study_circuits"])
        tick = (lambda a: lambda m, f: progress(m, a + 0.05 * f / len(cfg["study_circuits"])) if progress else None)
        data = layout_set(problem, cfg["study_layouts"], cfg["study_placement_seeds"], user_cache_dir() / "analog",
                          progress=tick(at))
        # LLM as surrogate: the scripted stand-in and a configured endpoint; SmolLM2 would need hours for the table
        llms = {k: (_llm(k, problem.space), llana_prompts(), {"n_samples": 3}) for k in cfg["llms"] if k in ("scripted", "openai")}
        metric = "cmrr" if cfg["objective"] == "both" else cfg["objective"]
        out[name] = run_studies(data, {**cfg, "bases": bases}, llms, problem.space, circuit.description, out_dir,
                                tick(at + 0.05), metric=metric)
    return out


def _errors(problem: Problem, out: Path) -> dict[str, str]:
    """The message each documented failure mode produces."""
    from tools.analog.optimize_tool import AnalogOptimizeArgs
    from tools.analog.place_tool import AnalogPlaceArgs, run_analog_place

    msgs: dict[str, str] = {}
    crippled = out / "crippled.lib"
    crippled.write_text(".options noopiter gminsteps=0 srcsteps=0\n" + gf180_library().path.read_text())
    sim = simulate(load_circuit("OTA_5T"), user_library(crippled, "nmos_3p3", "pmos_3p3"), out / "nonconvergent")
    msgs["non-converging simulation"] = f"converged={sim.converged}: {sim.message}"
    for case, fn in (
        ("missing ngspice", lambda: find_ngspice("/nonexistent/ngspice")),
        ("bad knob value", lambda: run_analog_place(AnalogPlaceArgs(circuit="OTA_5T", net_weights={"TAIL": -1.0}, out_dir=str(out / "bad")))),
        ("unknown knob", lambda: run_analog_place(AnalogPlaceArgs(circuit="OTA_5T", net_weights={"VS": 1.0}, out_dir=str(out / "bad")))),
        ("unknown circuit", lambda: AnalogOptimizeArgs(circuit="OTA_9T")),
    ):
        try:
            fn()
            msgs[case] = "no error (unexpected)"
        except (ChipCrewError, ValueError) as err:
            msgs[case] = str(err).splitlines()[0] if "validation error" not in str(err) else " ".join(str(err).split())[:240]
    return msgs


def run_bench(out_dir: Path, quick: bool = False, progress: Progress = None, **options: Any) -> dict[str, Any]:
    """Run the benchmark into ``out_dir``; ``options`` override the quick/full configuration (see ``FULL``)."""
    import torch

    torch.set_num_threads(1)
    cfg = {**(QUICK if quick else FULL), "circuit": "OTA_XT_MAGICAL", "objective": "cmrr", "bases": None,
           "placement_seeds": 1}
    if os.environ.get("CHIPCREW_OPENAI_BASE_URL"):  # a configured endpoint joins the default LLMs
        cfg["llms"] = [*cfg["llms"], "openai"]
    cfg.update({k: v for k, v in options.items() if v is not None})
    if cfg["bases"] is None:  # where the circuit sits after layout ({} from --llana-bases: the paper's)
        cfg["bases"] = POST_LAYOUT_BASES.get(cfg["circuit"], {})
    out_dir.mkdir(parents=True, exist_ok=True)
    circuit = load_circuit(cfg["circuit"])
    problem = Problem.build(circuit, cfg["objective"], LayoutOptions(), GF180, gf180_library(), out_dir / "evals",
                            bases=cfg["bases"], placement_seeds=cfg["placement_seeds"])
    result: dict[str, Any] = {"config": cfg, "quick": quick}
    result["landscape"] = _landscape(problem, cfg["landscape_points"], out_dir, progress)
    runs: list[dict[str, Any]] = []
    jobs = [(m, s, None, {}) for s in range(cfg["seeds"]) for m in cfg["methods"]]
    for kind in cfg["llms"]:
        llm = _llm(kind, problem.space)
        llana = _LLANA_SMALL if kind in ("embedded",) else {}
        cfg.setdefault("llana_options", {})[kind] = llana or {k: LLANAProposer.__dataclass_fields__[k].default for k in _LLANA_SMALL}
        for method in ("llana", "llana_constraint"):
            jobs += [(method, s, (kind, llm), llana) for s in range(cfg["llana_seeds"])]
    for j, (method, seed, llm, llana) in enumerate(jobs):
        label = method if llm is None else f"{method}[{llm[0]}]"
        if progress:
            progress(f"{label} seed {seed}", 0.1 + 0.85 * j / len(jobs))
        run = _run(problem, method, seed, cfg, llm[1] if llm else None, llana)
        runs.append({**run, "label": label, "n_init": cfg["n_init"]})
    _regret(runs)
    result["runs"] = runs
    result["summary"] = _summary(runs, lambda r: r["label"])
    title = f"{circuit.name}, {cfg['objective']} score, {cfg['budget']} evaluations ({cfg['n_init']} shared initial)"
    result["plot"] = _plot(result["summary"], out_dir / "regret.png", title)
    result["unique_evaluations"] = len(problem.cache)
    if cfg["study_layouts"]:
        result["studies"] = _studies(cfg, out_dir, progress)
    result["errors"] = _errors(problem, out_dir)
    (out_dir / "bench_analog.json").write_text(json.dumps(result, indent=1, default=str))
    if progress:
        progress("done", 1.0)
    return result


def _schematic_cmrr(perf: dict[str, Any]) -> str:
    """A symmetric schematic's CMRR is ideal (Acm under ``ACM_FLOOR_DB``), not a measured number."""
    if perf.get("cmrr_ideal"):
        return f"ideal (symmetric netlist: Acm below the {ACM_FLOOR_DB:.0f} dB numerical floor, CMRR >= {perf['cmrr_db']:.0f} dB)"
    return f"{perf['cmrr_db']:.1f} dB"


def _pm(v: tuple[float | None, float | None] | list, fmt: str = ".4f") -> str:
    mean, se = v
    return "n/a" if mean is None else f"{mean:{fmt}} ± {se:{fmt}}"


def to_markdown(result: dict[str, Any]) -> str:
    cfg, land = result["config"], result["landscape"]
    sch = land["schematic"]
    lines = [
        f"### Landscape: {land['points']} Sobol-random knob settings of {cfg['circuit']} ({land['failed']} failed)",
        "",
        "| quantity | min | median | max | std |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, name in (("cmrr_db", "post-layout CMRR (dB)"), ("offset_mv", "post-layout abs(offset) (mV)"),
                      ("eval_seconds", "evaluation wall time (s)"), ("python_cpu_seconds", "placement + extraction CPU (s)"),
                      ("ngspice_cpu_seconds", "ngspice CPU (s)"), ("area_um2", "layout area (um^2)")):
        s = land.get(key)
        lines.append(f"| {name} | {s['min']:.4g} | {s['median']:.4g} | {s['max']:.4g} | {s['std']:.3g} |" if s else f"| {name} | n/a | | | |")
    mag = land["magical_schematic_40nm"]
    lines += [
        "",
        f"Schematic (gf180 3.3 V, ours): gain {sch['adm_db']:.1f} dB, GBW {sch['gbw_hz'] / 1e6:.0f} MHz, PM {sch['pm_deg']:.1f} deg, "
        f"offset {sch['offset_v'] * 1e3:.3g} mV, CMRR {_schematic_cmrr(sch)}; MAGICAL README "
        f"(40 nm): {mag['adm_db']:.0f} dB, {mag['gbw_hz'] / 1e6:.0f} MHz, {mag['pm_deg']:.0f} deg.",
        "",
        f"### Optimisers: {cfg['objective']} score {objective_text(cfg['objective'], cfg['bases'])} "
        f"({'bases where the circuit sits; LLANA' if cfg['bases'] else 'LLANA'}'s are 80 dB and 1 mV), metrics averaged "
        f"over {cfg['placement_seeds']} placement seed(s), {cfg['budget']} evaluations ({cfg['n_init']} shared initial), "
        "mean ± s.e. over seeds",
        "",
        "| method | runs | best score | regret after init | final regret | CMRR at best (dB) | abs(offset) at best (mV) | s / run | optimiser overhead s / run | failed sims |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in result["summary"].items():
        lines.append(
            f"| {name} | {s['runs']} | {_pm(s['best_score'])} | {_pm(s['regret_at_init'], '.3f')} | {_pm(s['regret_final'], '.3f')} "
            f"| {_pm(s['cmrr_db_at_best'], '.2f')} | {_pm(s['offset_mv_at_best'], '.3f')} | {_pm(s['seconds_per_run'], '.0f')} "
            f"| {_pm(s['overhead_per_run'], '.0f')} | {s['failed']} |"
        )
    llm_rows = [(n, s) for n, s in result["summary"].items() if "[" in n]
    if llm_rows:
        lines += ["", "### LLM part of the LLANA runs (totals; per-call records in the JSON's runs[].llm_calls)", "",
                  "| run | LLM calls | errors | unparsed | latency mean / p50 / max (s) | candidate calls | proposed | usable "
                  "(valid, in range, new) | out of range | duplicates | GP candidates | LLM predictions | GP predictions |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for n, s in llm_rows:
            m = s["llm"]
            lines.append(f"| {n} | {m['calls']} | {m['errors']} | {m['unparsed']} | {m['latency_mean_s']:.3g} / "
                         f"{m['latency_p50_s']:.3g} / {m['latency_max_s']:.3g} | {m['candidate_calls']} | {m['proposed']} | "
                         f"{m['usable']} | {m['out_of_range']} | {m['duplicates']} | {m['fallback_candidates']} | "
                         f"{m['llm_predictions']} | {m['fallback_predictions']} |")
        notes = sorted({note for _, s in llm_rows for note in s["notes"]})
        lines += [f"- {note}" for note in notes]
    lines += ["", f"Regret plot: `{result['plot']}`; {result['unique_evaluations']} distinct layouts simulated."]
    if "studies" in result:
        from eval.analog_study import studies_markdown

        for name, st in result["studies"].items():
            lines += studies_markdown(st)
    lines += ["",
              "### Error handling", "", "| case | message |", "|---|---|"]
    lines += [f"| {k} | {v.replace('|', '/')} |" for k, v in result["errors"].items()]
    return "\n".join(lines)
