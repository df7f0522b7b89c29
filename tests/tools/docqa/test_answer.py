"""Extractive answers: units, citations, code only from the retrieved text, language check."""

from __future__ import annotations

from tools.docqa.answer import compose_answer, looks_english, split_units

Sections = list[tuple[str, str, str, str]]


def test_units_are_sentences_option_rows_and_code_blocks(sample_sections: Sections) -> None:
    units = split_units(sample_sections[0][3])
    kinds = [u.kind for u in units]
    assert "code" in kinds and "option" in kinds and "sentence" in kinds
    option = next(u for u in units if u.kind == "option" and "-density" in u.text)
    assert option.text.startswith("`-density`: Set target density.")
    code = next(u for u in units if u.kind == "code")
    assert code.text.startswith("```") and "[-density target_density]" in code.text


def test_answer_cites_the_section_it_quotes(sample_sections: Sections) -> None:
    ans = compose_answer("What does the -density option of global_placement do?", sample_sections, embedder=None, max_units=2)
    assert "Set target density" in ans.text
    assert ans.citations[0].source == "src/gpl/README.md"
    assert "[1]" in ans.text
    assert "[1] src/gpl/README.md — Global Placement > Commands > Global Placement" in ans.markdown


def test_code_comes_from_a_section_that_names_the_command(sample_sections: Sections) -> None:
    ans = compose_answer("how do I call set_routing_alpha", sample_sections, embedder=None)
    assert ans.code is not None and "set_routing_alpha" in ans.code
    cited = {c.source for c in ans.citations}
    assert "src/grt/README.md" in cited


def test_every_answer_line_is_copied_from_the_sections(sample_sections: Sections) -> None:
    ans = compose_answer("how is global routing done", sample_sections, embedder=None, max_units=6)
    corpus = " ".join(" ".join(t.split()) for *_, t in sample_sections)
    assert len(ans.used) == 6
    for _, line in ans.used:
        quoted = line.split(": ", 1)[1] if line.startswith("`-") else line
        assert " ".join(quoted.split()) in corpus


def test_language_check() -> None:
    assert looks_english("What does the -density option of global_placement do?")
    assert not looks_english("全局布局的密度选项是什么？")
    assert not looks_english("Wie setze ich die Dichte für die globale Platzierung?")
    assert looks_english("set_routing_alpha")
