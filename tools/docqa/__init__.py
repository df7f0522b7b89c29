"""Documentation QA (RAG-EDA): markdown chunking, a hybrid Qdrant index, a fine-tuned embedder, a distilled
late-interaction reranker, and extractive answers with citations.

Modules: ``chunks`` (sections and pieces), ``lexical`` (BM25), ``index`` (Qdrant), ``encode`` (one encoder
pass for dense and token vectors), ``pseudo`` (pseudo-queries), ``finetune`` (contrastive embedder
training), ``rerank`` (distilled reranker), ``answer`` (extractive answers), ``metrics`` (recall@k, MRR,
BLEU, ROUGE-L), ``store`` (corpora, models, index locations) and the tools ``search_tool`` and
``index_tool``.
"""

from tools.docqa.index_tool import (
    DocQAIngestArgs,
    DocQAIngestResult,
    DocQAStatsArgs,
    DocQAStatsResult,
    run_docqa_ingest,
    run_docqa_stats,
)
from tools.docqa.search_tool import (
    DocQAAnswerArgs,
    DocQAAnswerResult,
    DocQASearchArgs,
    DocQASearchResult,
    run_docqa_answer,
    run_docqa_search,
)

__all__ = (
    "DocQAAnswerArgs",
    "DocQAAnswerResult",
    "DocQASearchArgs",
    "DocQASearchResult",
    "DocQAIngestArgs",
    "DocQAIngestResult",
    "DocQAStatsArgs",
    "DocQAStatsResult",
    "run_docqa_answer",
    "run_docqa_search",
    "run_docqa_ingest",
    "run_docqa_stats",
)
