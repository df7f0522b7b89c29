"""Pseudo-queries come only from the docs' own text and are labelled with their section."""

from __future__ import annotations

from pathlib import Path

from tools.docqa.chunks import folder_sections
from tools.docqa.pseudo import pseudo_queries, split_dev


def test_each_generator_fires_on_a_tool_readme(docs_folder: Path) -> None:
    secs = folder_sections(docs_folder)
    qs = pseudo_queries(secs, seed=0)
    kinds = {q.kind for q in qs}
    assert kinds == {"heading", "command", "option", "ict"}
    by_text = {q.text: q for q in qs}
    gpl = next(s for s in secs if "global_placement" in s.body)
    assert by_text["What does the -density option of global_placement do?"].chunk_id == gpl.id
    assert any(q.text.startswith("Which option of global_placement is used to set target density") for q in qs)


def test_queries_are_deterministic_for_a_seed(docs_folder: Path) -> None:
    secs = folder_sections(docs_folder)
    assert pseudo_queries(secs, seed=3) == pseudo_queries(secs, seed=3)


def test_every_query_label_is_a_real_section(docs_folder: Path) -> None:
    secs = folder_sections(docs_folder)
    ids = {s.id for s in secs}
    assert all(q.chunk_id in ids for q in pseudo_queries(secs))


def test_dev_split_is_disjoint_and_order_free(docs_folder: Path) -> None:
    qs = pseudo_queries(folder_sections(docs_folder))
    train, dev = split_dev(qs, dev_fraction=0.5)
    assert not {q.key for q in train} & {q.key for q in dev}
    assert len(train) + len(dev) == len(qs)
    assert split_dev(list(reversed(qs)), 0.5)[1] == list(reversed(dev))


def test_dev_split_follows_the_material_not_the_wording() -> None:
    from tools.docqa.pseudo import PseudoQuery

    worded = [
        PseudoQuery(f"{template} #{i}", f"s{i}", "heading", f"heading:topic {i}")
        for i in range(200)
        for template in ("What is it?", "Tell me about it.")
    ]
    train, dev = split_dev(worded, dev_fraction=0.3)
    assert dev and train
    assert not {q.key for q in train} & {q.key for q in dev}


def test_keys_ignore_case_and_underscores_of_titles(docs_folder: Path) -> None:
    qs = pseudo_queries(folder_sections(docs_folder))
    option = next(q for q in qs if q.text == "What does the -density option of global_placement do?")
    assert option.key == "option:global placement -density"
