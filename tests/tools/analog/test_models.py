"""Model cards: the gf180mcu 3.3 V extraction and user-supplied files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.analog.models import gf180_library, user_library
from tools.common import InputError


def test_gf180_cards_are_extracted_once_with_their_noise_parameters(tmp_path: Path, analog_data: None) -> None:
    lib = gf180_library(tmp_path)
    text = lib.path.read_text()
    models = [ln.split()[1] for ln in text.splitlines() if ln.startswith(".model")]
    assert len(models) == 32 and "nmos_3p3.0" in models and "pmos_3p3.15" in models  # 16 bins each
    assert "nmos_3p3_noia" in text and "subckt" not in text.lower()  # no Monte-Carlo wrappers
    stamp = lib.path.stat().st_mtime_ns
    assert gf180_library(tmp_path).path.stat().st_mtime_ns == stamp  # cached, not rewritten
    assert (lib.nmos, lib.pmos) == ("nmos_3p3", "pmos_3p3")


def test_user_model_file_must_define_both_models(tmp_path: Path) -> None:
    file = tmp_path / "m.lib"
    file.write_text(".model myn nmos level=54\n.subckt myp d g s b\n.ends\n")
    lib = user_library(file, "myn", "myp")
    assert lib.path == file.resolve()
    with pytest.raises(InputError, match="pmos_model: 'pfet'"):
        user_library(file, "myn", "pfet")
    with pytest.raises(InputError, match="model_file"):
        user_library(tmp_path / "missing.lib", "myn", "myp")
