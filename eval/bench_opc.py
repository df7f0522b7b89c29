"""OPC benchmark: DiffOPC, pixel ILT, EPE-feedback OPC and CAMO on the ICCAD 2013, via and held-out contact clips.

Every case runs ``tools.opc.run_opc_optimize`` (one engine, one metrics module) and records L2, PV band, EPE
in both conventions, shots, MRC violations and the optimisation time; the report puts the averages beside
the published rows (/work/shared/DESIGN.md for ICCAD13, shared/data/via/README.md for the via clips).
Artefacts per case (mask GDS, ``<case>_mask.npy``, mask/print/PV-band PNGs) land in the output folder.

Suites: ``iccad13`` (10 M1 clips), ``via`` (10 OpenROAD via1 clips), ``contact`` (the 45 StdContact clips CAMO
never trains on: sorted names after the first 120). ``--compare`` scores CAMO, its ablations (``random`` masked
policy, and any extra checkpoints given as ``name=path``, e.g. a no-GNN or no-modulation run or other seeds)
and the baselines on the same clips in one table, with the issue-16 targets checked.

Run:  chipcrew bench opc --suite iccad13 --method diffopc --out runs/opc
      chipcrew bench opc --suite iccad13 --compare --reuse --variant nognn=runs/nognn/camo_metal.pt --out runs/camo
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

import torch

from tools.common import InputError, package_versions
from tools.litho.clips import list_clips
from tools.opc.configs import camo_cost
from tools.opc.optimize_tool import DEFAULT_ITERATIONS, METHODS, OPCOptimizeArgs, run_opc_optimize
from tools.opc.splits import held_out_contacts

__all__ = ("NAME", "DESCRIPTION", "Suite", "SUITES", "PUBLISHED", "run_opc_bench", "parse_cases", "to_markdown",
           "run_bench", "suite_clips", "run_camo_comparison", "camo_targets", "camo_markdown")

NAME = "opc"
DESCRIPTION = "OPC on ICCAD13 / via / held-out contact clips: DiffOPC, pixel ILT, EPE-feedback OPC, CAMO vs published averages"
Suite = Literal["iccad13", "via", "contact"]
SUITES: tuple[str, ...] = get_args(Suite)

# Published 10-case averages (L2, PVB, EPE, shots; None = not reported), with their sources.
PUBLISHED: dict[str, list[dict[str, Any]]] = {
    "iccad13": [
        {"method": "OpenILT SimpleILT (cv2 raster, RTX 3090, 2.26 s/case)", "l2": 33850, "pvb": 44713, "epe": 5.2,
         "shots": 712, "source": "OpenOPC/OpenILT README"},
        {"method": "OpenILT CurvMulti", "l2": 26941, "pvb": 43417, "epe": 2.0, "shots": None,
         "source": "OpenOPC/OpenILT pyilt/curvmulti.py"},
        {"method": "Neural-ILT (exact raster)", "l2": 37515, "pvb": 50964, "epe": None, "shots": 332,
         "source": "cuhk-eda/A2-ILT rectified table"},
        {"method": "A2-ILT (exact raster)", "l2": 36867, "pvb": 50873, "epe": None, "shots": 220,
         "source": "cuhk-eda/A2-ILT rectified table"},
        {"method": "DiffOPC README, case 1 only (GPU, 19.2 s)", "l2": 41159, "pvb": 60955, "epe": 3, "shots": None,
         "source": "NVlabs/DiffOPC README"},
    ],
    "via": [
        {"method": "LithoBench GAN-OPC (init / finetuned)", "l2": "14767 / 5359", "pvb": "6686 / 9447",
         "epe": "8.3 / 0.2", "shots": "166 / 287", "source": "lithobench/ilt/ganopc.py"},
        {"method": "LithoBench Neural-ILT (init / finetuned)", "l2": "12723 / 5131", "pvb": "8537 / 9343",
         "epe": "6.2 / 0.2", "shots": "263 / 309", "source": "lithobench/ilt/neuralilt.py"},
        {"method": "LithoBench DAMO (init / finetuned)", "l2": "5081 / 5603", "pvb": "9962 / 9486",
         "epe": "0.0 / 0.2", "shots": "176 / 279", "source": "lithobench/ilt/damoilt.py"},
        {"method": "LithoBench CFNO (init / finetuned)", "l2": "8949 / 5515", "pvb": "9890 / 9449",
         "epe": "0.1 / 0.2", "shots": "184 / 283", "source": "lithobench/ilt/cfnoilt.py"},
    ],
}
_METRICS = ("l2", "pvb", "epe_contest", "epe_openilt", "shots", "mrc_violations", "seconds", "cost")


def suite_clips(suite: str) -> list[str]:
    """The clip names of a bench suite (``contact`` = the held-out contact clips only)."""
    if suite not in SUITES:
        raise InputError("suite", suite, SUITES)
    if suite == "contact":
        return held_out_contacts()
    return list_clips(suite)  # type: ignore[arg-type]


def parse_cases(spec: str | None, count: int) -> list[int]:
    """1-based case numbers from ``"1,3-5"``; ``None`` or ``"all"`` = every case.

    Raises:
        InputError: a malformed item or a number outside 1..count.
    """
    if spec is None or spec.strip().lower() in ("", "all"):
        return list(range(1, count + 1))
    cases: list[int] = []
    for item in spec.split(","):
        found = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", item)
        if not found:
            raise InputError("cases", spec, "comma-separated case numbers or ranges, e.g. 1,3-5")
        lo, hi = int(found[1]), int(found[2] or found[1])
        if not 1 <= lo <= hi <= count:
            raise InputError("cases", item.strip(), f"numbers within 1..{count}")
        cases += [c for c in range(lo, hi + 1) if c not in cases]
    return cases


def run_opc_bench(
    suite: str,
    cases: list[int] | str | None,
    method: str,
    raster: str,
    out_dir: str | Path,
    iterations: int | None = None,
    progress: Callable[[str, float], None] | None = None,
    device: str = "auto",
    checkpoint: str | None = None,
) -> dict[str, Any]:
    """Optimise and score the selected cases; write ``bench_opc.json`` and ``bench_opc.md`` into ``out_dir``.

    Args:
        suite: ``iccad13``, ``via`` or ``contact``.
        cases: 1-based case numbers (a list or ``"1,3-5"``); None = all.
        method: ``diffopc``, ``ilt``, ``mbopc`` or ``camo``.
        raster: ``exact`` or ``inclusive`` (OpenILT's cv2 convention).
        out_dir: folder for the per-case artefacts and the report.
        iterations: optimisation steps per case; None = the method's default.
        progress: optional ``(message, fraction)`` callback.
        device: ``auto``, ``cpu`` or ``cuda``.
        checkpoint: camo only: a policy checkpoint or ``random``; None = the packaged one.

    Returns:
        ``{"suite", "method", "raster", "iterations", "rows", "average", "published", "machine", "versions"}``.
    """
    if method not in METHODS:
        raise InputError("method", method, METHODS)
    names = suite_clips(suite)
    selected = parse_cases(",".join(map(str, cases)) if isinstance(cases, list) else cases, len(names))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    used_device = device
    for i, case in enumerate(selected):
        name = names[case - 1]
        if progress:
            progress(f"{method} on {name}", i / len(selected))
        res = run_opc_optimize(
            OPCOptimizeArgs(clip=name, method=method, iterations=iterations, raster=raster, out_dir=str(out),  # type: ignore[arg-type]
                            device=device, checkpoint=checkpoint)  # type: ignore[arg-type]
        )
        m, used_device = res.metrics, res.device
        rows.append({
            "case": name, "method": method, "l2": m.l2, "pvb": m.pvb,
            "epe": {"contest": m.epe_contest, "openilt": m.epe_openilt},
            "shots": m.shots, "mrc_violations": m.mrc_violations, "seconds": res.optimize_seconds,
            "baseline": {"l2": res.baseline.l2, "pvb": res.baseline.pvb, "epe_contest": res.baseline.epe_contest},
            "artifacts": res.artifacts,
        })
    if progress:
        progress("done", 1.0)
    result = {
        "suite": suite,
        "method": method,
        "checkpoint": checkpoint,
        "raster": raster,
        "iterations": iterations or DEFAULT_ITERATIONS[method],
        "rows": rows,
        "average": _average(rows),
        "published": PUBLISHED.get(suite, []),
        "machine": {"platform": platform.platform(), "torch_threads": torch.get_num_threads(), "device": used_device},
        "versions": package_versions("torch", "numpy"),
    }
    (out / "bench_opc.json").write_text(json.dumps(result, indent=2))
    (out / "bench_opc.md").write_text(to_markdown(result))
    return result


def _flat(row: dict[str, Any]) -> dict[str, float]:
    return {
        "l2": row["l2"], "pvb": row["pvb"], "epe_contest": row["epe"]["contest"], "epe_openilt": row["epe"]["openilt"],
        "shots": row["shots"], "mrc_violations": row["mrc_violations"], "seconds": row["seconds"],
        "cost": camo_cost(row["l2"], row["pvb"], row["epe"]["contest"]),
    }


def _average(rows: list[dict[str, Any]]) -> dict[str, float]:
    if not rows:
        return {}
    flat = [_flat(r) for r in rows]
    return {k: round(sum(f[k] for f in flat) / len(flat), 2) for k in _METRICS}


def to_markdown(result: dict[str, Any]) -> str:
    """Per-case table, our average, and the published rows beside it."""
    n = len(result["rows"])
    lines = [
        f"{result['method']} on {n} {result['suite']} case(s), {result['raster']} raster, "
        f"{result['iterations']} iterations; times are wall seconds of the optimisation on "
        f"{result['machine']['device']} ({result['machine']['torch_threads']} torch threads).",
        "",
        "| case | L2 | PVB | EPE (contest) | EPE (OpenILT) | shots | MRC | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        f = _flat(r)
        lines.append(
            f"| {r['case']} | {f['l2']:,} | {f['pvb']:,} | {f['epe_contest']} | {f['epe_openilt']} | {f['shots']} "
            f"| {f['mrc_violations']} | {f['seconds']:.1f} |"
        )
    if n:
        a = result["average"]
        lines.append(
            f"| **average (ours)** | **{a['l2']:,.0f}** | **{a['pvb']:,.0f}** | **{a['epe_contest']:.1f}** "
            f"| **{a['epe_openilt']:.1f}** | **{a['shots']:.1f}** | **{a['mrc_violations']:.1f}** | **{a['seconds']:.1f}** |"
        )
    if result["published"]:
        lines += ["", "Published averages (10 cases unless stated):", "",
                  "| method | L2 | PVB | EPE | shots | source |", "|---|---:|---:|---:|---:|---|"]
        for p in result["published"]:
            cells = [_cell(p[k]) for k in ("l2", "pvb", "epe", "shots")]
            lines.append(f"| {p['method']} | {' | '.join(cells)} | {p['source']} |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else str(value)


def run_bench(out_dir: Path, quick: bool = False, progress: Callable[[str, float], None] | None = None) -> dict[str, Any]:
    """Registry entry (``chipcrew bench all``): DiffOPC on ICCAD13, cases 1 and 10 with 40 steps when quick."""
    if quick:
        return run_opc_bench("iccad13", [1, 10], "diffopc", "exact", out_dir, iterations=40, progress=progress)
    return run_opc_bench("iccad13", None, "diffopc", "exact", out_dir, progress=progress)


def run_camo_comparison(
    suite: str,
    cases: list[int] | str | None,
    out_dir: str | Path,
    baselines: tuple[str, ...] = ("mbopc", "diffopc"),
    variants: dict[str, str] | None = None,
    progress: Callable[[str, float], None] | None = None,
    device: str = "auto",
    reuse: bool = False,
) -> dict[str, Any]:
    """CAMO (packaged checkpoint), the random masked policy, extra checkpoints and the baselines on the same clips.

    Each entry runs :func:`run_opc_bench` into ``out_dir/<name>``; the report has one row of averages per
    entry, the issue-16 targets (met or not, with the numbers) and the seed spread over the entries named
    ``camo`` and ``seed*`` (coefficient of variation of the mean cost J = L2 + PVB + 1000 EPE).

    Args:
        suite, cases: as :func:`run_opc_bench`.
        out_dir: report folder.
        baselines: other methods to run (``mbopc``, ``diffopc``, ``ilt``).
        variants: extra CAMO checkpoints by name, e.g. ``{"nognn": "runs/nognn/camo_via.pt", "seed1": ...}``.
        reuse: keep an entry's earlier ``out_dir/<name>/bench_opc.json`` when it covers the same clips with the
            same method and checkpoint (a long comparison can be resumed).
    """
    out = Path(out_dir)
    entries: list[tuple[str, str, str | None]] = [("camo", "camo", None), ("random", "camo", "random")]
    entries += [(name, "camo", path) for name, path in (variants or {}).items()]
    entries += [(b, b, None) for b in baselines]
    table: dict[str, dict[str, Any]] = {}
    for i, (name, method, checkpoint) in enumerate(entries):
        if progress:
            progress(f"{name} on {suite}", i / len(entries))
        res = _reused(out / name, suite, cases, method, checkpoint) if reuse else None
        if res is None:
            res = run_opc_bench(suite, cases, method, "exact", out / name, device=device, checkpoint=checkpoint)
        table[name] = {"method": method, "checkpoint": checkpoint, "cases": len(res["rows"]), **res["average"]}
    result = {"suite": suite, "table": table, "targets": camo_targets(suite, table), "seed_spread": _seed_spread(table),
              "machine": {"platform": platform.platform(), "torch_threads": torch.get_num_threads()},
              "versions": package_versions("torch", "numpy", "gymnasium")}
    (out / "bench_opc_camo.json").write_text(json.dumps(result, indent=2))
    (out / "bench_opc_camo.md").write_text(camo_markdown(result))
    if progress:
        progress("done", 1.0)
    return result


def _reused(folder: Path, suite: str, cases: list[int] | str | None, method: str, checkpoint: str | None
            ) -> dict[str, Any] | None:
    """An earlier run_opc_bench result in ``folder`` for exactly these clips, method and checkpoint, else None."""
    path = folder / "bench_opc.json"
    if not path.is_file():
        return None
    old = json.loads(path.read_text())
    names = suite_clips(suite)
    wanted = [names[c - 1] for c in parse_cases(",".join(map(str, cases)) if isinstance(cases, list) else cases, len(names))]
    same = old.get("suite") == suite and old.get("method") == method and old.get("checkpoint") == checkpoint
    return old if same and [r["case"] for r in old["rows"]] == wanted else None


def camo_targets(suite: str, table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue-16 numbers to reach, each with the measured values and whether it is met."""
    camo = table["camo"]
    checks: list[tuple[str, float, float]] = []  # (what, measured, limit): met when measured <= limit
    mb, dp = table.get("mbopc"), table.get("diffopc")
    if suite == "iccad13":
        if mb:
            checks += [("EPE <= mbopc", camo["epe_contest"], mb["epe_contest"]),
                       ("PVB <= 0.95 x mbopc", camo["pvb"], 0.95 * mb["pvb"]),
                       ("L2 <= 1.10 x mbopc", camo["l2"], 1.10 * mb["l2"])]
        if dp:
            checks.append(("EPE <= diffopc + 0.5", camo["epe_contest"], dp["epe_contest"] + 0.5))
        checks.append(("seconds per clip <= 2", camo["seconds"], 2.0))
    else:
        if mb:
            checks.append(("EPE <= mbopc", camo["epe_contest"], mb["epe_contest"]))
        base = [t for t in (mb, dp) if t]
        if base:
            checks += [("L2 <= 1.05 x better baseline", camo["l2"], 1.05 * min(t["l2"] for t in base)),
                       ("PVB <= 1.05 x better baseline", camo["pvb"], 1.05 * min(t["pvb"] for t in base))]
        checks.append(("seconds per clip <= 1", camo["seconds"], 1.0))
    checks.append(("MRC violations = 0", camo["mrc_violations"], 0.0))
    checks.append(("cost <= 0.70 x random", camo["cost"], 0.70 * table["random"]["cost"]))
    for name in table:
        if name.startswith(("no", "abl")) and "_seed" not in name:
            checks.append((f"cost < {name}", camo["cost"], table[name]["cost"] - 1e-9))
    groups = _seed_groups(table)
    for name, costs in groups.items():
        if name != "camo" and len(costs) == len(groups["camo"]) > 1:
            checks.append((f"{len(costs)}-seed mean cost < {name}'s", sum(groups["camo"]) / len(costs),
                           sum(costs) / len(costs) - 1e-9))
    return [{"target": what, "measured": round(v, 2), "limit": round(lim, 2), "met": v <= lim} for what, v, lim in checks]


def _seed_groups(table: dict[str, dict[str, Any]]) -> dict[str, list[float]]:
    """Costs by training recipe over its seeds: ``camo`` with the ``seed*`` entries, and each ablation ``<name>`` (seed
    0) with its ``<name>_seed*`` entries, so that ablations are compared with CAMO over the same number of seeds."""
    groups: dict[str, list[float]] = {"camo": []}
    for name, t in table.items():
        if name == "camo" or name.startswith("seed"):
            groups["camo"].append(t["cost"])
        elif name.startswith(("no", "abl")):
            groups.setdefault(name.split("_seed")[0], []).append(t["cost"])
    return groups


def _seed_spread(table: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    costs = _seed_groups(table)["camo"]
    if len(costs) < 2:
        return None
    mean = sum(costs) / len(costs)
    std = (sum((c - mean) ** 2 for c in costs) / (len(costs) - 1)) ** 0.5
    return {"runs": len(costs), "mean_cost": round(mean, 1), "cv": round(std / mean, 4) if mean else None}


def camo_markdown(result: dict[str, Any]) -> str:
    """The side-by-side table, the targets and the seed spread."""
    lines = [f"CAMO comparison on {result['suite']} (averages over the same clips, exact raster; "
             "cost J = L2 + PVB + 1000 EPE).", "",
             "| entry | cases | L2 | PVB | EPE | shots | MRC | s/clip | cost J |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, t in result["table"].items():
        lines.append(f"| {name} | {t['cases']} | {t['l2']:,.0f} | {t['pvb']:,.0f} | {t['epe_contest']:.1f} | "
                     f"{t['shots']:.1f} | {t['mrc_violations']:.1f} | {t['seconds']:.2f} | {t['cost']:,.0f} |")
    lines += ["", "| target | measured | limit | met |", "|---|---:|---:|---|"]
    lines += [f"| {c['target']} | {c['measured']:,} | {c['limit']:,} | {'yes' if c['met'] else '**no**'} |"
              for c in result["targets"]]
    if result["seed_spread"]:
        s = result["seed_spread"]
        lines += ["", f"Seed spread: {s['runs']} runs, mean cost {s['mean_cost']:,}, CV {s['cv']} (target <= 0.10)."]
    return "\n".join(lines)

