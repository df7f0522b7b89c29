"""Tool: list the clips of a benchmark suite (the names ``opc_optimize`` and ``litho`` tools accept)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.common import ProgressFn, Timer, ToolResult, package_versions, report
from tools.litho.clips import Suite, list_clips

__all__ = ("OPCListClipsArgs", "OPCListClipsResult", "run_opc_list_clips")


class OPCListClipsArgs(BaseModel):
    """Arguments of ``run_opc_list_clips``."""

    suite: Suite = Field(
        default="iccad13", description="iccad13 (10 ICCAD 2013 M1 clips), via (10 LithoBench via1 clips) or "
        "contact (165 LithoBench standard-cell contact clips) or metal (271 LithoBench StdMetal clips, "
        "named metal:<cell>__<i>_<j>)."
    )


class OPCListClipsResult(ToolResult):
    """The suite's clip names, naturally sorted."""

    suite: str
    count: int
    clips: list[str]


def run_opc_list_clips(args: OPCListClipsArgs, progress: ProgressFn | None = None) -> OPCListClipsResult:
    """Names of the clips in ``args.suite``."""
    report(progress, f"listing {args.suite}", 0.0)
    with Timer() as timer:
        names = list_clips(args.suite)
    report(progress, "done", 1.0)
    return OPCListClipsResult(
        suite=args.suite, count=len(names), clips=names, seconds=round(timer.seconds, 4), versions=package_versions()
    )
