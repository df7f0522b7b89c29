"""GraphSAGE and GCN layers against dense references, and the FLOP counts."""

from __future__ import annotations

import pytest
import torch

from tools.gnn.graphs import karate_graph
from tools.gnn.nets import GNN, batch_flops, block_adjacency, layer_dims
from tools.gnn.sampling import Block, FullBatchSampler



def _full_block() -> tuple[Block, torch.Tensor]:
    g = karate_graph()
    block = next(FullBatchSampler(g, 1, torch.ones(34, dtype=torch.bool)).epoch()).blocks[0]
    dense = torch.zeros(34, 34, dtype=torch.float64)
    rows = torch.repeat_interleave(torch.arange(34), g.degree)
    dense[rows, g.indices] = 1.0
    return block, dense


def test_sage_adjacency_is_the_neighbour_mean() -> None:
    block, a = _full_block()
    mean = a / a.sum(1, keepdim=True)
    assert torch.allclose(block_adjacency(block, "sage").to_dense().double(), mean, atol=1e-7)


def test_gcn_adjacency_is_kipf_and_wellings_renormalised_matrix() -> None:
    block, a = _full_block()
    a_hat = a + torch.eye(34, dtype=torch.float64)
    d = a_hat.sum(1).rsqrt()
    assert torch.allclose(block_adjacency(block, "gcn").to_dense().double(), d[:, None] * a_hat * d[None, :],
                          atol=1e-7)


def test_sage_layer_matches_the_dense_formula_and_backpropagates() -> None:
    block, a = _full_block()
    torch.manual_seed(0)
    net = GNN("sage", 34, 8, 2, 1)
    x = torch.randn(34, 34)
    out = net([block_adjacency(block, "sage")], [34], x)
    mean = (a / a.sum(1, keepdim=True)).float()
    want = net.lin[0](mean @ x) + net.lin_self[0](x)
    assert torch.allclose(out, want, atol=1e-5)
    out.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_layer_dims_chain_input_hidden_and_classes() -> None:
    assert layer_dims(64, 256, 10, 3) == [(64, 256), (256, 256), (256, 10)]
    assert layer_dims(64, 256, 10, 1) == [(64, 10)]


@pytest.mark.parametrize("kind,mats,loops", [("sage", 2, 0), ("gcn", 1, 1)])
def test_batch_flops_follow_the_closed_form(kind: str, mats: int, loops: int) -> None:
    dims = [(64, 32), (32, 10)]
    f = batch_flops(kind, dims, n_dst=[100, 20], edges=[500, 80])
    # input layer: forward + weight gradient (2 passes); later layers add the input gradient (3 passes)
    assert f["dense"] == 2 * mats * 2 * 100 * 64 * 32 + 3 * mats * 2 * 20 * 32 * 10
    assert f["sparse"] == 1 * 2 * (500 + loops * 100) * 64 + 2 * 2 * (80 + loops * 20) * 32
    assert f["elementwise"] == 100 * 32 + 20 * 10
