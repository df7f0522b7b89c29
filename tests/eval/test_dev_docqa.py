"""The doc-QA development set: held out from ORD-QA and from training by construction, and its objective."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.bench_docqa import load_ordqa
from eval.dev_docqa import DEV_FILES, OVERLAP, build_dev_set, objective, overlap
from tools.common import InputError
from tools.docqa.chunks import Section, markdown_sections
from tools.docqa.pseudo import pseudo_queries, split_dev
from tools.docqa.store import corpus_sections

GPL = """# Global Placement

## Commands

### Global Placement

The global placer spreads instances over the core while it minimises wirelength.

```
global_placement
    [-density target_density]
```

| Switch Name | Description |
| ----- | ----- |
| `-density` | Set target density. The default value is `0.7`. |
"""


def _hand(path: Path, *rows: dict) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _sections() -> list[Section]:
    return markdown_sections(GPL, "src/gpl/README.md")


def test_a_dev_question_overlapping_a_test_question_is_dropped(tmp_path: Path) -> None:
    secs = _sections()
    hand = _hand(
        tmp_path / "dev.jsonl",
        {"id": "d1", "style": "direct", "question": "How do I set the target density of global placement?", "gold": [secs[0].id]},
        {"id": "d2", "style": "scenario", "question": "Cells are packed too tightly; how can I spread them?", "gold": [secs[0].id]},
    )
    test = ["How can I set the target density for global placement?"]
    queries, dropped = build_dev_set(secs, test, [hand])
    assert dropped >= 1
    assert all(overlap(q.text, test[0]) < OVERLAP for q in queries)
    assert "d2" in {q.id for q in queries} and "d1" not in {q.id for q in queries}


def test_a_dev_question_with_an_unknown_gold_section_is_an_input_error(tmp_path: Path) -> None:
    hand = _hand(tmp_path / "dev.jsonl", {"id": "d1", "style": "direct", "question": "q", "gold": ["nope_3"]})
    with pytest.raises(InputError, match="nope_3"):
        build_dev_set(_sections(), [], [hand])


def test_held_out_pseudo_material_never_reaches_training_from_another_corpus() -> None:
    """The same docs chunked twice (ORD-QA's corpus, the shipped markdown) split on the same keys."""
    dev_keys = {q.key for q in split_dev(pseudo_queries(corpus_sections("ord-qa")))[1]}
    train_keys = {q.key for q in split_dev(pseudo_queries(corpus_sections("openroad")))[0]}
    assert dev_keys and not dev_keys & train_keys


def test_the_shipped_dev_set_is_valid_and_held_out_from_ordqa() -> None:
    secs = corpus_sections("ord-qa")
    test = [q.text for q in load_ordqa()]
    queries, dropped = build_dev_set(secs, test)
    hand = [q for q in queries if not q.id.startswith("pseudo")]
    assert len(hand) >= 300 and dropped <= 3
    assert {q.kind for q in hand} == {"direct", "scenario", "abstract", "flow", "functionality", "setup", "issue"}
    assert sum(len(f.read_text().splitlines()) for f in DEV_FILES) - len(hand) <= dropped
    assert max(overlap(q.text, t) for q in queries for t in test) < OVERLAP


def test_objective_weighs_hand_written_and_pseudo_halves_equally() -> None:
    perfect = {"recall@5": 1.0, "recall@20": 1.0, "mrr": 1.0}
    zero = {"recall@5": 0.0, "recall@20": 0.0, "mrr": 0.0}
    assert objective({"direct": perfect, "scenario": perfect, "option": zero}) == pytest.approx(0.5)
    assert objective({"direct": perfect, "ict": zero, "option": zero, "command": perfect}) == pytest.approx((1 + 1 / 3) / 2)
