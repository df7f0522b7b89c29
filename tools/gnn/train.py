"""Real mini-batch GNN training of one configuration, measured: epoch time by phase, peak memory, accuracy.

This is the backend GNNavigator (Qiu et al., DAC 2024) profiles. One run:

1. builds the sampler (``tools.gnn.sampling``) and ranks nodes for the feature cache (``tools.gnn.cache``);
2. inside a memory window, puts the cache on the device, builds the GNN and Adam, and runs the first
   ``PROBE_STEPS`` training steps: the peak is the largest amount of live tensor memory above the window's
   start, so it counts parameters, gradients, optimiser state, cache, batch features and activations, and not
   the host-resident graph. On CUDA that is ``torch.cuda.max_memory_allocated``; on the CPU, where the
   allocator keeps no statistics, it is the running sum of the allocation and free events of the torch
   profiler (``profile_memory=True``), the same quantity (RSS would add the interpreter and allocator
   caching, and tracemalloc does not see torch's allocator);
3. trains for ``epochs`` (the first is warm-up), timing each later epoch's wall time and, per batch, the
   sampling (sampler + adjacency), feature movement (cache/host gather, device copy) and compute
   (forward, backward, Adam) phases; with ``overlap`` a worker thread prepares batch ``i + 1`` while batch
   ``i`` computes;
4. evaluates validation and test accuracy by exact full-neighbourhood inference (the same for every
   configuration, as GraphSAGE's and DGL's offline inference).

Adam with learning rate 0.01 (Kingma & Ba 2015; the rate of Kipf & Welling's GCN) and cross-entropy on the
training nodes of each batch.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from tools.common import InputError
from tools.gnn.cache import FeatureStore, cache_order
from tools.gnn.config import GNNConfig
from tools.gnn.graphs import GraphData
from tools.gnn.nets import GNN, block_adjacency
from tools.gnn.runs import PROBE_STEPS, ProfileRecord, TrainSettings
from tools.gnn.sampling import Batch, ClusterSampler, FullBatchSampler, NeighborSampler, Sampler

__all__ = (
    "train_and_measure",
    "make_sampler",
    "resolve_device",
    "default_epochs",
    "MIB",
    "LEARNING_RATE",
)

LEARNING_RATE = 0.01
MIN_TIMED_STEPS = 3
"""A run cut by ``max_seconds`` still times at least this many steps after warm-up."""
EVAL_BATCH = 4096
MIB = 2.0**20
_CLOCKS: dict[str, tuple[Callable[[], float], Callable[[], float]]] = {
    "wall": (time.perf_counter, time.perf_counter),
    "cpu": (time.thread_time, time.process_time),  # (phase clock, epoch clock)
}


def default_epochs(graph: GraphData) -> int:
    """Epochs when the settings name none: small graphs train longer (they are cheap and need more steps)."""
    if graph.num_nodes < 100:
        return 30
    return 20 if graph.num_nodes < 10_000 else 10


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available; ``cuda`` without a GPU is an input error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("device", name, "'cpu' or 'auto' (no CUDA device is visible)")
    return torch.device(name)


def make_sampler(graph: GraphData, cfg: GNNConfig, gen: torch.Generator) -> Sampler:
    """The sampler a configuration names, drawing from ``gen``."""
    if cfg.sampler == "neighbor":
        assert cfg.fanouts is not None
        return NeighborSampler(graph, list(cfg.fanouts), cfg.batch_size, graph.train_idx, gen)
    mask = torch.zeros(graph.num_nodes, dtype=torch.bool)
    mask[graph.train_idx] = True
    if cfg.sampler == "cluster":
        return ClusterSampler(graph, cfg.layers, cfg.batch_size, mask, gen)
    return FullBatchSampler(graph, cfg.layers, mask)


@dataclass
class _Prepared:
    """A batch ready to compute: device tensors plus what preparing it cost."""

    adjs: list[Tensor]
    n_dst: list[int]
    x: Tensor
    y: Tensor
    train_pos: Tensor
    rows: int
    hits: int
    sample_s: float
    move_s: float


def _preparer(graph: GraphData, cfg: GNNConfig, store: FeatureStore, device: torch.device,
              clock: Callable[[], float]) -> Callable[[Iterator[Batch]], _Prepared | None]:
    """``prepare(batches)``: draw the next batch (sampling) and move its inputs (gather + copy), timed by
    ``clock``."""
    full_adjs: list[Tensor] = []  # full-batch adjacency is built once and reused every epoch

    def prepare(batches: Iterator[Batch]) -> _Prepared | None:
        t0 = clock()
        batch = next(batches, None)
        if batch is None:
            return None
        if cfg.sampler == "full" and full_adjs:
            adjs = full_adjs
        else:
            memo: dict[int, Tensor] = {}  # cluster batches repeat one block per layer
            adjs = [memo.setdefault(id(b), block_adjacency(b, cfg.model).to(device)) for b in batch.blocks]
            if cfg.sampler == "full":
                full_adjs.extend(adjs)
        t1 = clock()
        x, hits = store.gather(batch.input_nodes)
        y = graph.y[batch.output_nodes[batch.train_pos]].to(device, non_blocking=True)
        train_pos = batch.train_pos.to(device, non_blocking=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t2 = clock()
        return _Prepared(adjs, [b.n_dst for b in batch.blocks], x, y, train_pos, batch.input_nodes.numel(), hits,
                         t1 - t0, t2 - t1)

    return prepare


def _stream(batches: Iterator[Batch], prepare: Callable[[Iterator[Batch]], _Prepared | None],
            overlap: bool) -> Iterator[_Prepared]:
    """Prepared batches in order; with ``overlap`` the next one is prepared by a worker thread meanwhile."""
    if not overlap:
        while (item := prepare(batches)) is not None:
            yield item
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(prepare, batches)
        while (item := future.result()) is not None:
            future = pool.submit(prepare, batches)
            yield item


def _lookahead(batches: Iterator[Batch], prepare: Callable[[Iterator[Batch]], _Prepared | None],
               overlap: bool) -> Iterator[_Prepared]:
    """Synchronous stream holding the same batches alive as :func:`_stream`: with ``overlap`` batch ``i + 1``
    is prepared before batch ``i`` is handed out. Used for the warm-up epoch, whose first steps are in the
    memory window, because the profiler records allocations on the main thread only."""
    current = prepare(batches)
    while current is not None:
        ahead = prepare(batches) if overlap else None
        yield current
        current = ahead if overlap else prepare(batches)


class _PeakMemory:
    """Peak live tensor bytes above the level at ``start()`` until ``stop()`` (see the module docstring)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.peak_bytes = 0.0
        self.open = False

    def start(self) -> _PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
        else:
            from torch.profiler import ProfilerActivity, profile

            self._prof = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
            self._prof.start()
        self.open = True
        return self

    def stop(self) -> None:
        """Close the window (idempotent) and compute the peak."""
        if not self.open:
            return
        self.open = False
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak_bytes = float(torch.cuda.max_memory_allocated(self.device) - self._base)
            return
        self._prof.stop()
        # allocation (+bytes) and free (-bytes) events in time order; their running sum is the live memory
        events = [e for e in self._prof.profiler.kineto_results.events() if e.name() == "[memory]"]
        events.sort(key=lambda e: e.start_ns())
        live = itertools.accumulate(e.nbytes() for e in events if str(e.device_type()).endswith("CPU"))
        self.peak_bytes = float(max(0, max(live, default=0)))


@dataclass
class _Log:
    """What the training loop measured."""

    steps: int = 0
    rows: int = 0
    hits: int = 0
    epochs: int = 0
    cut: bool = False
    loss: float | None = None
    epoch_times: list[float] = field(default_factory=list)
    timed_epochs: list[int] = field(default_factory=list)
    steps_timed: list[tuple[int, float, float, float, float]] = field(default_factory=list)
    """Per step after warm-up: (epoch, step time, sampling, movement, compute)."""


def _step(model: GNN, opt: torch.optim.Optimizer, p: _Prepared) -> Tensor:
    """One Adam step on the batch's training nodes; returns the loss (a 0-d tensor, not synchronised)."""
    opt.zero_grad(set_to_none=True)
    out = model(p.adjs, p.n_dst, p.x)
    loss = F.cross_entropy(out[p.train_pos], p.y)
    loss.backward()
    opt.step()
    return loss.detach()


@torch.no_grad()
def evaluate(model: GNN, graph: GraphData, cfg: GNNConfig, nodes: Tensor, device: torch.device) -> float:
    """Accuracy on ``nodes`` by exact inference over their full ``layers``-hop neighbourhoods."""
    model.eval()
    sampler = NeighborSampler(graph, [-1] * cfg.layers, EVAL_BATCH, nodes, torch.Generator())
    correct = 0
    for chunk in nodes.split(EVAL_BATCH):
        batch = sampler.sample(chunk)
        adjs = [block_adjacency(b, cfg.model).to(device) for b in batch.blocks]
        logits = model(adjs, [b.n_dst for b in batch.blocks], graph.x[batch.input_nodes].to(device))
        correct += int((logits.argmax(1).cpu() == graph.y[chunk]).sum())
    model.train()
    return correct / max(1, nodes.numel())


def train_and_measure(graph: GraphData, cfg: GNNConfig, settings: TrainSettings) -> ProfileRecord:
    """Train ``cfg`` on ``graph`` for real and measure it (no prediction, no memory check)."""
    device = resolve_device(settings.device)
    torch.manual_seed(settings.seed)
    setup_start = time.perf_counter()
    sampler = make_sampler(graph, cfg, torch.Generator().manual_seed(settings.seed))
    cached = torch.empty(0, dtype=torch.long)
    if cfg.cache_policy != "none":
        pre = make_sampler(graph, cfg, torch.Generator().manual_seed(settings.seed + 1)) \
            if cfg.cache_policy == "presample" else None
        cached = cache_order(graph, cfg.cache_policy, pre)[: round(cfg.cache_ratio * graph.num_nodes)]
    mem = _PeakMemory(device).start()
    try:
        store = FeatureStore(graph.x, cached, device)
        model = GNN(cfg.model, graph.feat_dim, cfg.hidden, graph.num_classes, cfg.layers).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        setup_s = time.perf_counter() - setup_start
        log = _train(graph, cfg, settings, sampler, _preparer(graph, cfg, store, device, _CLOCKS[settings.clock][0]),
                     model, opt, mem)
    finally:
        mem.stop()
    nb = sampler.batches_per_epoch()
    epoch_s, how, phases = _epoch_time(log, nb)
    return ProfileRecord(
        config=cfg, graph=graph.name, device=str(device), epoch_s=epoch_s, sample_s=phases[0], move_s=phases[1],
        compute_s=phases[2], setup_s=setup_s, peak_mb=mem.peak_bytes / MIB,
        val_acc=evaluate(model, graph, cfg, graph.val_idx, device),
        test_acc=evaluate(model, graph, cfg, graph.test_idx, device),
        hit_rate=log.hits / max(1, log.rows), batches_per_epoch=nb, epochs=log.epochs, steps=log.steps, timed=how,
        clock=settings.clock, truncated=log.cut, last_loss=log.loss,
    )


def _train(graph: GraphData, cfg: GNNConfig, settings: TrainSettings, sampler: Sampler,
           prepare: Callable[[Iterator[Batch]], _Prepared | None], model: GNN, opt: torch.optim.Optimizer,
           mem: _PeakMemory) -> _Log:
    """The epoch loop: closes the memory window after ``PROBE_STEPS`` steps, times what follows."""
    device = next(model.parameters()).device
    phase_clock, epoch_clock = _CLOCKS[settings.clock]
    limit = settings.max_steps or 10**12
    deadline = time.perf_counter() + (settings.max_seconds or math.inf)
    log = _Log()
    for epoch in range(settings.epochs or default_epochs(graph)):
        log.epochs = epoch + 1
        make_stream = _lookahead if epoch == 0 else _stream  # see _lookahead: the window is in epoch 0
        timed_epoch = epoch > 0 and not mem.open
        start = last = epoch_clock()
        for p in make_stream(sampler.epoch(), prepare, cfg.overlap):
            t0 = phase_clock()
            if p.train_pos.numel():  # a cluster batch may hold no training node
                log.loss = float(_step(model, opt, p))
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            now, step_end = phase_clock(), epoch_clock()
            log.steps, log.rows, log.hits = log.steps + 1, log.rows + p.rows, log.hits + p.hits
            if not mem.open and (epoch > 0 or log.steps > PROBE_STEPS + 1):
                log.steps_timed.append((epoch, step_end - last, p.sample_s, p.move_s, now - t0))
            if log.steps == PROBE_STEPS:
                mem.stop()
            last = epoch_clock()
            log.cut = log.steps >= limit or (time.perf_counter() > deadline and len(log.steps_timed) >= MIN_TIMED_STEPS)
            if log.cut:
                return log
        if timed_epoch:
            log.epoch_times.append(epoch_clock() - start)
            log.timed_epochs.append(epoch)
    return log


def _epoch_time(log: _Log, batches: int) -> tuple[float, str, tuple[float, float, float]]:
    """Epoch time, how it was obtained, and the sampling / movement / compute seconds per epoch.

    The median of whole timed epochs when there are any (phases summed over those epochs), else the median
    step time times the batches per epoch.
    """
    if log.epoch_times:
        steps = [t for t in log.steps_timed if t[0] in log.timed_epochs]
        scale, epoch_s, how = 1.0 / len(log.epoch_times), statistics.median(log.epoch_times), "epochs"
    else:
        if not log.steps_timed:
            raise InputError("epochs", log.epochs, "enough training for at least one step after the warm-up steps")
        steps, scale, how = log.steps_timed, batches / len(log.steps_timed), "steps"
        epoch_s = statistics.median(t[1] for t in steps) * batches
    return epoch_s, how, tuple(sum(t[i] for t in steps) * scale for i in (2, 3, 4))  # type: ignore[return-value]
