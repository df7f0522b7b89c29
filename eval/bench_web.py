"""Web workspace benchmark: ``chipcrew web`` as a real process on loopback, measured from the outside.

* page load -> interactive chat: Chromium (headless, the system binary) opens the page; the time is the page's own
  ``chipcrew-ready`` performance mark (handlers bound, sessions listed), from navigation start;
* first SSE event of a turn: from sending the POST to reading the first event of its stream; the routing event
  (the first that needed work: the router ran) is reported beside it;
* load: 20 sessions at once, each 5 routing-only turns in a row (out-of-scope requests: routed, answered, stored;
  no tool runs), post -> ``done`` latency p50/p95 and the errors.

The targets are issue 18's; there are no published numbers for this workspace, so the table puts them beside ours.
Run: ``chipcrew bench web [--quick] [--out DIR] [--screenshot docs/web-workspace.png]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.common import InputError, ProgressFn, report, shared_data_dir

__all__ = ("NAME", "DESCRIPTION", "TARGETS", "run_bench", "to_markdown", "workspace")

NAME = "web"
DESCRIPTION = "Web workspace: page load -> interactive, first SSE event, 20 concurrent sessions x 5 routing-only turns"
TARGETS = {"page_interactive_s": 1.0, "first_event_s": 0.3, "load_p95_s": 0.5}
"""Issue 18's numbers: page interactive <= 1 s on loopback, first SSE event <= 300 ms, p95 <= 500 ms."""
MIXPE_QUESTION = "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?"
OUT_OF_SCOPE = ("what's the weather tomorrow", "recommend a good pizza place", "who won the football match",
                "translate good morning into French", "tell me a joke about cats")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def workspace(home: Path) -> Iterator[tuple[str, int]]:
    """``chipcrew web --port 0 --backend none`` as a subprocess with its own home; yields its base URL and pid."""
    env = {**os.environ, "CHIPCREW_HOME": str(home), "CHIPCREW_LLM_BACKEND": "none"}
    env.pop("CHIPCREW_WEB_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "chipcrew.cli", "web", "--port", "0", "--backend", "none"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if not found:
            raise RuntimeError(f"chipcrew web did not start: {line}{proc.stderr.read()[-2000:]}")
        yield found.group(0), proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


async def _turn(client: Any, url: str, session: str, message: str) -> dict[str, Any]:
    """Post one turn and read its stream to ``done``: seconds to the first event, to ``route``, to ``done``."""
    start = time.perf_counter()
    first = routed = None
    kinds: list[str] = []
    posted = await client.post(f"{url}/api/sessions/{session}/turns", json={"message": message})
    posted.raise_for_status()
    async with client.stream("GET", url + posted.json()["events"]) as stream:
        async for line in stream.aiter_lines():
            if not line.startswith("event: "):
                continue
            kind = line.removeprefix("event: ")
            kinds.append(kind)
            now = time.perf_counter() - start
            first = first if first is not None else now
            routed = now if kind == "route" and routed is None else routed
    return {"first_s": first, "route_s": routed, "done_s": time.perf_counter() - start,
            "ok": "answer" in kinds and "error" not in kinds and kinds[-1:] == ["done"]}


async def _first_events(url: str, turns: int) -> list[dict[str, Any]]:
    import httpx

    async with httpx.AsyncClient(timeout=120) as client:
        await _turn(client, url, "bench-warmup", MIXPE_QUESTION)  # loads the router's embedder and the tool's code
        return [await _turn(client, url, "bench-latency", OUT_OF_SCOPE[i % len(OUT_OF_SCOPE)]) for i in range(turns)]


async def _load(url: str, sessions: int, turns: int) -> tuple[list[dict[str, Any]], float]:
    import httpx

    async def one_session(i: int) -> list[dict[str, Any]]:
        out = []
        for j in range(turns):
            try:
                out.append(await _turn(client, url, f"bench-load-{i}", OUT_OF_SCOPE[(i + j) % len(OUT_OF_SCOPE)]))
            except Exception as exc:  # an HTTP failure is an error of the run, counted, not a crash of the bench
                out.append({"ok": False, "done_s": None, "error": f"{type(exc).__name__}: {exc}"})
        return out

    limits = httpx.Limits(max_connections=4 * sessions, max_keepalive_connections=2 * sessions)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        start = time.perf_counter()
        results = await asyncio.gather(*(one_session(i) for i in range(sessions)))
        return [r for rows in results for r in rows], time.perf_counter() - start


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _page_loads(url: str, loads: int, screenshot: Path | None) -> dict[str, Any]:
    """Page load -> ``chipcrew-ready`` mark, per fresh browser context; optionally a screenshot of a used session."""
    browser_path = _chromium()
    if browser_path is None:
        return {"skipped": "no chromium binary on PATH (apt-get install chromium)"}
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, headless=True)
        for _ in range(loads + 1):  # the first load warms the browser itself and is not counted
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']")
            times.append(page.evaluate("performance.getEntriesByName('chipcrew-ready')[0].startTime") / 1000)
            context.close()
        if screenshot is not None:
            _screenshot(browser, url, screenshot)
        browser.close()
    return {"seconds": times[1:]}


def _screenshot(browser: Any, url: str, path: Path) -> None:
    """The workspace after a MixPE question and an uploaded contact clip, as the README shows it."""
    context = browser.new_context(viewport={"width": 1280, "height": 1500}, bypass_csp=True)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    page.click("#new-session")
    page.wait_for_function("document.querySelector('#current').textContent.length > 0")
    for send in (lambda: page.fill("#message", MIXPE_QUESTION),
                 lambda: page.set_input_files("#upload", str(shared_data_dir("via") / "StdContact" / "AND2_X4__0_0.glp"))):
        done = page.locator(".turn[data-done='1']").count()
        send()
        page.wait_for_function("document.querySelector('#message').value.length > 0")
        page.press("#message", "Enter")
        page.wait_for_function(f"document.querySelectorAll(\".turn[data-done='1']\").length > {done}", timeout=120_000)
    page.locator(".calls summary").last.click()
    page.wait_for_function("[...document.images].every(i => i.complete)")
    page.evaluate("document.querySelector('#log').scrollTop = document.querySelector('#log').scrollHeight")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    context.close()


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_s": None, "p95_s": None, "max_s": None}
    cuts = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else [values[0]] * 19
    return {"p50_s": statistics.median(values), "p95_s": cuts[18], "max_s": max(values)}


def run_bench(
    out_dir: Path, quick: bool = False, progress: ProgressFn | None = None, screenshot: Path | None = None
) -> dict[str, Any]:
    """Start the workspace, measure page loads, first events and the concurrent load; write ``bench_web.json``.

    Args:
        quick: 3 page loads, 5 latency turns, 5 sessions x 3 turns (the full run: 10, 20, 20 x 5).
        screenshot: also save a screenshot of a used session there (PNG).
    """
    if screenshot is not None and screenshot.suffix.lower() != ".png":
        raise InputError("--screenshot", str(screenshot), "a .png path")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    loads, latency_turns, sessions, turns = (3, 5, 5, 3) if quick else (10, 20, 20, 5)
    if screenshot is not None:  # in a workspace of its own, so that the picture shows no benchmark sessions
        with workspace(out_dir / "screenshot-home") as (url, _):
            report(progress, "screenshot", 0.05)
            _page_loads(url, 0, screenshot)
    with workspace(out_dir / "home") as (url, pid):
        report(progress, "first SSE events", 0.1)
        first = asyncio.run(_first_events(url, latency_turns))
        report(progress, f"{sessions} sessions x {turns} turns", 0.4)
        cpu = _cpu_seconds(pid)
        load, wall = asyncio.run(_load(url, sessions, turns))
        cpu = _cpu_seconds(pid) - cpu
        report(progress, "page loads in Chromium", 0.7)
        page = _page_loads(url, loads, None)
    report(progress, "web", 1.0)
    done = [r["done_s"] for r in load if r["ok"]]
    result = {
        "url": url, "quick": quick, "cpus": os.cpu_count(), "targets": TARGETS,
        "page": {**page, **_quantiles(page.get("seconds", []))},
        "first_event": {**_quantiles([r["first_s"] for r in first]), "route": _quantiles([r["route_s"] for r in first])},
        "load": {"sessions": sessions, "turns_per_session": turns, "turns": len(load),
                 "errors": sum(not r["ok"] for r in load), "wall_s": wall, "turns_per_s": len(load) / wall,
                 "server_cpu_s_per_turn": cpu / len(load), "load_average": os.getloadavg()[0],
                 **_quantiles(done)},
    }
    result["pass"] = {
        "page_interactive": page.get("seconds") is not None and result["page"]["max_s"] <= TARGETS["page_interactive_s"],
        "first_event": result["first_event"]["p95_s"] <= TARGETS["first_event_s"],
        "load_p95": result["load"]["errors"] == 0 and (result["load"]["p95_s"] or 1e9) <= TARGETS["load_p95_s"],
    }
    (out_dir / "bench_web.json").write_text(json.dumps(result, indent=2))
    return result


def to_markdown(result: dict[str, Any]) -> str:
    """One row per measure: ours (p50, p95, max) beside issue 18's target."""
    def cell(value: float | None) -> str:
        return "–" if value is None else f"{1000 * value:.0f}"

    page, first, load = result["page"], result["first_event"], result["load"]
    verdict = {True: "yes", False: "NO"}
    rows = [
        ("page load -> interactive chat", page, TARGETS["page_interactive_s"], verdict[result["pass"]["page_interactive"]]
         if "skipped" not in page else f"skipped: {page['skipped']}"),
        ("post -> first SSE event", first, TARGETS["first_event_s"], verdict[result["pass"]["first_event"]]),
        ("post -> routing event", first["route"], None, ""),
        (f"routing-only turn, {load['sessions']} sessions x {load['turns_per_session']} at once", load,
         TARGETS["load_p95_s"], verdict[result["pass"]["load_p95"]]),
    ]
    lines = [f"loopback, {result['cpus']} CPUs; times in ms", "",
             "| measure | p50 | p95 | max | target (p95) | meets |", "|---|---:|---:|---:|---:|---|"]
    for label, q, target, ok in rows:
        lines.append(f"| {label} | {cell(q['p50_s'])} | {cell(q['p95_s'])} | {cell(q['max_s'])} | "
                     f"{cell(target) if target else '–'} | {ok} |")
    lines.append("")
    lines.append(f"load: {load['turns']} turns, {load['errors']} errors, {load['turns_per_s']:.1f} turns/s "
                 f"({load['wall_s']:.1f} s wall); server CPU {1000 * load['server_cpu_s_per_turn']:.0f} ms per turn; "
                 f"machine load average {load['load_average']:.1f}")
    return "\n".join(lines)
