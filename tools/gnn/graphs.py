"""Graphs for GNN training-configuration exploration: a real-feature graph, small real graphs, synthetic ones.

GNNavigator (Qiu et al., DAC 2024, arXiv 2404.09544) profiles GNN training on real datasets; none of its
code or data pipeline is public, so the graphs here are ours:

- ``digits``: a k-nearest-neighbour graph over scikit-learn's bundled handwritten digits (1,797 images of
  8x8 pixels, 10 classes, offline), features = standardised pixels; kNN graphs over image features are the
  usual way to give a non-graph dataset a graph (e.g. Franceschi et al., ICML 2019, LDS baselines);
- ``karate``: Zachary's karate club from networkx (34 members, label = the club each joined);
- ``sbm`` / ``powerlaw``: synthetic homophilous graphs with class-dependent Gaussian features, from 10^3 to
  10^6 nodes, for runtime and memory modelling at scale. ``sbm`` is a planted-partition stochastic block model
  (Holland, Laskey & Leinhardt 1983) with uniform degrees; ``powerlaw`` draws endpoints in proportion to
  Chung-Lu weights ``w_i ~ i^(-1/(gamma-1))`` (Chung & Lu, Annals of Combinatorics 2002), gamma = 2.5, so
  degrees follow a power law with hubs, as in social and product graphs;
- a folder of the user's own ``edges`` (.txt/.csv with two integer columns, or .npy of shape (2, E) or
  (E, 2)), ``features.npy`` (N, F) and ``labels.npy`` (N,).

Every graph is stored once as undirected CSR (``indptr``, ``indices``) without self loops or duplicate edges;
node splits are stratified by class and fixed by the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from tools.common import InputError

__all__ = (
    "GraphData",
    "BUILTIN_GRAPHS",
    "load_graph",
    "from_edges",
    "digits_graph",
    "karate_graph",
    "synthetic_graph",
    "graph_from_folder",
)

BUILTIN_GRAPHS = ("digits", "karate", "sbm", "powerlaw")
POWERLAW_GAMMA = 2.5
"""Degree exponent of the Chung-Lu graphs; 2 < gamma < 3 is the range measured on most real networks
(Barabasi & Albert, Science 1999)."""


@dataclass(frozen=True)
class GraphData:
    """An undirected node-classification graph in CSR form.

    Attributes:
        name: label used in reports, e.g. ``"sbm-100000"``.
        indptr: (N + 1,) int64 row pointers; the neighbours of ``v`` are ``indices[indptr[v]:indptr[v + 1]]``.
        indices: (E,) int64 neighbour ids; each undirected edge appears twice.
        x: (N, F) float32 node features (host memory).
        y: (N,) int64 labels in ``0 .. num_classes - 1``.
        train_idx, val_idx, test_idx: disjoint node ids of the three splits.
    """

    name: str
    indptr: Tensor
    indices: Tensor
    x: Tensor
    y: Tensor
    train_idx: Tensor
    val_idx: Tensor
    test_idx: Tensor

    @property
    def num_nodes(self) -> int:
        return int(self.indptr.numel() - 1)

    @property
    def num_edges(self) -> int:
        """Directed edge count (twice the undirected count)."""
        return int(self.indices.numel())

    @property
    def feat_dim(self) -> int:
        return int(self.x.shape[1])

    @property
    def num_classes(self) -> int:
        return int(self.y.max()) + 1

    @property
    def degree(self) -> Tensor:
        """(N,) int64 degrees."""
        return self.indptr[1:] - self.indptr[:-1]

    def summary(self) -> dict[str, object]:
        """Sizes for reports."""
        return {
            "name": self.name,
            "nodes": self.num_nodes,
            "edges": self.num_edges // 2,
            "features": self.feat_dim,
            "classes": self.num_classes,
            "train": int(self.train_idx.numel()),
            "val": int(self.val_idx.numel()),
            "test": int(self.test_idx.numel()),
            "max_degree": int(self.degree.max()),
        }


def load_graph(name: str, num_nodes: int | None = None, seed: int = 0) -> GraphData:
    """A graph by name (``digits``, ``karate``, ``sbm``, ``powerlaw``) or a folder of the user's files.

    Args:
        name: a built-in name or the path of a folder holding ``edges.*``, ``features.npy``, ``labels.npy``.
        num_nodes: size of a synthetic graph (``sbm``/``powerlaw``); ignored otherwise.
        seed: fixes synthetic generation and the node splits.
    """
    if name == "digits":
        return digits_graph(seed=seed)
    if name == "karate":
        return karate_graph(seed=seed)
    if name in ("sbm", "powerlaw"):
        return synthetic_graph(name, num_nodes or 10_000, seed=seed)
    path = Path(name).expanduser()
    if path.is_dir():
        return graph_from_folder(path, seed=seed)
    raise InputError("graph", name, f"one of {', '.join(BUILTIN_GRAPHS)}, or a folder with edges + features.npy")


def from_edges(name: str, src: Tensor, dst: Tensor, x: Tensor, y: Tensor, seed: int = 0,
               split: tuple[float, float, float] = (0.6, 0.2, 0.2), max_eval: int | None = None) -> GraphData:
    """Symmetrise an edge list, drop self loops and duplicates, build CSR and stratified splits.

    Args:
        src, dst: (E,) int64 endpoints, in ``0 .. N - 1`` with N = ``x.shape[0]``.
        split: train, validation and test fractions of each class (nodes left over are in no split).
        max_eval: cap on the validation and test sizes (evaluation cost stays bounded on big graphs).
    """
    n = int(x.shape[0])
    if y.shape != (n,):
        raise InputError("labels", tuple(y.shape), f"one label per node, shape ({n},)")
    if src.numel() and (int(torch.minimum(src, dst).min()) < 0 or int(torch.maximum(src, dst).max()) >= n):
        raise InputError("edges", "node id out of range", f"ids in 0..{n - 1} (one row of features per node)")
    keep = src != dst
    a = torch.cat([src[keep], dst[keep]])
    b = torch.cat([dst[keep], src[keep]])
    key = torch.unique(a * n + b)  # sorted by (row, column): that is CSR order
    rows, cols = key // n, key % n
    indptr = torch.zeros(n + 1, dtype=torch.long)
    indptr[1:] = torch.cumsum(torch.bincount(rows, minlength=n), 0)
    train, val, test = _stratified_split(y, split, seed)
    if max_eval is not None:
        val, test = val[:max_eval], test[:max_eval]  # the splits are random, so a prefix is a random subset
    return GraphData(name, indptr, cols.contiguous(), x.float().contiguous(), y.long(), train, val, test)


def _stratified_split(y: Tensor, split: tuple[float, float, float], seed: int) -> tuple[Tensor, Tensor, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    parts: tuple[list[Tensor], list[Tensor], list[Tensor]] = ([], [], [])
    for c in torch.unique(y):
        ids = torch.nonzero(y == c).flatten()
        ids = ids[torch.randperm(ids.numel(), generator=gen)]
        n_train = max(1, round(split[0] * ids.numel()))
        n_val = max(1, round(split[1] * ids.numel()))
        rest = ids.numel() - n_train - n_val
        n_test = rest if sum(split) >= 0.999 else max(1, min(rest, round(split[2] * ids.numel())))
        bounds = (0, n_train, n_train + n_val, n_train + n_val + n_test)
        for part, lo, hi in zip(parts, bounds[:-1], bounds[1:]):
            part.append(ids[lo:hi])
    gen_order = torch.Generator().manual_seed(seed + 1)
    train, val, test = (torch.cat(p)[torch.randperm(sum(t.numel() for t in p), generator=gen_order)] for p in parts)
    return torch.sort(train).values, val, test


def digits_graph(k: int = 10, seed: int = 0) -> GraphData:
    """kNN graph (k = 10, Euclidean on standardised pixels) over scikit-learn's 1,797 digits; 60/20/20 split."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.data, dtype=torch.float32)
    x = (x - x.mean(0)) / x.std(0).clamp_min(1e-6)  # (1797, 64); constant border pixels stay 0
    dist = torch.cdist(x, x)
    dist.fill_diagonal_(float("inf"))
    nbrs = dist.topk(k, largest=False).indices  # (N, k)
    src = torch.arange(x.shape[0]).repeat_interleave(k)
    return from_edges("digits", src, nbrs.flatten(), x, torch.tensor(data.target), seed=seed)


def karate_graph(seed: int = 0) -> GraphData:
    """Zachary's karate club (networkx): 34 nodes, 78 edges, label = club; one-hot identity features."""
    import networkx as nx

    g = nx.karate_club_graph()
    edges = torch.tensor(list(g.edges()), dtype=torch.long)
    y = torch.tensor([0 if g.nodes[v]["club"] == "Mr. Hi" else 1 for v in g.nodes()])
    return from_edges("karate", edges[:, 0], edges[:, 1], torch.eye(g.number_of_nodes()), y, seed=seed,
                      split=(0.5, 0.25, 0.25))


def synthetic_graph(kind: str, num_nodes: int, num_classes: int = 10, avg_degree: float = 10.0,
                    feat_dim: int = 64, homophily: float = 0.5, signal: float = 0.2, seed: int = 0) -> GraphData:
    """A homophilous graph with class-dependent features (``kind`` = ``sbm`` or ``powerlaw``).

    Each of the ``N * avg_degree / 2`` undirected edges starts at a node drawn uniformly (sbm) or in
    proportion to its Chung-Lu weight (powerlaw); with probability ``homophily`` it ends in the same class,
    otherwise anywhere, drawn the same way. Features are ``signal * mu_class + N(0, I)`` with class centres
    ``mu ~ N(0, I)``: weak alone, so that aggregating neighbours pays off. Split: 2 % train, 2 % val, 2 % test
    (Open Graph Benchmark's ogbn-papers100M trains on about 1 %, ogbn-products on 8 %), validation and test
    capped at 2,000 nodes each.
    """
    if kind not in ("sbm", "powerlaw"):
        raise InputError("graph", kind, ["sbm", "powerlaw"])
    if not 100 <= num_nodes <= 2_000_000:
        raise InputError("num_nodes", num_nodes, "an integer from 100 to 2,000,000")
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(num_nodes) % num_classes
    y = y[torch.randperm(num_nodes, generator=gen)]
    if kind == "sbm":
        weight = torch.ones(num_nodes, dtype=torch.float64)
    else:
        rank = torch.randperm(num_nodes, generator=gen).double() + 1.0
        weight = rank.pow(-1.0 / (POWERLAW_GAMMA - 1.0))
    m = int(num_nodes * avg_degree / 2)
    src = _draw_weighted(weight, m, gen)
    same = torch.rand(m, generator=gen) < homophily
    dst = _draw_weighted(weight, m, gen)
    dst[same] = _draw_in_class(weight, y, y[src[same]], num_classes, gen)
    centres = torch.randn(num_classes, feat_dim, generator=gen)
    x = signal * centres[y] + torch.randn(num_nodes, feat_dim, generator=gen)
    return from_edges(f"{kind}-{num_nodes}", src, dst, x, y, seed=seed, split=(0.02, 0.02, 0.02), max_eval=2_000)


def _draw_weighted(weight: Tensor, count: int, gen: torch.Generator) -> Tensor:
    """``count`` node ids drawn with replacement, P(v) proportional to ``weight[v]`` (inverse CDF)."""
    cdf = torch.cumsum(weight, 0)
    r = torch.rand(count, generator=gen, dtype=torch.float64) * cdf[-1]
    return torch.searchsorted(cdf, r).clamp_max(weight.numel() - 1)


def _draw_in_class(weight: Tensor, y: Tensor, cls: Tensor, num_classes: int, gen: torch.Generator) -> Tensor:
    """For each requested class in ``cls``, one node of that class drawn in proportion to its weight."""
    order = torch.argsort(y, stable=True)  # nodes grouped by class
    cdf = torch.cat([torch.zeros(1, dtype=weight.dtype), torch.cumsum(weight[order], 0)])  # (N + 1,)
    end = torch.cumsum(torch.bincount(y, minlength=num_classes), 0)
    start = end - torch.bincount(y, minlength=num_classes)
    lo, hi = cdf[start][cls], cdf[end][cls]
    r = lo + torch.rand(cls.numel(), generator=gen, dtype=torch.float64) * (hi - lo)
    pos = torch.searchsorted(cdf, r, right=True) - 1  # cdf[pos] <= r < cdf[pos + 1]
    return order[torch.minimum(torch.maximum(pos, start[cls]), end[cls] - 1)]


def graph_from_folder(folder: Path, seed: int = 0) -> GraphData:
    """A user graph: ``edges.npy|.txt|.csv`` (pairs of node ids), ``features.npy`` (N, F), ``labels.npy`` (N,)."""
    edges_file = next((folder / f"edges{ext}" for ext in (".npy", ".txt", ".csv") if (folder / f"edges{ext}").exists()),
                      None)
    needed = (("edges", edges_file), ("features", folder / "features.npy"), ("labels", folder / "labels.npy"))
    for label, path in needed:
        if path is None or not path.exists():
            raise InputError(label, str(folder), f"a file {label}{'.npy|.txt|.csv' if label == 'edges' else '.npy'} "
                             f"in {folder}")
    assert edges_file is not None
    if edges_file.suffix == ".npy":
        pairs = np.load(edges_file)
    else:
        pairs = np.loadtxt(edges_file, delimiter="," if edges_file.suffix == ".csv" else None, dtype=np.int64, ndmin=2)
    pairs = np.asarray(pairs, dtype=np.int64)
    if pairs.ndim != 2 or 2 not in pairs.shape:
        raise InputError("edges", f"array of shape {pairs.shape}", "shape (E, 2) or (2, E)")
    if pairs.shape[1] != 2:
        pairs = pairs.T
    x = torch.from_numpy(np.load(folder / "features.npy")).float()
    y = torch.from_numpy(np.load(folder / "labels.npy")).long()
    edges = torch.from_numpy(np.ascontiguousarray(pairs))
    return from_edges(folder.name, edges[:, 0], edges[:, 1], x, y, seed=seed)
