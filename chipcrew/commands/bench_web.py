"""``chipcrew bench web``: the web workspace measured as a real process on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.bench import JsonOpt, OutOpt, QuickOpt, show

__all__ = ("command",)


def command(
    out: OutOpt = None,
    quick: QuickOpt = False,
    screenshot: Annotated[Optional[Path], typer.Option(help="Also save a screenshot of a used session (PNG).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Web workspace: page load -> interactive, first SSE event, 20 concurrent sessions x 5 routing-only turns."""
    from eval.bench_web import run_bench, to_markdown
    from tools.common import run_dir

    folder = out or run_dir(None, "bench_web")
    with terminal.run_folder(folder), terminal.progress_bar(log=not as_json) as progress:
        result = run_bench(folder, quick, progress, screenshot=screenshot)
    show(result, to_markdown, as_json, folder / "bench_web.json")
