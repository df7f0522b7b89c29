"""OPC benchmark: DiffOPC, pixel ILT and EPE-feedback OPC on the ICCAD 2013 clips and the LithoBench via clips.

Every case runs ``tools.opc.run_opc_optimize`` (one engine, one metrics module) and records L2, PV band, EPE
in both conventions, shots, MRC violations and the optimisation time; the report puts the averages beside
the published rows (/work/shared/DESIGN.md for ICCAD13, shared/data/via/README.md for the via clips).
Artefacts per case (mask GDS, ``<case>_mask.npy``, mask/print/PV-band PNGs) land in the output folder.

Run:  chipcrew bench opc --suite iccad13 --method diffopc --out runs/opc
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
from tools.opc.optimize_tool import DEFAULT_ITERATIONS, METHODS, OPCOptimizeArgs, run_opc_optimize

__all__ = ("NAME", "DESCRIPTION", "Suite", "SUITES", "PUBLISHED", "run_opc_bench", "parse_cases", "to_markdown", "run_bench")

NAME = "opc"
DESCRIPTION = "OPC on ICCAD13 / via clips: DiffOPC, pixel ILT, EPE-feedback OPC vs published averages"
Suite = Literal["iccad13", "via"]
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
_METRICS = ("l2", "pvb", "epe_contest", "epe_openilt", "shots", "mrc_violations", "seconds")


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
) -> dict[str, Any]:
    """Optimise and score the selected cases; write ``bench_opc.json`` and ``bench_opc.md`` into ``out_dir``.

    Args:
        suite: ``iccad13`` or ``via``.
        cases: 1-based case numbers (a list or ``"1,3-5"``); None = all.
        method: ``diffopc``, ``ilt`` or ``mbopc``.
        raster: ``exact`` or ``inclusive`` (OpenILT's cv2 convention).
        out_dir: folder for the per-case artefacts and the report.
        iterations: optimisation steps per case; None = the method's default.
        progress: optional ``(message, fraction)`` callback.
        device: ``auto``, ``cpu`` or ``cuda``.

    Returns:
        ``{"suite", "method", "raster", "iterations", "rows", "average", "published", "machine", "versions"}``.
    """
    if suite not in SUITES:
        raise InputError("suite", suite, SUITES)
    if method not in METHODS:
        raise InputError("method", method, METHODS)
    names = list_clips(suite)  # type: ignore[arg-type]
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
            OPCOptimizeArgs(clip=name, method=method, iterations=iterations, raster=raster, out_dir=str(out), device=device)  # type: ignore[arg-type]
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
