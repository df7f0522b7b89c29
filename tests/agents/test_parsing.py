"""The parsing and formatting helpers every planner and answer template shares."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from agents.base import ToolCall
from agents.parsing import (
    BATCH,
    LENGTH,
    NUMBER,
    SEED,
    artifact_lines,
    counted,
    device,
    file_pattern,
    first_int,
    length_nm,
    mentions,
    ms,
    num,
    out_dir,
    pct,
    put_int,
    quoted,
    render_by_type,
    rooted_paths,
    seed_list,
    to_float,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("seed 3", 3), ("with seed=12", 12), ("seed of 7 please", 7), ("seeds", None), ("512 seeds", None)],
)
def test_seed(text: str, value: int | None) -> None:
    assert first_int(text, SEED) == value


def test_batch_and_put_int_leave_args_alone_without_a_match() -> None:
    args: dict[str, int] = {}
    put_int(args, "batch", "no batch named here", BATCH)
    assert args == {}
    put_int(args, "batch", "batch size of 512", BATCH)
    assert args == {"batch": 512}


@pytest.mark.parametrize(
    ("text", "value"),
    [("40 iterations", 40), ("iterations: 12", 12), ("3 training epochs", 3), ("epochs=5", 5), ("an iteration", None)],
)
def test_counted_reads_both_orders_and_a_qualifier(text: str, value: int | None) -> None:
    assert first_int(text, counted(r"iterations?|epochs?", qualifier="training")) == value


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("run it on the GPU", "cuda"),
        ("use cuda", "cuda"),
        ("on the cpu please", "cpu"),
        ("cpu only", "cpu"),
        ("on the cpu, not the gpu", "cpu"),
        ("measure the cpu time", None),
        ("nothing said", None),
    ],
)
def test_device_takes_the_first_mention(text: str, where: str | None) -> None:
    assert device(text) == where


def test_out_dir() -> None:
    assert out_dir("optimise it and save it to runs/t6") == "runs/t6"
    assert out_dir("--out results/") == "results/"
    assert out_dir("just run it") is None


def test_rooted_paths_drop_trailing_punctuation_and_ignore_slashes_between_words() -> None:
    text = "evaluate /tmp/pruned. and ./docs/mytool/, ~/notes, fan-out 10/5 and VO1M/VO1P"
    assert rooted_paths(text) == ["/tmp/pruned", "./docs/mytool", "~/notes"]
    assert rooted_paths("a bare / is not a path") == []


def test_quoted_and_file_pattern() -> None:
    assert quoted("""index "my docs/x" and `other`""") == ["my docs/x", "other"]
    found = [(m[1], m[2]) for m in file_pattern("npy", "gds").finditer("score out/mask.npy and a.GDS, not b.png")]
    assert found == [("out/mask.npy", "npy"), ("a.GDS", "GDS")]


@pytest.mark.parametrize(("text", "value"), [("1,000,000", 1e6), ("2.5", 2.5), (".5", 0.5), ("1_000", 1000.0)])
def test_number_reads_thousands_separators(text: str, value: float) -> None:
    found = re.fullmatch(NUMBER, text)
    assert found is not None and to_float(found[1]) == value


def test_number_does_not_swallow_a_list_separator() -> None:
    found = re.match(NUMBER, "3, 4")
    assert found is not None and found[1] == "3"


def test_formatters_show_a_dash_for_what_was_not_measured() -> None:
    assert (num(None), ms(None), pct(None)) == ("–", "–", "–")
    assert num(1234.5678) == "1,234.57"
    assert num(0.0012, ",.1f", 1e3, " mV") == "1.2 mV"
    assert (ms(0.01234), pct(0.256)) == ("12.3", "25.6%")
    assert artifact_lines({"plot": "/x/p.png"}) == ["- plot: `/x/p.png`"]


class _A(BaseModel):
    x: int = 1


class _B(BaseModel):
    y: int = 2


def test_render_by_type_dispatches_and_names_what_it_cannot_render() -> None:
    render = render_by_type("demo", {_A: lambda r: f"A{r.x}"})
    assert render(ToolCall(tool="a"), _A()) == "A1"
    with pytest.raises(TypeError, match="demo cannot render a _B .from b."):
        render(ToolCall(tool="b"), _B())


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("run for -5 iterations", -5),
        ("iterations = -20", -20),
        ("minus 4 iterations", -4),
        ("\u22123 iterations", -3),
        ("M1_test-3 with 2 iterations", 2),  # a hyphen inside a name is not a sign
        ("10-20 iterations", None),  # a range is not one count
    ],
)
def test_counts_keep_their_stated_sign(text: str, value: int | None) -> None:
    """A negative count must reach validation as written, not run with its magnitude."""
    assert first_int(text, counted(r"iterations?")) == value


def test_a_negative_seed_is_kept_and_a_list_of_seeds_is_not_one_seed() -> None:
    assert first_int("seed -1", SEED) == -1
    assert first_int("seeds 1, 2 and 3", SEED) is None


@pytest.mark.parametrize(
    ("text", "seeds"),
    [
        ("seeds 1, 2 and 3", [1, 2, 3]),
        ("over 3 seeds", [0, 1, 2]),
        ("across two seeds", [0, 1]),
        ("seeds 0-2", [0, 1, 2]),
        ("with seeds 4 to 5", [4, 5]),
        ("seed 3", None),
        ("1 seed", None),
    ],
)
def test_seed_list(text: str, seeds: list[int] | None) -> None:
    assert seed_list(text) == seeds


@pytest.mark.parametrize(
    ("text", "nm"), [("40 nm", 40.0), ("0.04 um", 40.0), ("0.1 \u00b5m", 100.0), ("80-nm", 80.0), ("1.5 microns", 1500.0)]
)
def test_lengths_are_read_in_nanometres(text: str, nm: float) -> None:
    found = re.search(LENGTH, text)
    assert found is not None and length_nm(found[1], found[2]) == pytest.approx(nm)


def test_an_unsupported_device_is_kept_for_validation_to_name() -> None:
    assert device("run it on the TPU") == "tpu"
    assert device("on the GPU, not the TPU") == "cuda"


def test_mentions_are_in_order_of_appearance() -> None:
    names = (("a", re.compile(r"alpha")), ("b", re.compile(r"beta")), ("c", re.compile(r"gamma")))
    assert mentions("gamma then alpha, alpha again", names) == ["c", "a"]


def test_a_sweep_runs_every_combination() -> None:
    call = ToolCall(tool="t", args={"x": 1}, sweep={"method": ["a", "b"], "seed": [0, 1, 2]})
    assert len(call.runs()) == 6 and all(run["x"] == 1 for run in call.runs())
    assert call.stated() == {"x": 1, "method": ["a", "b"], "seed": [0, 1, 2]}
