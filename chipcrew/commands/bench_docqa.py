"""``chipcrew bench docqa``: the ORD-QA benchmark of the documentation QA stack (thin layer over eval.bench_docqa)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from chipcrew.commands import terminal
from chipcrew.commands.bench import JsonOpt, show
from chipcrew.commands.choices import choices
from eval.bench_docqa import Suite
from tools.docqa.rerank import Teacher
from tools.docqa.search_tool import DocQASearchArgs
from tools.docqa.store import EmbedderName

__all__ = ("command", "dev_command")

Retriever = choices(DocQASearchArgs, "retriever")
TeacherName = Literal["offline", "llm"]
"""Where the reranker's relevance labels come from: pseudo-query labels, or the configured LLM (retrains)."""


def _llm_teacher() -> Teacher:
    """RAG-EDA's relevance rubric scored by the configured OpenAI-compatible endpoint (JSON-schema output)."""
    from chipcrew.llm import make_client
    from chipcrew.llm.adapters import relevance_teacher
    from chipcrew.settings import Settings

    settings = Settings()
    if not settings.llm_capable:
        raise typer.BadParameter("--teacher llm needs an OpenAI-compatible endpoint: set CHIPCREW_OPENAI_BASE_URL")
    return relevance_teacher(make_client(settings))


def command(
    out: Annotated[Path, typer.Option("--out", help="Folder for bench_docqa.json, bench_docqa.md and the per-question file.")],
    suite: Annotated[Suite, typer.Option("--suite", help="Benchmark suite.")] = "ord-qa",
    retriever: Annotated[Retriever, typer.Option("--retriever", help="First-stage retriever of the main config.")] = "hybrid",
    embedder: Annotated[EmbedderName, typer.Option("--embedder", help="Dense embedder (trained if missing).")] = "finetuned",
    rerank: Annotated[bool, typer.Option("--rerank/--no-rerank", help="Late-interaction reranking (trained if missing).")] = True,
    ablation: Annotated[bool, typer.Option("--ablation/--no-ablation", help="Also score dense, bm25, hybrid and the added parts.")] = True,
    teacher: Annotated[
        TeacherName, typer.Option("--teacher", help="Reranker labels: pseudo-query labels, or the configured LLM (retrains).")
    ] = "offline",
    as_json: JsonOpt = False,
) -> None:
    """Recall@1/5/10/20, MRR, BLEU, ROUGE-L and latency on ORD-QA, with the ablation and RAG-EDA's numbers."""
    from eval.bench_docqa import BenchConfig, run_bench, to_markdown

    with terminal.run_folder(out), terminal.progress_bar(log=not as_json) as progress:
        payload = run_bench(
            out,
            progress=progress,
            config=BenchConfig(retriever, embedder, rerank),
            ablation=ablation,
            teacher=_llm_teacher() if teacher == "llm" else None,
            log=lambda m: typer.echo(m, err=True),
        )
    typer.echo(json.dumps(payload, indent=2) if as_json else to_markdown(payload))


def dev_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for dev_docqa.json and the dev indexes.")],
    as_json: JsonOpt = False,
) -> None:
    """The doc-QA development grid (never ORD-QA) that picks the retrieval settings."""
    from eval.dev_docqa import run_dev, to_markdown

    with terminal.run_folder(out):
        report = run_dev(out, log=lambda m: typer.echo(m, err=True))
    show(report, to_markdown, as_json, out / "dev_docqa.json")
