"""Two studies on a cached set of evaluated layouts (``tools.analog.dataset``), for ``chipcrew bench analog``.

1. *Surrogates* (LLANA's surrogate experiment, after LLAMBO's): fit each surrogate (the GP of the optimisers,
   a random forest, the LLM as surrogate through LLANA's prompt) on n = 5, 10, 20, 30 random layouts and
   score it on held-out layouts: R^2 of the predicted score, and the normalised simple regret of the layout
   the surrogate ranks best, (f(argmin mu) - min f) / (max f - min f) over the held-out layouts.
2. *Pool optimisation*: random search and GP-EI choose, one at a time, among the set's layouts (a finite
   pool, as LLANA's public code tunes on a layout data set), from the same random initial layouts per seed;
   regret (best so far - pool min) / (pool max - pool min), mean +- standard error over seeds. Each study runs
   on the raw black box (placement seed 0) and on the smoothed one (the mean over placement seeds).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tools.analog.llana import (
    LLANAPrompts,
    LLANAProposer,
    PromptFn,
    expected_improvement,
)
from tools.analog.optim import fit_gp, gp_mean_std, quiet_gp
from tools.analog.problem import BASES, KnobSpace, objective_text
from tools.common import InputError

__all__ = ("mean_se", "pool_study", "surrogate_study")

Surrogate = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""(train z, train y, test z) -> predicted test y."""


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if len(v) == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0


def _gp(z: np.ndarray, y: np.ndarray, test: np.ndarray) -> np.ndarray:
    with quiet_gp():
        return gp_mean_std(fit_gp(z, y), test)[0]


def _forest(seed: int) -> Surrogate:
    def predict(z: np.ndarray, y: np.ndarray, test: np.ndarray) -> np.ndarray:
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=100, random_state=seed).fit(z, y).predict(test)

    return predict


def _llm(llm: PromptFn | None, prompts: LLANAPrompts | None, space: KnobSpace, circuit_text: str, seed: int,
         n_samples: int, max_examples: int, stats: list) -> Surrogate:
    def predict(z: np.ndarray, y: np.ndarray, test: np.ndarray) -> np.ndarray:
        step = LLANAProposer(space, circuit_text, "cmrr", llm, seed, prompts, n_samples=n_samples, max_examples=max_examples)
        mu, _ = step.predict(test, z, y)
        stats.append(step.stats)
        return mu

    return predict


def _r2(pred: np.ndarray, true: np.ndarray) -> float:
    return float(1.0 - ((pred - true) ** 2).sum() / ((true - true.mean()) ** 2).sum())


def _regret_of_choice(pred: np.ndarray, true: np.ndarray) -> float:
    span = float(true.max() - true.min()) or 1.0
    return float((true[int(np.argmin(pred))] - true.min()) / span)


def surrogate_study(
    unit: np.ndarray,
    y: np.ndarray,
    sizes: Sequence[int],
    reps: int,
    n_test: int,
    llms: dict[str, tuple[PromptFn | None, LLANAPrompts | None, dict]],
    space: KnobSpace,
    circuit_text: str,
) -> dict[str, Any]:
    """R^2 and simple regret (mean +- s.e. over ``reps`` random splits) per surrogate and training size.

    ``llms``: label -> (PromptFn, templates, LLANAProposer options) for the LLM-as-surrogate rows.
    """
    ok = np.isfinite(y)
    unit, y = unit[ok], y[ok]
    if max(sizes) + n_test > len(y):
        raise InputError("n_test", n_test, f"at most {len(y) - max(sizes)} ({len(y)} layouts, {max(sizes)} for training)")
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    calls: dict[str, list] = {name: [] for name in llms}
    for rep in range(reps):
        order = np.random.default_rng(1000 + rep).permutation(len(y))
        test = order[-n_test:]
        models: dict[str, Surrogate] = {"gp": _gp, "random_forest": _forest(rep)}
        for name, (fn, prompts, opts) in llms.items():
            models[f"llm[{name}]"] = _llm(fn, prompts, space, circuit_text, rep, opts.get("n_samples", 10),
                                          opts.get("max_examples", 10), calls[name])
        for n in sizes:
            train = order[:n]
            for name, model in models.items():
                pred = model(unit[train], y[train], unit[test])
                cell = rows.setdefault(name, {}).setdefault(n, {"r2": [], "regret": []})
                cell["r2"].append(_r2(pred, y[test]))
                cell["regret"].append(_regret_of_choice(pred, y[test]))
    table = {name: {str(n): {"r2": mean_se(c["r2"]), "regret": mean_se(c["regret"])} for n, c in by.items()}
             for name, by in rows.items()}
    llm_calls = {name: {"calls": sum(s.calls for s in st), "unparsed": sum(s.unparsed for s in st),
                        "fallback_predictions": sum(s.fallback_predictions for s in st),
                        "seconds": sum(s.seconds for s in st)} for name, st in calls.items()}
    return {"layouts": len(y), "test_layouts": n_test, "reps": reps, "sizes": list(sizes), "table": table,
            "llm_calls": llm_calls}


def _llana_factory(
    llm: PromptFn | None, prompts: LLANAPrompts | None, space: KnobSpace, circuit_text: str, metric: str, base: float
) -> Callable[[int], LLANAProposer]:
    """LLANA at its published counts (10 candidates, 10 surrogate samples) for one seed, told the study's score."""
    text = objective_text(metric, {metric: base})  # type: ignore[arg-type]
    return lambda seed: LLANAProposer(space, circuit_text, metric, llm, seed, prompts, objective_text=text)


def _gp_ei_pick(z: np.ndarray, y: np.ndarray, pool: np.ndarray, hyper_from: Any) -> tuple[int, Any]:
    """argmax of EI over the pool; the GP's hyperparameters are refitted when ``hyper_from`` is None."""
    with quiet_gp():
        model = fit_gp(z, y, hyper_from)
        mu, sd = gp_mean_std(model, pool)
    return int(np.argmax(expected_improvement(mu, np.maximum(sd, 1e-9), float(y.min())))), model


def pool_study(
    unit: np.ndarray,
    y: np.ndarray,
    methods: Sequence[str],
    budget: int,
    n_init: int,
    seeds: int,
    refit_every: int = 5,
    llana: dict[str, Callable[[int], Any]] | None = None,
) -> dict[str, Any]:
    """Random, GP-EI and LLANA choosing among the pool's layouts; regret curves and GP-EI's gap to random.

    GP-EI refits its hyperparameters every ``refit_every`` evaluations and conditions on every point. ``llana``:
    method name -> a factory of ``LLANAProposer`` by seed; its proposal takes the nearest unevaluated layout.
    """
    ok = np.isfinite(y)
    unit, y = unit[ok], y[ok]
    if not n_init <= budget < len(y):
        raise InputError("budget", budget, f"at least n_init ({n_init}) and below the pool's {len(y)} layouts")
    f_star, span = float(y.min()), float(y.max() - y.min()) or 1.0
    curves: dict[str, list[list[float]]] = {m: [] for m in methods}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        init = list(rng.choice(len(y), size=n_init, replace=False))
        for method in methods:
            chosen = list(init)
            pick_rng = np.random.default_rng(10_000 + seed)
            model = None
            proposer = (llana or {}).get(method, lambda _: None)(seed)
            while len(chosen) < budget:
                left = np.setdiff1d(np.arange(len(y)), chosen)
                if method == "random":
                    nxt = int(pick_rng.choice(left))
                elif proposer is not None:
                    with quiet_gp():
                        point, _ = proposer.next(unit[chosen], y[chosen])
                    nxt = int(left[np.argmin(((unit[left] - point) ** 2).sum(axis=1))])
                else:
                    refit = (len(chosen) - n_init) % refit_every == 0
                    k, model = _gp_ei_pick(unit[chosen], y[chosen], unit[left], None if refit else model)
                    nxt = int(left[k])
                chosen.append(nxt)
            best = np.minimum.accumulate(y[chosen])
            curves[method].append(((best - f_star) / span).tolist())
    summary = {m: {"curve": [mean_se([c[t] for c in cs]) for t in range(budget)], "final": mean_se([c[-1] for c in cs])}
               for m, cs in curves.items()}
    out: dict[str, Any] = {"layouts": len(y), "budget": budget, "n_init": n_init, "seeds": seeds,
                           "refit_every": refit_every, "summary": summary}
    if "gp_ei" in summary and "random" in summary:
        diff = [r[-1] - g[-1] for r, g in zip(curves["random"], curves["gp_ei"])]  # paired by seed (same init)
        d_mean, d_se = mean_se(diff)
        out["gp_ei_minus_random"] = {"final_regret_gap": d_mean, "paired_se": d_se,
                                     "gp_ei_beats_random_by_1se": bool(seeds > 1 and d_mean > d_se)}
    return out


def knob_share(values: np.ndarray, seeds: int) -> float:
    """The share of a ``seeds``-placement mean's variance that the knobs explain, from ``values`` (settings x S
    placement seeds, S >= 2): the knobs' variance is the variance of the S-seed means less the placer's part
    (variance over seeds / S), and a ``seeds``-mean adds variance over seeds / ``seeds`` to it."""
    if values.shape[1] < 2:
        return math.nan
    within = float(np.nanmean(np.nanvar(values, axis=1, ddof=1)))
    knobs = max(float(np.nanvar(np.nanmean(values, axis=1), ddof=1)) - within / values.shape[1], 0.0)
    total = knobs + within / seeds
    return knobs / total if total > 0 else 0.0


def spread(values: np.ndarray) -> dict[str, float]:
    """How much the knobs move a metric (settings x placement seeds) against the placer's seed."""
    s = values.shape[1]
    return {"within_knobs_over_seeds_sd": float(np.nanmean(np.nanstd(values, axis=1, ddof=1))),
            "over_knobs_seed0_sd": float(np.nanstd(values[:, 0], ddof=1)),
            "over_knobs_seed_mean_sd": float(np.nanstd(values.mean(axis=1), ddof=1)),
            "knob_share_1_seed": knob_share(values, 1), f"knob_share_{s}_seeds": knob_share(values, s)}


OBJECTIVES_STUDIED = {"raw": 1, "smoothed": None}
"""Score variants: ``raw`` = placement seed 0 only (the optimisers' black box), ``smoothed`` = mean over all
the set's placement seeds."""


def run_studies(
    data: Any,
    cfg: dict[str, Any],
    llms: dict[str, tuple[PromptFn | None, LLANAPrompts | None, dict]],
    space: KnobSpace,
    circuit_text: str,
    out_dir: Any,
    progress: Callable[[str, float], None] | None = None,
    metric: str = "cmrr",
) -> dict[str, Any]:
    """Both studies on ``data`` (a ``LayoutSet``) for each score variant of ``metric`` (``cmrr`` or ``offset``,
    with ``cfg["bases"]``); LLANA joins the pool study unless ``cfg["pool_llana"]`` is false (the bench compares it
    on the live loop instead); writes ``pool_regret_<circuit>.png``."""
    from tools.analog.dataset import set_scores

    base = (cfg["bases"] or {}).get(metric, BASES[metric][0])
    out: dict[str, Any] = {"circuit": data.circuit, "metric": metric, "base": base, "layouts": len(data.unit),
                           "placement_seeds": int(data.cmrr_db.shape[1]), "simulation_seconds": data.seconds,
                           "unit": "dB" if metric == "cmrr" else "mV", "variants": {}}
    out["spread"] = {m: spread(v) for m, v in (("cmrr", data.cmrr_db), ("offset", np.abs(data.offset_v) * 1e3))}
    for k, (name, seeds) in enumerate(v for v in OBJECTIVES_STUDIED.items() if v[0] in cfg["study_variants"]):
        y = set_scores(data, metric, seeds, base)
        if progress:
            progress(f"surrogate study ({name})", 0.5 * k / len(cfg["study_variants"]))
        sur = surrogate_study(data.unit, y, (5, 10, 20, 30), cfg["study_reps"], cfg["study_test"], llms, space, circuit_text)
        if progress:
            progress(f"pool optimisation ({name})", (0.5 * k + 0.25) / len(cfg["study_variants"]))
        llana = {f"llana[{name}]": _llana_factory(fn, prompts, space, circuit_text, metric, base)
                 for name, (fn, prompts, _) in llms.items()} if cfg.get("pool_llana", True) else {}
        pool = pool_study(data.unit, y, ("random", "gp_ei", *llana), cfg["pool_budget"], cfg["n_init"], cfg["pool_seeds"],
                          llana=llana)
        out["variants"][name] = {"surrogates": sur, "pool": pool}
    out["plot"] = _plot_pool(out["variants"], out_dir / f"pool_regret_{data.circuit}.png", f"{data.circuit} {metric}")
    return out


def _plot_pool(variants: dict[str, Any], path: Any, what: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(variants), figsize=(5 * len(variants), 3.6), squeeze=False)
    for ax, (name, v) in zip(axes[0], variants.items()):
        pool = v["pool"]
        for method, s in pool["summary"].items():
            mean, se = np.array([c[0] for c in s["curve"]]), np.array([c[1] for c in s["curve"]])
            steps = np.arange(1, len(mean) + 1)
            ax.plot(steps, mean, label=f"{method} (n={pool['seeds']})")
            ax.fill_between(steps, mean - se, mean + se, alpha=0.2)
        ax.set_title(f"{what} score ({name}), pool of {pool['layouts']} layouts", fontsize=9)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("normalised regret (mean +- s.e.)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def _ms(v: Sequence[float], fmt: str = ".3f") -> str:
    return "n/a" if not math.isfinite(v[0]) else f"{v[0]:{fmt}} ± {v[1]:{fmt}}"


def _verdicts(st: dict[str, Any]) -> str:
    """Which surrogate has the best R^2 at each size, and whether GP-EI beat random, per score variant."""
    out = []
    for name, v in st["variants"].items():
        table = v["surrogates"]["table"]
        best = [f"n={n}: {max(table, key=lambda m: table[m][str(n)]['r2'][0])}" for n in v["surrogates"]["sizes"]]
        gap = v["pool"].get("gp_ei_minus_random", {})
        beat = "beat" if gap.get("gp_ei_beats_random_by_1se") else "did not beat"
        out.append(f"{name}: best R^2 {', '.join(best)}; GP-EI {beat} random by one s.e.")
    return "; ".join(out) + "."


def studies_markdown(st: dict[str, Any]) -> list[str]:
    """The surrogate table and the pool-optimisation rows, per score variant."""
    u, s = st["unit"], st["placement_seeds"]
    lines = [
        "", (f"### Layout set of {st['circuit']}: {st['layouts']} random knob settings x {s} placement seeds "
        f"(cached; {st['simulation_seconds']:.0f} s simulated while building it, placements read from the evaluation store "
        "count 0)"), "",
        ("| metric | sd over placement seeds (fixed knobs) | sd over knobs, seed 0 | sd over knobs, seed mean "
         f"| knob share, 1 seed | knob share, {s}-seed mean |"), "|---|---:|---:|---:|---:|---:|",
    ]
    for m, sp in st["spread"].items():
        unit = "dB" if m == "cmrr" else "mV"
        lines.append(f"| {m} ({unit}) | {sp['within_knobs_over_seeds_sd']:.3g} | {sp['over_knobs_seed0_sd']:.3g} | "
                     f"{sp['over_knobs_seed_mean_sd']:.3g} | {sp['knob_share_1_seed']:.2f} | {sp[f'knob_share_{s}_seeds']:.2f} |")
    lines += ["", (f"Knob share: the part of the score's variance the knobs explain, the rest being the placer's seed "
                   f"(``knob_share``). Score: LLANA's {st['metric']} score with base {st['base']:g} "
                   f"({'dB' if u == 'dB' else 'V'}) (R^2 and normalised regret do not depend on the base). raw = placement "
                   "seed 0; smoothed = mean over seeds.")]
    for name, v in st["variants"].items():
        sur, pool = v["surrogates"], v["pool"]
        sizes = [str(n) for n in sur["sizes"]]
        lines += ["", (f"#### Surrogates ({name}): R^2 / simple regret on {sur['test_layouts']} held-out layouts, "
                  f"mean ± s.e. over {sur['reps']} splits"), "",
                  "| surrogate | " + " | ".join(f"R^2 n={n}" for n in sizes) + " | " + " | ".join(f"regret n={n}" for n in sizes) + " |",
                  "|---|" + "---:|" * (2 * len(sizes))]
        for model, row in sur["table"].items():
            lines.append(f"| {model} | " + " | ".join(_ms(row[n]["r2"]) for n in sizes) + " | "
                         + " | ".join(_ms(row[n]["regret"]) for n in sizes) + " |")
        gap = pool.get("gp_ei_minus_random", {})
        lines += ["", (f"#### Pool optimisation ({name}): {pool['budget']} evaluations ({pool['n_init']} shared random "
                  f"initial), {pool['seeds']} seeds, GP hyperparameters refitted every {pool['refit_every']}"), "",
                  "| method | final regret | regret at 10 | regret at 20 |", "|---|---:|---:|---:|"]
        for method, s in pool["summary"].items():
            at = [_ms(s["curve"][t - 1]) if t <= len(s["curve"]) else "n/a" for t in (10, 20)]
            lines.append(f"| {method} | {_ms(s['final'])} | {at[0]} | {at[1]} |")
        if gap:
            verdict = "beats" if gap["gp_ei_beats_random_by_1se"] else "does not beat"
            lines.append(f"\nGP-EI {verdict} random by more than one standard error (final regret gap random - GP-EI "
                         f"{gap['final_regret_gap']:.3f} ± {gap['paired_se']:.3f} paired s.e.).")
    lines += ["", "Published beside ours: LLANA (arXiv 2406.05250) claims sample efficiency comparable to state-of-the-art "
              "BO and better exploration; LLAMBO (ICLR 2024), whose surrogate LLANA uses, reports its LLM surrogate ahead "
              "of GP and random forest when observations are few (5-10). Here: " + _verdicts(st), "",
              f"Pool regret plot: `{st['plot']}`."]
    return lines
