"""Extractive answers: units, citations, code only from the retrieved text, language check."""

from __future__ import annotations

from tools.docqa.answer import compose_answer, defines_option, looks_english, named_options, split_units

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


def test_the_definition_of_a_named_option_is_preferred(sample_sections: Sections) -> None:
    tutorial = ("tut#1", "docs/Tutorial.md", "Tutorial > Placement density", "Placement density matters. " * 5 + "\n\nRun `global_placement -density 0.6` to spread cells with a lower placement density.")
    ans = compose_answer("What does the -density option of global_placement do?", [tutorial, sample_sections[0]], embedder=None, max_units=1)
    assert ans.used == [(1, "`-density`: Set target density. The default value is `0.7` (i.e., 70%). Allowed values are floats `[0, 1]`.")]
    assert ans.citations[0].source == "src/gpl/README.md"


def test_option_names_and_their_definitions(sample_sections: Sections) -> None:
    assert named_options("What do -density and -skip_io of global_placement do?") == {"-density", "-skip_io"}
    assert defines_option(sample_sections[0][3], {"-skip_io"})
    assert not defines_option(sample_sections[1][3], {"-density"})


def test_answer_sections_add_the_later_section_that_defines_the_option(sample_sections: Sections) -> None:
    from tools.docqa.search_tool import _answer_sections

    from tools.docqa.index import Hit

    tutorial = ("tut#1", "docs/Tutorial.md", "Tutorial", "Run `global_placement -density 0.6`.")
    found = [tutorial, sample_sections[1], sample_sections[0]]
    hits = [Hit(cid, f"{cid}/0", source, heading, heading, "", 1.0) for cid, source, heading, _ in found]
    read: list[str] = []

    def text(chunk_id: str) -> str:
        read.append(chunk_id)
        return next(body for cid, _, _, body in found if cid == chunk_id)

    assert _answer_sections("What does -density do?", hits, 2, text) == found
    assert _answer_sections("What does -net do?", hits, 2, text) == found[:2]
    read.clear()
    assert _answer_sections("How do I place cells?", hits, 2, text) == found[:2]
    assert read == [found[0][0], found[1][0]]  # no option named: later sections are not read
