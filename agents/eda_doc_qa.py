"""The EDA documentation QA specialist (RAG-EDA): grounded answers about OpenROAD and its flow scripts.

Tools:
- ``docqa_answer``: retrieve (BM25 + MiniLM in Qdrant, fused), rerank, and compose an extractive answer
  whose every sentence carries a ``[n]`` citation to a documentation file and heading;
- ``docqa_search``: the top-k sections with scores and sources, without composing an answer;
- ``docqa_ingest``: index a user's folder of markdown docs (incremental, atomic);
- ``docqa_stats``: what is indexed, with which embedder and reranker.

The deterministic planner answers by default; it searches when asked to find/list/search sections,
ingests when the request names a folder to index, and shows stats when it asks what is indexed. It reads
the corpus (``ord-qa``, ``openroad`` or an ingested name after "in the ... docs"), the retriever
(dense / bm25 / hybrid) and "top N"; anything unsaid is left to the tool defaults.
"""

from __future__ import annotations

import re
from typing import Any

from agents.base import AgentSpec, ToolCall, ToolSpec
from agents.parsing import quoted, render_by_type, rooted_paths
from tools.docqa import (
    DocQAAnswerArgs,
    DocQAAnswerResult,
    DocQAIngestArgs,
    DocQAIngestResult,
    DocQASearchArgs,
    DocQASearchResult,
    DocQAStatsArgs,
    DocQAStatsResult,
    run_docqa_answer,
    run_docqa_ingest,
    run_docqa_search,
    run_docqa_stats,
)
from tools.docqa.vocabulary import openroad_terms

__all__ = ("AGENT", "plan", "render")

_I = re.I
_INGEST = re.compile(r"\b(?:ingest|index|re-?index|add|load|import)\b", _I)
_FOLDER_WORD = re.compile(r"\b(?:folder|directory|dir|docs?|documentation|markdown|files?)\b", _I)
_STATS = re.compile(
    r"\b(?:index|docqa)\s+(?:stats|statistics|status|info)\b|\bwhat(?:'s| is)\s+(?:in\s+the\s+index|indexed)\b|"
    r"\bhow\s+many\s+(?:chunks|sections|pieces|documents|docs)\b|\bhow\s+(?:big|large)\s+is\s+the\s+(?:\w+\s+)?index\b|\b(?:show|list)\s+(?:the\s+)?(?:indexes|indices|corpora)\b",
    _I,
)
_UNITS = r"(?:sections?|pages?|passages?|chunks?|entries|excerpts?|paragraphs?|parts|places|hits|results|sources|matches)"
_SEARCH = re.compile(
    r"^\s*(?:search|find|look\s+up|retrieve|list)\b|\b(?:which|what)\s+(?:doc(?:umentation)?\s+)?(?:sections?|pages?|docs?|chunks?|"
    r"passages?)\s+(?:mention|cover|describe|talk|discuss|document|contain|refer)|\btop[\s-]*\d+\s+" + _UNITS + r"\b|"
    r"\b(?:list|show|give|get|pull\s+up|return|fetch|need|want|find|point\s+me\s+to)\b[^?.]{0,30}?\b(?:\d{1,2}\s+)?"
    r"(?:(?:doc|docs|documentation|matching|relevant|related)\s+){0,2}" + _UNITS + r"\b|"
    r"\b(?:list|show)\s+(?:me\s+)?(?:the\s+)?(?:matching\s+)?" + _UNITS + r"\b",
    _I,
)
_SEARCH_LEAD = re.compile(
    r"^\s*(?:search|find|look\s+up|retrieve|list)\s+(?:(?:in|through)\s+)?(?:the\s+)?"
    r"(?:(?:openroad|ord-qa|orfs)\s+)?(?:docs?|documentation|sections?|chunks?)?\s*(?:for|about|on|mentioning|that\s+mention)?\s*",
    _I,
)
_ABOUT = (
    r"(?:mention\w*|cover\w*|about|on|for|of|describ\w*|talk(?:s|ing)?\s+about|discuss\w*|refer\w*(?:\s+to)?|"
    r"related\s+to|relating\s+to|matching|contain\w*|explain\w*|regarding|concerning|dealing\s+with|document\w*)"
)
_DOCS_OF = re.compile(
    r"^(?:the\s+|my\s+)?(?:[\w-]+\s+)?(?:docs?|documentation|manual|guide|index)\s+(?:that\s+|which\s+)?" + _ABOUT + r"\s+", _I
)
"""A topic phrase that still starts with the corpus ("the OpenROAD docs about antenna repair")."""
_TOPIC = re.compile(
    r"\b" + _UNITS + r"\s+(?:that\s+|which\s+)?" + _ABOUT + r"\s+(.+)$|"
    r"\bwhere\s+in\s+the\s+(?:docs?|documentation)\s+is\s+(.+?)\s+(?:described|documented|explained|covered|mentioned)\b",
    _I,
)
_TOPIC_TAIL = re.compile(r"[?!;]\s.*$|\.\s+\D.*$|\s*(?:in|from)\s+the\s+(?:docs?|documentation)\s*$|[?.!]+$", _I)
"""What follows the topic: the rest after its sentence ends ("set_clock_latency? just list them"), "in the docs"."""
_QUERY_NOISE = re.compile(
    r"\b(?:the\s+)?top[\s-]*\d{1,2}\s*(?:sections|chunks|results|hits|sources)?\s*(?:about|on|for|mentioning)?\s*|"
    r"\s*\b(?:with|using|via|by)\s+(?:the\s+)?(?:dense|bm25|hybrid)(?:\s+(?:retrieval|retriever|search))?\b",
    _I,
)
_TOP = re.compile(
    r"\btop[\s-]*(\d{1,2})\b|\b(\d{1,2})\s+(?:(?:most|more|best|top|doc|docs|documentation|matching|relevant|related)\s+){0,3}"
    + _UNITS + r"\b", _I
)
_RETRIEVER = re.compile(r"\b(dense|bm25|hybrid)\b", _I)
_ORDQA = re.compile(r"\bord[\s-]?qa\b", _I)
_NAMED_CORPUS = re.compile(r"\bin\s+(?:the\s+|my\s+)?([a-z0-9][a-z0-9_-]*)\s+(?:docs|documentation|corpus)\b", _I)
_NAME_AS = re.compile(r"\b(?:as|named|called)\s+['\"]?([a-z0-9][a-z0-9_-]*)", _I)
_NOT_CORPUS = {"the", "my", "openroad", "these", "those", "our", "your", "its", "tool", "eda"}


def plan(request: str) -> ToolCall:
    """Pick the tool from the request's intent and fill only the arguments it mentions."""
    text = request.strip()
    path = _path(text)
    if path and _INGEST.search(text) and (_FOLDER_WORD.search(text) or path):
        args: dict[str, Any] = {"folder": path}
        named = _NAME_AS.search(text.replace(path, " "))
        if named:
            args["name"] = named.group(1).lower()
        return ToolCall(tool="docqa_ingest", args=args)
    if _STATS.search(text):
        return ToolCall(tool="docqa_stats", args={})
    common = _common_args(text)
    if _SEARCH.search(text) or _TOPIC.search(text) and re.search(r"\b(?:list|show|which|where)\b", text, _I):
        topic = _TOPIC.search(text)
        lead = _SEARCH_LEAD.sub("", text) if _SEARCH_LEAD.match(text) and _SEARCH_LEAD.match(text).end() else None
        phrase = lead if lead and not topic else (topic.group(1) or topic.group(2) if topic else text)
        phrase = _DOCS_OF.sub("", phrase)
        query = _QUERY_NOISE.sub(" ", _TOPIC_TAIL.sub("", phrase)).strip(" ?.,") or text
        args = {"query": query, **common}
        top = _TOP.search(text)
        if top:
            args["top_k"] = int(top.group(1) or top.group(2))
        return ToolCall(tool="docqa_search", args=args)
    return ToolCall(tool="docqa_answer", args={"question": text, **common})


def _path(text: str) -> str | None:
    """The folder to ingest: a quoted string with a slash, else the first rooted path."""
    return next((q for q in quoted(text) if "/" in q), None) or next(iter(rooted_paths(text)), None)


def _common_args(text: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if _ORDQA.search(text):
        args["corpus"] = "ord-qa"
    else:
        named = _NAMED_CORPUS.search(text)
        if named and named.group(1).lower() not in _NOT_CORPUS:
            args["corpus"] = named.group(1).lower()
    retriever = _RETRIEVER.search(text)
    if retriever:
        args["retriever"] = retriever.group(1).lower()
    return args


def _setup(r: DocQAAnswerResult | DocQASearchResult) -> str:
    rerank = ", reranked" if r.reranked else ""
    return f"{r.corpus} docs, {r.embedder} embedder{rerank}, retrieval {r.search_ms:.0f} ms"


def _render_answer(r: DocQAAnswerResult) -> str:
    lines = [r.markdown, "", "| # | retrieved section | source |", "|---:|---|---|"]
    lines += [f"| {h.rank} | {h.heading} (`{h.chunk_id}`) | {h.source} |" for h in r.hits[:3]]
    lines += ["", f"_Extractive answer from the documentation ({_setup(r)}); only cited text is used._"]
    return "\n".join(lines)


def _render_search(r: DocQASearchResult) -> str:
    lines = [
        f"**{len(r.hits)} sections** for “{r.query}” ({_setup(r)}, {r.retriever}):",
        "",
        "| # | section | source | score | snippet |",
        "|---:|---|---|---:|---|",
    ]
    for h in r.hits:
        snippet = h.snippet[:120].replace("|", "\\|")
        lines.append(f"| {h.rank} | {h.heading} (`{h.chunk_id}`) | {h.source} | {h.score:.4f} | {snippet} |")
    return "\n".join(lines)


def _render_ingest(r: DocQAIngestResult) -> str:
    return "\n".join(
        [
            f"**Indexed {r.sections} sections ({r.pieces} pieces) as `{r.corpus}`** from {r.source} in {r.seconds:.1f} s.",
            "",
            "| added | changed | unchanged (reused) | removed | embedded |",
            "|---:|---:|---:|---:|---:|",
            f"| {r.added} | {r.changed} | {r.unchanged} | {r.removed} | {r.embedded} |",
            "",
            f"Ask about it with “… in the {r.corpus} docs”. Index alias: `{r.index}`.",
        ]
    )


def _render_stats(r: DocQAStatsResult) -> str:
    lines = [f"**{len(r.indexes)} documentation indexes** at {r.location}.", ""]
    if r.indexes:
        lines += ["| index | corpus | embedder | reranker | sections | pieces | built |", "|---|---|---|---|---:|---:|---|"]
        lines += [
            f"| {i.index} | {i.corpus} | {i.embedder} | {i.reranker} | {i.sections} | {i.pieces} | {i.built} |"
            for i in r.indexes
        ]
    else:
        lines.append("Nothing indexed yet: the first question builds the OpenROAD index.")
    tuned = "trained" if r.finetuned_embedder else "not trained (run `chipcrew bench docqa` to train it)"
    lines += ["", f"Fine-tuned embedder: {tuned}. Rerankers: {', '.join(r.rerankers) or 'none'}."]
    return "\n".join(lines)


render = render_by_type(
    "eda_doc_qa",
    {
        DocQAAnswerResult: _render_answer,
        DocQASearchResult: _render_search,
        DocQAIngestResult: _render_ingest,
        DocQAStatsResult: _render_stats,
    },
)
"""Markdown: the answer with its citations first, then a short table of what was retrieved."""

AGENT = AgentSpec(
    name="eda_doc_qa",
    description=(
        "Answers questions about OpenROAD and OpenROAD-flow-scripts (Tcl commands and options, flow steps, "
        "installation, GUI) from their documentation, with citations; can also index your own tool docs."
    ),
    examples=(
        "What does the -density option of global_placement do?",
        "How do I run global routing in OpenROAD?",
        "which command runs detailed placement in openroad",
        "what are the arguments of set_routing_layers",
        "explain the options of the tapcell command",
        "How do I build OpenROAD from source?",
        "how to install OpenROAD-flow-scripts with docker",
        "how do I open the OpenROAD GUI and look at a design",
        "what is the difference between global_placement -timing_driven and -routability_driven",
        "how do I set the clock tree synthesis buffer list in cts",
        "what does clock_tree_synthesis -sink_clustering_enable mean",
        "How do I repair timing with the resizer after placement?",
        "how can I set the core utilization in the flow scripts config.mk",
        "which make target runs the whole flow in ORFS",
        "how do I read LEF and DEF files into OpenROAD",
        "how does pdngen define power grid straps",
        "what does the -macro_pins option of the pin placer do",
        "how do I run the antenna checker check_antennas",
        "what is the TritonRoute detailed router and how do I call detailed_route",
        "how do I extract parasitics with OpenRCX and write a SPEF file",
        "how to run IR drop analysis with analyze_power_grid",
        "where are the unit tests of OpenDB's Python API and how do I run them",
        "search the OpenROAD docs for set_global_routing_layer_adjustment",
        "index my tool documentation folder ./docs/mytool",
        "what documentation is indexed for doc QA",
        "how are macros placed automatically during floorplanning",
        "which options does the detailed router accept",
        "how do I set up the power delivery network straps and rings",
        "which command prints the worst negative slack",
        "how do I constrain IO pins to one side of the die",
        "what do the synthesis variables of the flow mean",
        "where is the option that limits routing congestion documented",
        "is there an example script for buffering the clock nets",
        "how do I insert filler cells after detailed placement",
        "how to run RC extraction and calibrate the rules file",
        "what does the gate resizer do during repair_design",
        "how can I check that the placement is legal",
        "how do I fix antenna violations with diodes",
        "how do I debug global routing overflow",
        "how do I partition a hypergraph with the partition manager",
        "how do I read the SDC timing constraints into the tool",
        "how do I create power switches and power domains from UPF",
        "how are IO pads and bumps placed in chip-level connections",
        "how do I show timing paths and heat maps in the GUI",
        "orfs: how do I change the die area of my design",
        "openroad: what is the default placement density",
        "can you look up the tapcell arguments for me",
        "which section of the docs explains macro placement halos",
        "what does the flow variable for the clock period do",
        "how do I write out the final DEF and GDS in the flow",
        "search the documentation for metal fill and density rules",
        "how do I add a placement blockage around a macro",
        "how do I connect the standard cell power pins to the grid",
        "how do I place a macro at fixed coordinates with a given orientation",
        "how do I specify the resistance and capacitance of a routing layer",
        "how do I set up several power domains with level shifters",
        "how do I make the rows use a different site",
        "how do I reduce congestion in the router by adjusting layer capacity",
        "how do I generate the clock tree and report skew afterwards",
        "what does the placer's timing driven mode change",
        "how are bond pads and the IO ring connected in the chip-level flow",
        "which Python APIs exist for the placer and router",
        "how do I dump the routing guides to a file",
    ),
    keywords=(
        "openroad",
        "orfs",
        "flow-scripts",
        "flow scripts",
        "tcl",
        "global_placement",
        "detailed_placement",
        "global_route",
        "detailed_route",
        "clock_tree_synthesis",
        "pdngen",
        "tapcell",
        "opendb",
        "openrcx",
        "tritonroute",
        "replace",
    ),
    tools=(
        ToolSpec("docqa_answer", "Answer a question from the OpenROAD docs with numbered citations.", DocQAAnswerArgs, run_docqa_answer),
        ToolSpec("docqa_search", "Top-k documentation sections for a query, with scores and sources.", DocQASearchArgs, run_docqa_search),
        ToolSpec("docqa_ingest", "Index a folder of markdown documentation (incremental).", DocQAIngestArgs, run_docqa_ingest),
        ToolSpec("docqa_stats", "Show the documentation indexes and trained models.", DocQAStatsArgs, run_docqa_stats),
    ),
    plan=plan,
    render=render,
    prompt="eda_doc_qa",
    commands=("docqa",),
    vocabulary=openroad_terms,
)
