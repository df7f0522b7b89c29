"""Graph builders: CSR invariants, the real graphs' known sizes, synthetic structure, user folders, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tools.common import InputError
from tools.gnn.graphs import GraphData, digits_graph, from_edges, karate_graph, load_graph, synthetic_graph


def _assert_csr(g: GraphData) -> None:
    n = g.num_nodes
    assert g.indptr[0] == 0 and g.indptr[-1] == g.num_edges
    assert bool((g.indptr[1:] >= g.indptr[:-1]).all())
    rows = torch.repeat_interleave(torch.arange(n), g.degree)
    assert not bool((rows == g.indices).any()), "self loop"
    key = rows * n + g.indices
    assert torch.equal(key, torch.unique(key)), "duplicate or unsorted edge"
    assert torch.equal(torch.sort(g.indices * n + rows).values, key), "not symmetric"
    splits = torch.cat([g.train_idx, g.val_idx, g.test_idx])
    assert splits.numel() == torch.unique(splits).numel(), "splits overlap"


def test_from_edges_symmetrises_and_drops_loops_and_duplicates() -> None:
    src = torch.tensor([0, 1, 1, 2, 3])
    dst = torch.tensor([1, 0, 1, 3, 2])  # 0-1 twice (both directions), a loop at 1, 2-3 twice
    g = from_edges("t", src, dst, torch.zeros(4, 2), torch.tensor([0, 0, 1, 1]), split=(0.5, 0.0, 0.5))
    _assert_csr(g)
    assert g.num_edges == 4 and g.degree.tolist() == [1, 1, 1, 1]
    assert g.indices.tolist() == [1, 0, 3, 2]


def test_karate_club_is_zacharys_graph() -> None:
    g = karate_graph()
    _assert_csr(g)
    assert (g.num_nodes, g.num_edges // 2, g.num_classes, g.feat_dim) == (34, 78, 2, 34)
    assert int(g.degree.max()) == 17  # the instructor, node 33


def test_digits_graph_is_a_homophilous_knn_graph() -> None:
    g = digits_graph(k=10)
    _assert_csr(g)
    assert (g.num_nodes, g.feat_dim, g.num_classes) == (1797, 64, 10)
    assert int(g.degree.min()) >= 10  # every node keeps its own 10 nearest neighbours
    assert g.train_idx.numel() + g.val_idx.numel() + g.test_idx.numel() == 1797
    rows = torch.repeat_interleave(torch.arange(g.num_nodes), g.degree)
    assert float((g.y[rows] == g.y[g.indices]).float().mean()) > 0.9


@pytest.mark.parametrize("kind", ["sbm", "powerlaw"])
def test_synthetic_graphs_have_the_asked_size_homophily_and_degree_shape(kind: str) -> None:
    g = synthetic_graph(kind, 5_000, avg_degree=10.0, homophily=0.5, seed=1)
    _assert_csr(g)
    assert g.num_nodes == 5_000 and g.num_classes == 10
    assert 8.5 < g.num_edges / g.num_nodes < 10.5  # a few duplicates and loops are dropped
    rows = torch.repeat_interleave(torch.arange(g.num_nodes), g.degree)
    same = float((g.y[rows] == g.y[g.indices]).float().mean())
    assert 0.5 < same < 0.6  # 0.5 planted + 0.05 chance from the other half
    if kind == "powerlaw":
        assert int(g.degree.max()) > 20 * float(g.degree.double().median())  # hubs
    else:
        assert int(g.degree.max()) < 4 * float(g.degree.double().mean())


def test_synthetic_graphs_are_deterministic_for_a_seed() -> None:
    a, b = synthetic_graph("powerlaw", 1_000, seed=3), synthetic_graph("powerlaw", 1_000, seed=3)
    assert torch.equal(a.indices, b.indices) and torch.equal(a.x, b.x) and torch.equal(a.train_idx, b.train_idx)
    assert not torch.equal(a.indices, synthetic_graph("powerlaw", 1_000, seed=4).indices)


def test_user_folder_loads_edges_features_and_labels(tmp_path: Path) -> None:
    np.savetxt(tmp_path / "edges.csv", np.array([[0, 1], [1, 2], [2, 3], [3, 0]]), delimiter=",", fmt="%d")
    np.save(tmp_path / "features.npy", np.eye(4, dtype=np.float32))
    np.save(tmp_path / "labels.npy", np.array([0, 1, 0, 1]))
    g = load_graph(str(tmp_path))
    _assert_csr(g)
    assert g.name == tmp_path.name and g.num_edges == 8 and g.degree.tolist() == [2, 2, 2, 2]


def test_user_folder_without_features_names_the_missing_file(tmp_path: Path) -> None:
    np.save(tmp_path / "edges.npy", np.array([[0, 1]]))
    with pytest.raises(InputError, match="features"):
        load_graph(str(tmp_path))


@pytest.mark.parametrize(
    "call,field",
    [
        (lambda: load_graph("cora"), "graph"),
        (lambda: synthetic_graph("sbm", 10), "num_nodes"),
        (lambda: from_edges("t", torch.tensor([0]), torch.tensor([5]), torch.zeros(3, 1), torch.zeros(3)), "edges"),
        (lambda: from_edges("t", torch.tensor([0]), torch.tensor([1]), torch.zeros(3, 1), torch.zeros(2)), "labels"),
    ],
)
def test_bad_graph_inputs_name_the_field(call, field: str) -> None:
    with pytest.raises(InputError, match=field):
        call()
