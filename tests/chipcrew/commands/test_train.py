"""``chipcrew train camo``: the command is mounted, lists its options and refuses bad input naming the field."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from chipcrew.commands.train import app

runner = CliRunner()


def test_help_lists_the_options() -> None:
    result = runner.invoke(app, ["camo", "--help"])
    assert result.exit_code == 0
    for word in ("--layer", "via", "metal", "--seed", "--steps", "--out", "--no-gnn", "--no-modulation", "--scales", "--resume"):
        assert word in result.output


def test_unknown_layer_is_rejected_with_the_choices(tmp_path: Path) -> None:
    from chipcrew.cli import app as main

    result = runner.invoke(main, ["train", "camo", "--layer", "poly", "--out", str(tmp_path)])
    assert result.exit_code == 2 and not any(tmp_path.iterdir())
    assert result.stderr.strip() == "error: --layer: 'poly' is not accepted (accepted: metal, via)"


def test_train_is_mounted_on_the_main_cli() -> None:
    from chipcrew.cli import app as main

    result = CliRunner().invoke(main, ["train", "--help"])
    assert result.exit_code == 0 and "camo" in result.output


def test_bad_scales_are_refused_naming_the_option(tmp_path: Path) -> None:
    from chipcrew.cli import app as main

    for bad in ("1,x", "1,0.2"):
        out = tmp_path / bad.replace(",", "_")
        result = runner.invoke(main, ["train", "camo", "--layer", "metal", "--scales", bad, "--out", str(out)])
        assert result.exit_code != 0 and "scales" in result.stderr
        assert not out.exists() or not any(out.iterdir())
