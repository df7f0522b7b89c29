"""The compression tools' one loader: clear errors for what it cannot load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.common import DataNotFoundError
from tools.compress.loading import load_model


def test_missing_model_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="not found"):
        load_model(str(tmp_path / "no-such-model"))


def test_a_structure_file_without_weights_says_which_tool_writes_it(tmp_path: Path) -> None:
    (tmp_path / "structure.json").write_text('{"blocks": []}')
    with pytest.raises(DataNotFoundError, match="prune_structured"):
        load_model(str(tmp_path))
