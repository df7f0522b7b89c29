from __future__ import annotations

import numpy as np
import pytest

from tools.common import InputError, shared_data_dir
from tools.litho.clips import list_clips, load_clip
from tools.litho.layout import write_gds


def test_suites_have_the_staged_clip_counts(litho_data: None) -> None:
    assert list_clips("iccad13") == [f"M1_test{i}" for i in range(1, 11)]
    assert len(list_clips("via")) == 10
    assert len(list_clips("contact")) == 165
    assert "AND2_X4__0_0" in list_clips("contact")


def test_iccad13_clip_is_bbox_centred_like_openilt(litho_data: None) -> None:
    clip = load_clip("M1_test1")
    x0, y0, x1, y1 = clip.layout.bbox()
    assert (x0 + x1) // 2 in (1023, 1024) and (y0 + y1) // 2 in (1023, 1024)
    # OpenILT Design.center: delta = (2048 - extent) // 2 - min; clip 1 spans x 80..768, y 80..860
    assert clip.offset == ((2048 - 688) // 2 - 80, (2048 - 780) // 2 - 80)


def test_via_and_contact_clips_are_offset_by_384(litho_data: None) -> None:
    for name in (list_clips("via")[0], "AND2_X4__0_0"):
        clip = load_clip(name)
        assert clip.offset == (384, 384)
        assert clip.suite in ("via", "contact")


@pytest.mark.parametrize("alias", ["case3", "test3", "M1_TEST3", "M1_test3.glp"])
def test_case_aliases_resolve(litho_data: None, alias: str) -> None:
    assert load_clip(alias).name == "M1_test3"


def test_bad_clip_name_lists_accepted_and_suggests(litho_data: None) -> None:
    with pytest.raises(InputError) as info:
        load_clip("M1_test11")
    message = str(info.value)
    assert message.startswith("clip: 'M1_test11'")
    assert "M1_test1..M1_test10" in message and "did you mean" in message


def test_path_inside_registry_keeps_suite_placement(litho_data: None) -> None:
    path = shared_data_dir("via") / "StdContact" / "AND2_X4__0_0.glp"
    clip = load_clip(str(path))
    assert clip.suite == "contact" and clip.offset == (384, 384)


def test_gds_clip_needs_a_layer_and_is_centred(tmp_path) -> None:
    path = write_gds(tmp_path / "t.gds", np.array([[0, 0, 100, 40]]), layer=11)
    with pytest.raises(InputError, match="layer"):
        load_clip(str(path))
    clip = load_clip(str(path), layer=11)
    assert clip.suite == "custom"
    assert clip.layout.bbox() == (974, 1004, 1074, 1044)


def test_missing_file_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="clip"):
        load_clip(str(tmp_path / "nope.glp"))


def test_scaled_clip_is_the_file_scaled_then_placed(litho_data: None) -> None:
    whole, small = load_clip("M1_test1"), load_clip("M1_test1", scale=0.75)
    assert small.name == "M1_test1@0.75" and small.suite == "iccad13"
    (x0, y0, x1, y1), (a0, b0, a1, b1) = whole.layout.bbox(), small.layout.bbox()
    assert abs((a1 - a0) - 0.75 * (x1 - x0)) <= 1 and abs((b1 - b0) - 0.75 * (y1 - y0)) <= 1
    assert sum(len(p) for p in small.layout.polygons) == sum(len(p) for p in whole.layout.polygons)
