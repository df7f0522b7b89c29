"""The CAMO policy: a graph network over the segment adjacency, an autoregressive decoder, OPC-inspired modulation.

CAMO (Liang et al., DAC 2024) chooses every segment's move with two ideas, built here in torch:

* **Spatial correlation.** Neighbouring segments' moves interact through the optics, so (i) a GraphSAGE-style
  network (mean aggregation, residual, Hamilton et al., NeurIPS 2017) mixes each segment's features with its
  neighbours' over the environment's neighbour graph, and (ii) the moves are decoded *segment by segment* in
  outline order by a GRU: segment ``i`` sees the running GRU state and the mean embedding of the moves already
  chosen for its graph neighbours ``j < i``. Training evaluates the joint log-probability of a whole action
  vector in one pass (teacher forcing: the chosen moves are known); acting decodes sequentially.
* **OPC-inspired modulation.** An OPC engineer moves an edge out where the print falls short and in where it
  overshoots, by a fraction of the error (``mbopc``'s ``-0.5 * EPE``). The logits get the log-prior
  ``-softplus(alpha) * w_i * |move - m_i|`` with ``m_i = clip(-0.5 * EPE_i, -k, k)`` and the weight
  ``w_i = |EPE_i| / (|EPE_i| + 2 nm)`` growing with the error; ``alpha`` is learned.

Ablations (same class): ``gnn=False`` drops message passing and the autoregressive context (every segment is
decided alone from its own features), ``modulation=False`` drops the log-prior.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ("PolicyConfig", "CamoPolicy", "RandomMaskedPolicy", "MOD_GAIN", "MOD_SOFT_NM")

MOD_GAIN = 0.5
"""Fraction of the EPE an OPC engineer corrects per round (``MBOPCConfig.gain``)."""
MOD_SOFT_NM = 2.0
"""EPE at which the modulation reaches half its strength. In nm."""


@dataclass(frozen=True)
class PolicyConfig:
    """Shape and switches of the policy network.

    Attributes:
        n_features: node feature width (``camo_env.NODE_FEATURES``).
        move_range_nm: k; the policy has 2k+1 actions per segment.
        hidden: width of the node embeddings and the GRU state.
        move_embedding: width of a chosen move's embedding (the autoregressive context).
        gnn_layers: message-passing rounds.
        gnn: graph network and autoregressive decoding on (off = independent segments).
        modulation: OPC-inspired log-prior on (off = plain logits).
    """

    n_features: int
    move_range_nm: int = 4
    hidden: int = 64
    move_embedding: int = 16
    gnn_layers: int = 2
    gnn: bool = True
    modulation: bool = True

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class CamoPolicy(nn.Module):
    """Actor-critic over padded graph observations (``camo_env`` observation dict as tensors with a batch axis)."""

    def __init__(self, config: PolicyConfig):
        super().__init__()
        self.config = config
        h, k = config.hidden, config.move_range_nm
        self.n_actions = 2 * k + 1
        self.encoder = nn.Sequential(nn.Linear(config.n_features, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.layers = nn.ModuleList(nn.Linear(2 * h, h) for _ in range(config.gnn_layers if config.gnn else 0))
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(len(self.layers)))
        if config.gnn:
            self.move_embed = nn.Embedding(self.n_actions, config.move_embedding)
            self.decoder = nn.GRU(h + config.move_embedding, h, batch_first=True)
            self.head = nn.Sequential(nn.Linear(2 * h, h), nn.ReLU(), nn.Linear(h, self.n_actions))
        else:
            self.head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, self.n_actions))
        self.value = nn.Sequential(nn.Linear(2 * h, h), nn.ReLU(), nn.Linear(h, 1))
        self.alpha = nn.Parameter(torch.tensor(0.5413)) if config.modulation else None  # softplus -> 1.0
        self.register_buffer("moves", torch.arange(-k, k + 1, dtype=torch.float32))

    # --- shared pieces --------------------------------------------------------------------------------------

    def _embed(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, N, H) node embeddings after message passing."""
        h = self.encoder(obs["nodes"])
        if not self.layers:
            return h
        b, n, width = h.shape
        src, dst, weight = self._flat_edges(obs, lambda s, d: torch.ones_like(s, dtype=torch.bool))
        count = torch.zeros(b * n, device=h.device).index_add_(0, dst, weight).clamp(min=1.0)[:, None]
        for layer, norm in zip(self.layers, self.norms):
            flat = h.reshape(b * n, width)
            mean = torch.zeros_like(flat).index_add_(0, dst, flat[src] * weight[:, None]) / count
            h = norm(flat + torch.relu(layer(torch.cat([flat, mean], 1)))).reshape(b, n, width)
        return h

    @staticmethod
    def _flat_edges(obs: dict[str, torch.Tensor], keep) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Edges as flat (batch * N) indices, with a 0/1 weight (padding and ``keep(src, dst)`` false -> 0)."""
        edges, mask = obs["edges"].long(), obs["edge_mask"].float()
        b, n = obs["nodes"].shape[:2]
        offset = (torch.arange(b, device=edges.device) * n)[:, None]
        src, dst = edges[:, 0], edges[:, 1]
        weight = mask * keep(src, dst).float()
        return (src + offset).reshape(-1), (dst + offset).reshape(-1), weight.reshape(-1)

    def _prior(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, N, A) modulation log-prior, or zeros."""
        if self.alpha is None:
            return torch.zeros(1, device=obs["nodes"].device)
        epe = obs["epe"]
        k = float(self.config.move_range_nm)
        centre = (-MOD_GAIN * epe).clamp(-k, k)[..., None]
        weight = (epe.abs() / (epe.abs() + MOD_SOFT_NM))[..., None]
        return -nn.functional.softplus(self.alpha) * weight * (self.moves - centre).abs()

    def _masked(self, logits: torch.Tensor, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return logits.masked_fill(obs["action_mask"] == 0, -1e9)

    def value_of(self, obs: dict[str, torch.Tensor], h: torch.Tensor | None = None) -> torch.Tensor:
        """(B,) state value: mean and max pooling of the node embeddings over real segments."""
        h = self._embed(obs) if h is None else h
        m = obs["node_mask"].float()[..., None]
        mean = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        top = h.masked_fill(m == 0, -1e4).max(1).values
        return self.value(torch.cat([mean, top], 1)).squeeze(-1)

    # --- training: joint log-probability of given actions ------------------------------------------------------

    def evaluate(self, obs: dict[str, torch.Tensor], actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-segment log-probability (B, N) and entropy (B, N) of ``actions`` (B, N), zero on padding, and the
        state value (B,). Each segment's term is conditioned on the moves before it; their sum is the joint."""
        padded = actions.shape[1]
        obs = _trimmed(obs)
        actions = actions[:, : obs["nodes"].shape[1]].long()
        h = self._embed(obs)
        logits = self._masked(self._logits_teacher(obs, h, actions) + self._prior(obs), obs)
        logp_all = torch.log_softmax(logits, -1)
        real = obs["node_mask"].float()
        logp = logp_all.gather(-1, actions[..., None]).squeeze(-1) * real
        entropy = -(logp_all.exp() * logp_all).sum(-1) * real
        return _padded(logp, padded), _padded(entropy, padded), self.value_of(obs, h)

    def _logits_teacher(self, obs: dict[str, torch.Tensor], h: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        if not self.config.gnn:
            return self.head(h)
        b, n, _ = h.shape
        src, dst, weight = self._flat_edges(obs, lambda s, d: s < d)
        emb = self.move_embed(actions).reshape(b * n, -1)
        total = torch.zeros_like(emb).index_add_(0, dst, emb[src] * weight[:, None])
        count = torch.zeros(b * n, device=h.device).index_add_(0, dst, weight).clamp(min=1.0)[:, None]
        context = (total / count).reshape(b, n, -1)
        state, _ = self.decoder(torch.cat([h, context], -1))
        return self.head(torch.cat([h, state], -1))

    # --- acting: sequential decoding ---------------------------------------------------------------------------

    @torch.no_grad()
    def act(self, obs: dict[str, torch.Tensor], deterministic: bool = False, generator: torch.Generator | None = None
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Actions (B, N) int64, their per-segment log-probabilities (B, N) and the state value (B,)."""
        padded = obs["nodes"].shape[1]
        obs = _trimmed(obs)
        h = self._embed(obs)
        prior = self._prior(obs)
        if not self.config.gnn:
            logits = self._masked(self.head(h) + prior, obs)
            actions = self._choose(logits, deterministic, generator)
        else:
            actions = self._decode(obs, h, prior, deterministic, generator)
            logits = self._masked(self._logits_teacher(obs, h, actions) + prior, obs)
        logp_all = torch.log_softmax(logits, -1)
        logp = logp_all.gather(-1, actions[..., None]).squeeze(-1) * obs["node_mask"].float()
        return self._full_width(actions, padded), _padded(logp, padded), self.value_of(obs, h)

    @torch.no_grad()
    def round_moves(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The greedy actions (B, N) int64 of one inference round: :meth:`act` with ``deterministic=True``, without
        the log-probabilities and state value that only training needs."""
        padded = obs["nodes"].shape[1]
        obs = _trimmed(obs)
        h = self._embed(obs)
        prior = self._prior(obs)
        if self.config.gnn:
            actions = self._decode(obs, h, prior, True, None)
        else:
            actions = self._choose(self._masked(self.head(h) + prior, obs), True, None)
        return self._full_width(actions, padded)

    def _full_width(self, actions: torch.Tensor, padded: int) -> torch.Tensor:
        """(B, m) actions of the trimmed observation -> (B, padded), padding "no move", the only legal action there."""
        full = torch.full((actions.shape[0], padded), self.config.move_range_nm, dtype=torch.long, device=actions.device)
        full[:, : actions.shape[1]] = actions
        return full

    def _decode(self, obs, h, prior, deterministic, generator) -> torch.Tensor:
        """Choose the moves segment by segment (the GRU and head of :meth:`_logits_teacher`, one step at a time).

        The parts of the GRU input and of the head's first layer that depend only on the node embedding, and the
        move embeddings' share of the GRU input, are computed for all segments at once; the loop does the rest.
        """
        b, n, width = h.shape
        real = int(obs["node_mask"].sum(1).max())
        edges, emask = obs["edges"].long(), obs["edge_mask"].float()
        earlier = emask * (edges[:, 0] < edges[:, 1]).float()
        # adjacency[b, dst, src] = 1 / (number of earlier neighbours of dst)
        adjacency = torch.zeros(b, n, n, device=h.device)
        rows = torch.arange(b, device=h.device)[:, None].expand_as(edges[:, 0])
        adjacency.index_put_((rows, edges[:, 1], edges[:, 0]), earlier, accumulate=True)
        adjacency = adjacency / adjacency.sum(-1, keepdim=True).clamp(min=1.0)
        gru, first, last = self.decoder, self.head[0], self.head[2]
        w_ih = gru.weight_ih_l0
        node_in = h @ w_ih[:, :width].T + gru.bias_ih_l0  # (B, N, 3H): GRU input from the node embedding
        move_in = self.move_embed.weight @ w_ih[:, width:].T  # (A, 3H): GRU input from a chosen move's embedding
        node_head = h @ first.weight[:, :width].T + first.bias  # (B, N, H)
        state_head = first.weight[:, width:].T
        chosen = torch.zeros(b, n, move_in.shape[1], device=h.device)
        actions = torch.full((b, n), self.config.move_range_nm, dtype=torch.long, device=h.device)
        state = torch.zeros(b, width, device=h.device)
        logit_bias = prior.expand(b, n, self.n_actions) + last.bias if prior.dim() == 3 else last.bias.expand(b, n, -1)
        illegal = obs["action_mask"] == 0
        for i in range(real):
            gi = node_in[:, i] + torch.bmm(adjacency[:, i : i + 1], chosen)[:, 0]
            gh = torch.addmm(gru.bias_hh_l0, state, gru.weight_hh_l0.T)
            r, z, _ = torch.sigmoid(gi + gh).chunk(3, -1)
            cand = torch.tanh(gi[:, 2 * width :] + r * gh[:, 2 * width :])
            state = cand + z * (state - cand)
            logit = torch.relu(node_head[:, i] + state @ state_head) @ last.weight.T + logit_bias[:, i]
            a = self._choose(logit.masked_fill(illegal[:, i], -1e9), deterministic, generator)
            actions[:, i] = a
            chosen[:, i] = move_in[a]
        return actions

    @staticmethod
    def _choose(logits: torch.Tensor, deterministic: bool, generator: torch.Generator | None) -> torch.Tensor:
        if deterministic:
            return logits.argmax(-1)
        probs = torch.softmax(logits, -1)
        flat = probs.reshape(-1, probs.shape[-1])
        return torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:-1])


class RandomMaskedPolicy:
    """The ablation floor: every segment's move drawn uniformly from its legal moves (same ``act`` interface)."""

    def __init__(self, move_range_nm: int, seed: int = 0):
        self.move_range_nm = move_range_nm
        self.generator = torch.Generator().manual_seed(seed)

    def act(self, obs: dict[str, torch.Tensor], deterministic: bool = False, generator: torch.Generator | None = None
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Actions (B, N), their log-probabilities (B, N) under the uniform legal choice, and a zero value."""
        legal = obs["action_mask"].float()
        flat = legal.reshape(-1, legal.shape[-1])
        actions = torch.multinomial(flat, 1, generator=generator or self.generator).reshape(legal.shape[:-1])
        logp = -torch.log(legal.sum(-1)) * obs["node_mask"].float()
        return actions, logp, torch.zeros(legal.shape[0])

    def round_moves(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The actions (B, N) of one inference round (uniform legal moves from the policy's own generator)."""
        return self.act(obs)[0]


def _padded(x: torch.Tensor, n: int) -> torch.Tensor:
    """(B, m) -> (B, n) with zeros after column m."""
    return torch.nn.functional.pad(x, (0, n - x.shape[1]))


def _trimmed(obs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The observation cut to the batch's largest real segment count (padding costs time, never changes a result:
    real segments come first and edges only join real segments)."""
    m = max(int(obs["node_mask"].sum(1).max()), 1)
    return {k: (v[:, :m] if k in ("nodes", "epe", "node_mask", "action_mask") else v) for k, v in obs.items()}
