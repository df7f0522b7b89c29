"""opc_list_clips: suite listings in natural order."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tools.opc.clips_tool import OPCListClipsArgs, run_opc_list_clips


def test_iccad13_lists_ten_clips_in_natural_order(opc_data: None) -> None:
    result = run_opc_list_clips(OPCListClipsArgs())
    assert result.count == 10 and result.clips[0] == "M1_test1" and result.clips[-1] == "M1_test10"


def test_via_suite_has_ten_via1_clips(opc_data: None) -> None:
    result = run_opc_list_clips(OPCListClipsArgs(suite="via"))
    assert result.count == 10 and all(name.startswith("aes_via1__") for name in result.clips)


def test_unknown_suite_is_rejected() -> None:
    with pytest.raises(ValidationError, match="iccad13"):
        OPCListClipsArgs(suite="metal2")
