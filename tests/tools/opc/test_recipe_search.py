"""A tiny real search: runs are logged, an interrupted search resumes without re-solving, bad input is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.common import InputError
from tools.opc.recipe import Recipe
from tools.opc.recipe_runs import RunLog, log_path
from tools.opc.recipe_search import search_clip, search_clips

CLIP = "AND2_X4__0_0"


def test_tiny_search_logs_its_runs_and_resumes(sim, tmp_path: Path) -> None:
    first = search_clip(CLIP, "bandit", 3, tmp_path, sim, seed=0)
    assert first.runs == 3 and first.new_runs == 3  # the default recipe is run 1 of the budget
    lines = log_path(tmp_path, CLIP).read_text().splitlines()
    assert len(lines) == 3
    assert first.best.cost <= first.default.cost
    assert first.best.l2 <= first.default.l2 and first.best.pvb <= first.default.pvb
    # Interrupt: cut the log after two runs and half a line, then resume.
    log_path(tmp_path, CLIP).write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    again = search_clip(CLIP, "bandit", 3, tmp_path, sim, seed=0)
    assert again.new_runs == 1 and again.best == first.best and again.best_recipe == first.best_recipe
    assert search_clip(CLIP, "bandit", 3, tmp_path, sim, seed=0).new_runs == 0
    log = RunLog(tmp_path, CLIP)
    assert [r.index for r in log.runs("bandit")] == [0, 1, 2] and log.runs("bandit")[0].recipe == Recipe()


def test_random_search_reuses_the_logged_default(sim, tmp_path: Path) -> None:
    search_clip(CLIP, "bandit", 1, tmp_path, sim)
    result = search_clip(CLIP, "random", 2, tmp_path, sim)
    assert result.runs == 2 and result.new_runs == 1


def test_bad_search_arguments_are_named(sim, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        search_clips([CLIP], "annealing", 3, tmp_path, sim)  # type: ignore[arg-type]
    assert err.value.field == "method"
    with pytest.raises(InputError) as err:
        search_clips([], "bandit", 3, tmp_path, sim)
    assert err.value.field == "clips"
    with pytest.raises(InputError) as err:
        search_clip(CLIP, "bandit", 0, tmp_path, sim)
    assert err.value.field == "budget"
    with pytest.raises(InputError) as err:
        search_clip("metal:NOPE__0_0", "bandit", 2, tmp_path, sim)
    assert err.value.field == "clip"


@pytest.mark.slow
def test_ppo_searches_two_clips_at_the_budget(sim, tmp_path: Path) -> None:
    found = search_clips([CLIP, "metal:AND2_X4__0_0"], "ppo", 3, tmp_path, sim)
    assert [r.runs for r in found] == [3, 3] and all(r.best.cost <= r.default.cost for r in found)


def test_a_prior_arm_whose_serifs_raise_the_pv_band_is_retried_without_them(sim, tmp_path: Path) -> None:
    """Serifs add PV band on this clip's small contacts (28,763 -> 25,968 L2 but 74,671 -> 81,127 PVB at 14 nm):
    the bandit tries the earlier clip's recipe as is, then the same recipe with the corner treatments off."""
    import numpy as np

    from tools.opc.recipe import encode
    from tools.opc.recipe_env import CONTEXT_NAMES
    from tools.opc.recipe_search import Prior

    prior = Prior(contexts=[np.zeros(len(CONTEXT_NAMES))], points=[encode(Recipe(serif_nm=14))])
    result = search_clip(CLIP, "bandit", 3, tmp_path, sim, prior=prior)
    recipes = [r.recipe for r in RunLog(tmp_path, CLIP).runs("bandit")]
    assert recipes == [Recipe(), Recipe(serif_nm=14), Recipe()]
    assert result.new_runs == 2  # the retry is the default recipe, replayed from the log
