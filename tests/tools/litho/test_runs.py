from __future__ import annotations

import numpy as np

from tools.litho._runs import label_runs, row_runs


def test_row_runs_are_maximal_and_end_exclusive() -> None:
    img = np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    rows, starts, ends = row_runs(img)
    assert list(zip(rows, starts, ends)) == [(0, 0, 2), (0, 3, 4), (2, 0, 4)]


def test_components_are_four_connected_with_areas() -> None:
    img = np.zeros((8, 8), dtype=bool)
    img[0:3, 0:2] = True  # component 0, area 6
    img[3, 2] = True  # touches component 0 only diagonally -> its own component, area 1
    img[5:8, 4:8] = True  # U: joined through the bottom row
    img[5:7, 6] = False
    _, starts, ends, label = label_runs(img)
    assert label.max() + 1 == 3
    assert np.bincount(label, weights=ends - starts).tolist() == [6, 1, 10]


def test_components_join_across_a_concave_merge() -> None:
    img = np.zeros((6, 9), dtype=bool)
    img[0:4, 0:2] = img[0:4, 6:8] = True  # two legs ...
    img[4, 0:8] = True  # ... joined at the bottom: one component even though rows 0-3 see two runs
    assert label_runs(img)[3].tolist() == [0] * 9
