"""Contrastive fine-tuning: CSV filtering, triples from the docs, a saved model the Embedder loads."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from tools.docqa.chunks import folder_sections, split_pieces
from tools.docqa.finetune import Triple, doc_triples, finetune_embedder, load_contrastive_csv, normalize_question
from tools.docqa.pseudo import pseudo_queries
from tools.embedding import Embedder, default_embedder_path


def _write_csv(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sent0", "sent1", "hard_neg"])
        writer.writerows(rows)


def test_csv_rows_are_stripped_and_artefacts_and_exclusions_dropped(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    _write_csv(
        path,
        [
            (" What is NLDM? ", " How does NLDM work? ", " What is CCS? "),
            ("What is DEF?", "Explain DEF.", "Replace DEF with LEF in the sentence in task 1"),
            ("How do I run global placement?", "Run gpl how?", "How do I run detailed placement?"),
        ],
    )
    triples, artefacts, excluded = load_contrastive_csv(path, exclude={normalize_question("how do I run global placement")})
    assert triples == [Triple("What is NLDM?", "How does NLDM work?", "What is CCS?")]
    assert (artefacts, excluded) == (1, 1)


def test_doc_triples_take_negatives_from_other_sections(docs_folder: Path) -> None:
    secs = folder_sections(docs_folder)
    pieces = [p for s in secs for p in split_pieces(s, lambda t: len(t.split()))]
    queries = pseudo_queries(secs)
    triples = doc_triples(pieces, queries)
    owner = {p.text: p.parent_id for p in pieces}
    assert len(triples) > 10
    for q, t in zip(queries, triples):
        assert owner[t.negative] != q.chunk_id


def test_finetuning_updates_only_the_top_blocks_and_saves_a_loadable_model(tmp_path: Path) -> None:
    csv_t = [Triple(f"What is term{i} in EDA?", f"Explain term{i}.", f"What is word{i} in EDA?") for i in range(4)]
    docs = [Triple("what sets density", "global placement density option", "routing layers")] * 2
    out = tmp_path / "ft"
    stats = finetune_embedder(default_embedder_path(), out, csv_t, docs, batch_size=4, train_layers=1, max_doc_tokens=16)
    assert stats["steps"] == 2
    tuned = Embedder(out)
    vec = tuned.encode(["global placement"])
    assert vec.shape == (1, tuned.dim) and np.isclose(np.linalg.norm(vec), 1.0, atol=1e-5)
    from transformers import AutoModel

    base = AutoModel.from_pretrained(default_embedder_path())
    assert torch.equal(base.encoder.layer[0].attention.self.query.weight, tuned.model.encoder.layer[0].attention.self.query.weight)
    assert not torch.equal(base.encoder.layer[-1].output.dense.weight, tuned.model.encoder.layer[-1].output.dense.weight)
