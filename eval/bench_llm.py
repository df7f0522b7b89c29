"""Embedded-model benchmark: what the kept prefix cache saves on each system prompt ChipCrew sends.

Each prompt is sent three times with one request, on a fresh client (one torch thread, greedy decoding): the first
call prefills the whole prompt, the second builds the kept cache of the system prompt, the third reuses it. The
first and third replies must be the same tokens; their times give the saving.

Run: ``chipcrew bench llm [--quick] [--out DIR]``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tools.common import ProgressFn, report

__all__ = ("NAME", "DESCRIPTION", "PUBLISHED", "prompts", "run_bench", "to_markdown")

NAME = "llm"
DESCRIPTION = "Embedded SmolLM2: reply time with a full prefill vs the kept prefix cache, per system prompt ChipCrew sends"

PUBLISHED = (
    "SGLang (Zheng et al., NeurIPS 2024, abstract): up to 6.4x higher throughput than other serving systems, with "
    "RadixAttention reusing the KV cache of shared prefixes among its parts; GPU serving of 7B-70B models, "
    "whole-system throughput, not one CPU call. vLLM documents automatic prefix caching without a CPU number."
)


def prompts(quick: bool) -> list[tuple[str, str, str]]:
    """``(label, system prompt, request)``: each agent's planner prompt with its first example, and the summary
    prompt with a finding (quick: the summary and the doc-QA agent's, the shortest)."""
    from agents import registry
    from prompts import load_prompt

    finding = "MixPE-W4A8 is 8.98x faster than the INT8 array on OPT-6.7B"
    rows = [("summary", load_prompt("summary"), finding)]
    for name, spec in registry().items():
        if quick and name != "eda_doc_qa":
            continue
        rows.append((name, load_prompt(spec.prompt), spec.examples[0]))
    return rows


def run_bench(out_dir: Path, quick: bool = False, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Time the three calls per prompt and write ``bench_llm.json``."""
    from chipcrew.llm.base import Message
    from chipcrew.llm.embedded import EmbeddedClient
    from chipcrew.settings import Settings

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    max_tokens = 8 if quick else 40
    cases = prompts(quick)
    rows = []
    for i, (label, system, request) in enumerate(cases):
        report(progress, label, i / len(cases))
        client = EmbeddedClient(cache_dir=Settings().cache_dir, max_tokens=max_tokens)
        messages = [Message(role="system", content=system), Message(role="user", content=request)]
        client.chat(messages[1:], max_tokens=1)  # loads the model outside the timed calls
        times, replies = [], []
        for _ in range(3):
            start = time.perf_counter()
            replies.append(client.chat(messages))
            times.append(time.perf_counter() - start)
        full, _, kept = replies
        rows.append({
            "prompt": label,
            "prompt_tokens": full.prompt_tokens,
            "cached_tokens": kept.cached_tokens,
            "reply_tokens": full.completion_tokens,
            "full_prefill_s": times[0],
            "building_s": times[1],
            "kept_prefix_s": times[2],
            "speedup_vs_full_prefill": times[0] / times[2],
            "same_tokens": full.content == kept.content,
        })
    report(progress, NAME, 1.0)
    result = {"model": "SmolLM2-135M-Instruct (embedded, CPU, 1 thread)", "max_tokens": max_tokens, "rows": rows,
              "published": PUBLISHED}
    (out_dir / "bench_llm.json").write_text(json.dumps(result, indent=2))
    return result


def to_markdown(result: dict[str, Any]) -> str:
    """One row per system prompt: its length, the three call times, the ratio of full to kept, same tokens or not."""
    lines = [
        f"{result['model']}, replies of up to {result['max_tokens']} tokens, greedy; speed-up = full prefill / kept prefix",
        "",
        "| system prompt | prompt tokens | of them cached | reply tokens | full prefill s | building cache s | kept prefix s "
        "| speed-up | same tokens |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['prompt']} | {r['prompt_tokens']:,} | {r['cached_tokens']:,} | {r['reply_tokens']} | "
            f"{r['full_prefill_s']:.2f} | {r['building_s']:.2f} | {r['kept_prefix_s']:.2f} | "
            f"{r['speedup_vs_full_prefill']:.2f}x | {'yes' if r['same_tokens'] else 'NO'} |"
        )
    lines += ["", f"Published: {result['published']}"]
    return "\n".join(lines)
