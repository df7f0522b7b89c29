"""GraphSAGE and GCN over sampled blocks, with the FLOP counts the performance model uses.

- GraphSAGE, mean aggregator (Hamilton et al., NeurIPS 2017, Algorithm 1 with the "GraphSAGE-mean" variant
  written as separate self and neighbour weights, as PyG's ``SAGEConv`` and DGL's ``SAGEConv`` do):
  ``h_i' = W_self h_i + W_nbr mean_{j in N(i)} h_j + b``;
- GCN (Kipf & Welling, ICLR 2017, eq. 2, renormalisation trick): ``h_i' = W sum_{j in N(i) + i} h_j /
  sqrt(d_i d_j) + b`` with degrees counted in the block including the self loop (DGL ``GraphConv``,
  ``norm='both'``, on blocks).

Aggregation is a sparse CSR matrix times the dense source features, so memory grows with edges, not with
edges x width.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tools.gnn.sampling import Block, csr_adjacency

__all__ = ("GNN", "block_adjacency", "layer_dims", "batch_flops", "DROPOUT")

DROPOUT = 0.2
"""Dropout between layers; GraphSAGE's reference setting is 0 to 0.5 by dataset, 0.2 trains fast here."""


def layer_dims(in_dim: int, hidden: int, out_dim: int, layers: int) -> list[tuple[int, int]]:
    """(in, out) width of every layer."""
    widths = [in_dim] + [hidden] * (layers - 1) + [out_dim]
    return list(zip(widths[:-1], widths[1:]))


def block_adjacency(block: Block, kind: str) -> Tensor:
    """The block's normalised (n_dst, n_src) aggregation matrix: mean (``sage``) or symmetric with self loops
    (``gcn``)."""
    if kind == "sage":
        deg = torch.bincount(block.edge_dst, minlength=block.n_dst).clamp_min(1).float()
        return csr_adjacency(block, 1.0 / deg[block.edge_dst])
    loops = torch.arange(block.n_dst)
    dst = torch.cat([block.edge_dst, loops])
    src = torch.cat([block.edge_src, loops])
    order = torch.argsort(dst, stable=True)
    dst, src = dst[order], src[order]
    deg_dst = torch.bincount(dst, minlength=block.n_dst).float()
    deg_src = torch.bincount(src, minlength=block.n_src).float()
    norm = (deg_dst[dst] * deg_src[src]).rsqrt()
    return csr_adjacency(Block(block.src_nodes, block.n_dst, dst, src), norm)


class GNN(nn.Module):
    """``layers`` GraphSAGE or GCN layers, ReLU and dropout between them, logits out."""

    def __init__(self, kind: str, in_dim: int, hidden: int, out_dim: int, layers: int):
        super().__init__()
        self.kind = kind
        dims = layer_dims(in_dim, hidden, out_dim, layers)
        self.lin = nn.ModuleList(nn.Linear(a, b) for a, b in dims)
        self.lin_self = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in dims) if kind == "sage" else None
        self.dropout = nn.Dropout(DROPOUT)

    def forward(self, adjs: list[Tensor], n_dst: list[int], x: Tensor) -> Tensor:
        """Logits of the last block's destination nodes.

        Args:
            adjs: per layer, the (n_dst, n_src) matrix from :func:`block_adjacency`, input layer first.
            n_dst: per layer, the number of destination nodes (a prefix of that layer's sources).
            x: (n_src of the first block, in_dim) input features.
        """
        h = x
        for i, (adj, n) in enumerate(zip(adjs, n_dst)):
            agg = adj @ h  # (n_dst, d_in)
            out = self.lin[i](agg)
            if self.lin_self is not None:
                out = out + self.lin_self[i](h[:n])
            h = out if i == len(adjs) - 1 else self.dropout(torch.relu(out))
        return h


def batch_flops(kind: str, dims: list[tuple[int, int]], n_dst: list[int], edges: list[int]) -> dict[str, float]:
    """FLOPs of one training step (forward + backward), split by kind of work.

    ``dense``: 2 n_dst d_in d_out per weight matrix (two in GraphSAGE), times 3 for forward, input gradient and
    weight gradient (Kaplan et al. 2020's 6N rule per token), except the input layer, which needs no input
    gradient (times 2). ``sparse``: 2 e d_in per aggregation forward, again in backward except in the first layer.
    ``elementwise``: n_dst d_out per layer (bias, ReLU, dropout). GCN's self loops add n_dst edges per layer.
    """
    mats = 2 if kind == "sage" else 1
    dense = sparse = elementwise = 0.0
    for i, ((d_in, d_out), n, e) in enumerate(zip(dims, n_dst, edges)):
        e = e + n if kind == "gcn" else e
        passes = 2 if i == 0 else 3
        dense += passes * mats * 2.0 * n * d_in * d_out
        sparse += (1 if i == 0 else 2) * 2.0 * e * d_in
        elementwise += float(n * d_out)
    return {"dense": dense, "sparse": sparse, "elementwise": elementwise}
