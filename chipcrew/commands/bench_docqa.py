"""``chipcrew bench docqa``: the ORD-QA benchmark of the documentation QA stack (thin layer over eval.bench_docqa)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from tools.common import ChipCrewError
from tools.docqa.rerank import Teacher

__all__ = ("command",)


class Suite(str, Enum):
    ord_qa = "ord-qa"


class Retriever(str, Enum):
    dense = "dense"
    bm25 = "bm25"
    hybrid = "hybrid"


class EmbedderChoice(str, Enum):
    base = "base"
    finetuned = "finetuned"


class TeacherChoice(str, Enum):
    offline = "offline"
    llm = "llm"


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
    out: Path = typer.Option(..., "--out", help="Folder for bench_docqa.json, bench_docqa.md and the per-question file."),
    suite: Suite = typer.Option(Suite.ord_qa, "--suite", help="Benchmark suite."),
    retriever: Retriever = typer.Option(Retriever.hybrid, "--retriever", help="First-stage retriever of the main config."),
    embedder: EmbedderChoice = typer.Option(EmbedderChoice.finetuned, "--embedder", help="Dense embedder (trained if missing)."),
    rerank: bool = typer.Option(True, "--rerank/--no-rerank", help="Late-interaction reranking (trained if missing)."),
    ablation: bool = typer.Option(True, "--ablation/--no-ablation", help="Also score dense, bm25, hybrid and the added parts."),
    teacher: TeacherChoice = typer.Option(
        TeacherChoice.offline, "--teacher", help="Reranker labels: pseudo-query labels, or the configured LLM (retrains)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON result instead of the markdown table."),
) -> None:
    """Recall@1/5/10/20, MRR, BLEU, ROUGE-L and latency on ORD-QA, with the ablation and RAG-EDA's numbers."""
    from eval.bench_docqa import BenchConfig, run_bench, to_markdown

    try:
        payload = run_bench(
            out,
            config=BenchConfig(retriever.value, embedder.value, rerank),
            ablation=ablation,
            teacher=_llm_teacher() if teacher is TeacherChoice.llm else None,
            log=lambda m: typer.echo(m, err=True),
        )
    except ChipCrewError as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(code=2) from err
    typer.echo(json.dumps(payload, indent=2) if as_json else to_markdown(payload))
