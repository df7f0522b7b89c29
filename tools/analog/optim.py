"""Optimisers on the same black box, all minimising LLANA's score on the unit cube of the knobs.

- ``random``: uniform points after the shared initial design;
- ``sobol``: the scrambled Sobol sequence that also provides the shared initial design;
- ``gp_ei``: botorch ``SingleTaskGP`` (Matern/RBF ARD with botorch's default priors, outcome standardised)
  and log expected improvement (Ament et al., "Unexpected Improvements to Expected Improvement", NeurIPS
  2023), maximised over 2,048 Sobol candidates (why not by gradient: ``GPEIProposer``);
- ``turbo``: TuRBO-1 (Eriksson et al., "Scalable Global Optimization via Local Bayesian Optimization",
  NeurIPS 2019): a trust region around the best point, side 0.8 scaled by the GP's lengthscales, doubled
  after 3 successes in a row and halved after ceil(max(4, d)) failures (the paper's constants), Thompson
  sampling over 1,000 perturbed Sobol candidates (the paper uses min(100 d, 5000); fewer keep a CPU step
  well under a second), perturbing each coordinate with probability min(1, 20 / d);
- ``llana`` and ``llana_constraint`` live in ``tools.analog.llana`` and plug in as proposers.

Every method evaluates the same first ``n_init`` points (Sobol, scrambled with the run's seed), as LLANA and
its baselines shared their initial configurations. A simulation that does not converge has no score; the
surrogates see it as the worst score observed so far, and it never counts as a best.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = (
    "Proposer",
    "sobol_points",
    "impute_failures",
    "fit_gp",
    "RandomProposer",
    "SobolProposer",
    "GPEIProposer",
    "TurboProposer",
    "gp_mean_std",
    "quiet_gp",
)

_N_TURBO_CANDIDATES = 1000


class Proposer(Protocol):
    """Picks the next point of the search cube from the points and scores so far (failures imputed)."""

    def next(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]: ...


def sobol_points(dim: int, n: int, seed: int) -> np.ndarray:
    """The first ``n`` points of a scrambled Sobol sequence, (n, dim) in [0, 1)."""
    import torch

    engine = torch.quasirandom.SobolEngine(dim, scramble=True, seed=seed)
    return engine.draw(n, dtype=torch.float64).numpy()


def impute_failures(scores: list[float | None]) -> np.ndarray:
    """Failed evaluations take the worst (largest) score seen; all-failed histories become zeros."""
    seen = [s for s in scores if s is not None]
    worst = max(seen) if seen else 0.0
    return np.array([worst if s is None else s for s in scores], dtype=float)


@contextmanager
def quiet_gp() -> Iterator[None]:
    """Silence linear_operator's jitter notices (``A not p.d., added jitter``), expected near duplicate points."""
    from linear_operator.utils.warnings import NumericalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        yield


def fit_gp(z: np.ndarray, y: np.ndarray, hyper_from: torch.nn.Module | None = None) -> torch.nn.Module:
    """An exact GP on (z, y) with standardised outcomes, hyperparameters by maximum marginal likelihood, or
    copied from ``hyper_from`` (a GP of the same dimension) without refitting: a fit costs seconds on a busy
    CPU, so a long study refits only every few points."""
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    x = torch.tensor(z, dtype=torch.float64)
    t = torch.tensor(y, dtype=torch.float64).unsqueeze(-1)
    model = SingleTaskGP(x, t, outcome_transform=Standardize(m=1))
    if hyper_from is None:
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    else:
        for part in ("covar_module", "mean_module", "likelihood"):
            getattr(model, part).load_state_dict(getattr(hyper_from, part).state_dict())
        model.eval()
    return model


def gp_mean_std(model: torch.nn.Module, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation of ``fit_gp``'s model at the points ``z`` (n, d)."""
    import torch

    with torch.no_grad():
        post = model.posterior(torch.tensor(z, dtype=torch.float64))
        return post.mean.squeeze(-1).numpy(), post.variance.clamp_min(1e-12).sqrt().squeeze(-1).numpy()


def lengthscales(model: torch.nn.Module, dim: int) -> np.ndarray:
    """ARD lengthscales of the GP's kernel (with or without an outer scale kernel)."""
    kernel = model.covar_module
    kernel = getattr(kernel, "base_kernel", kernel)
    return kernel.lengthscale.detach().reshape(-1).numpy()[:dim]


@dataclass
class RandomProposer:
    seed: int
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def next(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]:
        return self.rng.uniform(0.0, 1.0, z.shape[1]), "random"


@dataclass
class SobolProposer:
    """Continues the shared Sobol sequence after the initial design."""

    dim: int
    seed: int

    def next(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]:
        return sobol_points(self.dim, len(z) + 1, self.seed)[len(z)], "sobol"


@dataclass
class GPEIProposer:
    """argmax of log EI under a GP fit to everything observed (minimisation), over ``n_candidates`` scrambled
    Sobol points of the cube (a fresh scramble per step).

    A candidate set, not gradient ascent: on the 13 knobs of OTA_XT_MAGICAL with 5-25 points, ``optimize_acqf``
    put 2-6 knobs exactly on a bound (0 or 5) in every proposal measured, where a net's pull vanishes or dominates,
    and GP-EI fell behind random search in a live pilot (6 seeds x 25 evaluations, smoothed CMRR score: best
    -0.123 against random's -0.140); choosing among typical points is what won the pool study.
    """

    seed: int
    n_candidates: int = 2048

    def next(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]:
        import torch
        from botorch.acquisition.analytic import LogExpectedImprovement

        model = fit_gp(z, y)
        acq = LogExpectedImprovement(model, best_f=float(y.min()), maximize=False)
        cands = sobol_points(z.shape[1], self.n_candidates, self.seed * 1009 + len(z))
        with torch.no_grad():
            values = acq(torch.tensor(cands).unsqueeze(1))
        return cands[int(torch.argmax(values))], "gp_ei"


@dataclass
class TurboProposer:
    """TuRBO-1 with batch size 1; the trust region follows the score of each new point."""

    dim: int
    seed: int
    length: float = 0.8
    length_min: float = 0.5**7
    length_max: float = 1.6
    success_tolerance: int = 3
    failure_tolerance: int = 0
    successes: int = 0
    failures: int = 0
    restarts: int = 0
    _best: float = math.inf
    _seen: int = 0

    def __post_init__(self) -> None:
        self.failure_tolerance = self.failure_tolerance or math.ceil(max(4.0, float(self.dim)))

    def _update(self, y: np.ndarray) -> None:
        """Count successes/failures of the points added since the last call and resize the region."""
        if self._seen == 0:
            self._best, self._seen = float(y.min()), len(y)
            return
        for value in y[self._seen :]:
            if value < self._best - 1e-3 * abs(self._best):
                self.successes, self.failures = self.successes + 1, 0
            else:
                self.successes, self.failures = 0, self.failures + 1
            if self.successes == self.success_tolerance:
                self.length, self.successes = min(2.0 * self.length, self.length_max), 0
            elif self.failures == self.failure_tolerance:
                self.length, self.failures = self.length / 2.0, 0
            self._best = min(self._best, float(value))
        self._seen = len(y)
        if self.length < self.length_min:  # collapsed: restart the region around the incumbent
            self.length, self.restarts = 0.8, self.restarts + 1

    def next(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]:
        import torch
        from botorch.generation import MaxPosteriorSampling

        self._update(y)
        model = fit_gp(z, -y)  # TuRBO maximises
        center = z[int(np.argmin(y))]
        ls = lengthscales(model, self.dim)
        weights = ls / ls.mean()
        weights = weights / np.prod(weights) ** (1.0 / self.dim)
        lo = np.clip(center - weights * self.length / 2, 0.0, 1.0)
        hi = np.clip(center + weights * self.length / 2, 0.0, 1.0)
        rng = np.random.default_rng(self.seed * 7919 + len(z))
        pert = lo + (hi - lo) * sobol_points(self.dim, _N_TURBO_CANDIDATES, int(rng.integers(1 << 30)))
        mask = rng.uniform(size=pert.shape) <= min(1.0, 20.0 / self.dim)
        mask[np.arange(len(mask)), rng.integers(self.dim, size=len(mask))] |= ~mask.any(axis=1)
        cand = np.where(mask, pert, center)
        with torch.random.fork_rng():
            torch.manual_seed(self.seed * 7919 + len(z))
            pick = MaxPosteriorSampling(model, replacement=False)(torch.tensor(cand), num_samples=1)
        return pick.squeeze(0).numpy(), "turbo"
