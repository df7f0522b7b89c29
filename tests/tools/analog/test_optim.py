"""Baseline optimisers on a cheap synthetic objective (no simulator): determinism, bounds, progress."""

from __future__ import annotations

import numpy as np
import pytest

from tools.analog.optim import GPEIProposer, TurboProposer, fit_gp, gp_mean_std, impute_failures, sobol_points


def _f(z: np.ndarray) -> np.ndarray:
    return ((np.atleast_2d(z) - 0.3) ** 2).sum(axis=1)


def test_sobol_design_is_seeded_and_in_the_cube() -> None:
    a, b = sobol_points(4, 8, seed=1), sobol_points(4, 8, seed=1)
    assert np.array_equal(a, b) and not np.array_equal(a, sobol_points(4, 8, seed=2))
    assert a.shape == (8, 4) and a.min() >= 0 and a.max() < 1


def test_failures_count_as_the_worst_score_seen() -> None:
    assert impute_failures([0.2, None, -0.1]).tolist() == [0.2, 0.2, -0.1]
    assert impute_failures([None, None]).tolist() == [0.0, 0.0]


def test_gp_fits_what_it_saw_within_its_inferred_noise() -> None:
    z = sobol_points(2, 12, seed=0)
    y = _f(z)
    mu, sd = gp_mean_std(fit_gp(z, y), z)
    spread = y.max() - y.min()
    assert np.abs(mu - y).max() < 0.05 * spread and sd.max() < 0.05 * spread


@pytest.mark.parametrize("proposer", [GPEIProposer(seed=0), TurboProposer(dim=3, seed=0)])
def test_model_based_proposers_improve_on_a_quadratic(proposer) -> None:
    z = sobol_points(3, 5, seed=0)
    y = _f(z)
    for _ in range(6):
        nxt, source = proposer.next(z, y)
        assert nxt.shape == (3,) and nxt.min() >= 0 and nxt.max() <= 1 and source in ("gp_ei", "turbo")
        z, y = np.vstack([z, nxt]), np.append(y, _f(nxt))
    assert y[5:].min() < y[:5].min()


def test_gp_ei_is_deterministic_for_a_seed() -> None:
    z = sobol_points(3, 5, seed=0)
    a, _ = GPEIProposer(seed=4).next(z, _f(z))
    b, _ = GPEIProposer(seed=4).next(z, _f(z))
    assert np.array_equal(a, b)


def test_turbo_halves_its_region_after_repeated_failures() -> None:
    t = TurboProposer(dim=2, seed=0)
    t._update(np.array([1.0, 0.5]))
    t._update(np.array([1.0, 0.5, 0.9, 0.9, 0.9, 0.9]))  # four non-improvements = ceil(max(4, d))
    assert t.length == pytest.approx(0.4)
    t._update(np.array([1.0, 0.5, 0.9, 0.9, 0.9, 0.9, 0.1, 0.01, 0.001]))  # three successes double it
    assert t.length == pytest.approx(0.8)


def test_gp_ei_keeps_many_knobs_off_the_bounds() -> None:
    """With 13 knobs and 8 points, gradient ascent on EI pinned several knobs to 0 or 1; the candidate set does not."""
    z = np.random.default_rng(0).uniform(size=(8, 13))
    y = np.sin(5 * z).sum(axis=1)
    nxt, _ = GPEIProposer(seed=1).next(z, y)
    assert nxt.shape == (13,) and int(((nxt < 1e-6) | (nxt > 1 - 1e-6)).sum()) == 0
