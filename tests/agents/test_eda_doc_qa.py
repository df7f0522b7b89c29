"""The doc-QA agent: planner phrasings, renderer on real results, spec, and one run through the supervisor."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agents import ToolCall
from agents.eda_doc_qa import AGENT, plan, render
from prompts import load_prompt
from tools.docqa.index_tool import DocQAIngestArgs, DocQAStatsArgs, run_docqa_ingest, run_docqa_stats
from tools.docqa.search_tool import DocQAAnswerArgs, DocQASearchArgs, run_docqa_answer, run_docqa_search

PHRASINGS = [
    ("What does the -density option of global_placement do?", "docqa_answer",
     {"question": "What does the -density option of global_placement do?"}),
    ("How do I build OpenROAD from source?", "docqa_answer", {"question": "How do I build OpenROAD from source?"}),
    ("using bm25, how do I set routing layers", "docqa_answer",
     {"question": "using bm25, how do I set routing layers", "retriever": "bm25"}),
    ("In the ORD-QA corpus, what is the TritonRoute flow?", "docqa_answer",
     {"question": "In the ORD-QA corpus, what is the TritonRoute flow?", "corpus": "ord-qa"}),
    ("how do I configure the clock in the mytool docs", "docqa_answer",
     {"question": "how do I configure the clock in the mytool docs", "corpus": "mytool"}),
    ("search the docs for set_global_routing_layer_adjustment", "docqa_search",
     {"query": "set_global_routing_layer_adjustment"}),
    ("find the top 8 sections about macro placement with dense retrieval", "docqa_search",
     {"query": "macro placement", "top_k": 8, "retriever": "dense"}),
    ("which sections mention pdngen straps?", "docqa_search", {"query": "pdngen straps"}),
    ("index my tool documentation folder ./docs/mytool", "docqa_ingest", {"folder": "./docs/mytool"}),
    ("please ingest the markdown in '/data/my docs' as acme", "docqa_ingest", {"folder": "/data/my docs", "name": "acme"}),
    ("what is indexed for doc QA?", "docqa_stats", {}),
    ("show the docqa stats", "docqa_stats", {}),
]


@pytest.mark.parametrize(("request_text", "tool", "args"), PHRASINGS)
def test_planner_picks_the_tool_and_only_mentioned_arguments(request_text: str, tool: str, args: dict) -> None:
    call = plan(request_text)
    assert (call.tool, call.args) == (tool, args)
    AGENT.tool(call.tool).args_model.model_validate(call.args)


def test_spec_is_complete() -> None:
    assert AGENT.name == "eda_doc_qa" and len(AGENT.examples) >= 20
    assert {t.name for t in AGENT.tools} == {"docqa_answer", "docqa_search", "docqa_ingest", "docqa_stats"}
    assert "Never invent a command" in load_prompt(AGENT.prompt)


@pytest.fixture
def store(docs_folder_for_agent: Path, tmp_path: Path) -> str:
    path = str(tmp_path / "qdrant")
    run_docqa_ingest(DocQAIngestArgs(folder=str(docs_folder_for_agent), name="gpldocs", embedder="base", index_path=path))
    return path


@pytest.fixture
def docs_folder_for_agent(tmp_path: Path) -> Path:
    """The shipped gpl and grt READMEs (real documentation, two files)."""
    from tools.docqa.store import SHIPPED_DOCS

    root = tmp_path / "docs"
    for rel in ("OpenROAD/src/gpl/README.md", "OpenROAD/src/grt/README.md"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHIPPED_DOCS / rel, root / rel)
    return root


def test_renderer_on_real_results(store: str) -> None:
    q = "What does the -density option of global_placement do?"
    answer = run_docqa_answer(DocQAAnswerArgs(question=q, corpus="gpldocs", embedder="base", index_path=store))
    text = render(ToolCall(tool="docqa_answer", args={"question": q}), answer)
    assert "Set target density" in text and "[1] OpenROAD/src/gpl/README.md" in text
    assert "| # | retrieved section | source |" in text
    search = run_docqa_search(DocQASearchArgs(query="set_routing_alpha", corpus="gpldocs", embedder="base", index_path=store))
    text = render(ToolCall(tool="docqa_search", args={}), search)
    assert "OpenROAD/src/grt/README.md" in text.splitlines()[4]
    stats = render(ToolCall(tool="docqa_stats", args={}), run_docqa_stats(DocQAStatsArgs(index_path=store)))
    assert "gpldocs-base" in stats


def test_ask_routes_to_doc_qa_and_cites_the_gpl_docs(settings_none, monkeypatch: pytest.MonkeyPatch, docs_folder_for_agent: Path) -> None:
    """``chipcrew ask`` path: router -> eda_doc_qa -> docqa_answer on the (shrunk) built-in corpus."""
    from chipcrew.app import ChipCrew

    monkeypatch.setattr("tools.docqa.store.SHIPPED_DOCS", docs_folder_for_agent)
    turn = ChipCrew(settings_none).ask("What does the -density option of global_placement do?")
    assert turn.agent == "eda_doc_qa"
    assert turn.tool_calls[0]["tool"] == "docqa_answer"
    assert "OpenROAD/src/gpl/README.md" in turn.answer and "Set target density" in turn.answer


@pytest.mark.parametrize(
    ("request_text", "query", "top_k"),
    [
        ("list the doc sections that mention detailed_route", "detailed_route", None),
        ("give me the sections covering global placement density", "global placement density", None),
        ("which pages talk about tapcell insertion?", "tapcell insertion", None),
        ("show me 5 passages about pdngen", "pdngen", 5),
    ],
)
def test_a_request_for_matching_sections_is_a_search(request_text: str, query: str, top_k: int | None) -> None:
    call = plan(request_text)
    assert (call.tool, call.args.get("query"), call.args.get("top_k")) == ("docqa_search", query, top_k)
