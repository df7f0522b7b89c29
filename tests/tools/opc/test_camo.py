"""CAMO: the gymnasium environment, the policy, inference through opc_optimize, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tools.common import InputError

gym = pytest.importorskip("gymnasium")


@pytest.fixture(scope="module")
def via_clip(opc_data: None) -> str:
    from tools.litho.clips import list_clips, load_clip
    from tools.opc.segments import fragment

    names = list_clips("via")
    return min(names, key=lambda n: (len(fragment(load_clip(n).layout.polygons, 60)), n))


@pytest.fixture()
def env(via_clip: str, sim):
    from tools.opc.camo_env import CamoConfig, CamoOPCEnv

    return CamoOPCEnv(CamoConfig(clips=(via_clip,), layer="via", horizon=3, max_segments=16), sim=sim)


def test_env_passes_gymnasium_checker(env) -> None:
    from gymnasium.utils.env_checker import check_env

    check_env(env, skip_render_check=True)


def test_env_is_registered(via_clip: str) -> None:
    from tools.opc.camo_env import ENV_ID

    made = gym.make(ENV_ID, clips=(via_clip,), layer="via", horizon=2, max_segments=16)
    obs, info = made.reset(seed=1)
    assert info["segments"] == 8 and obs["node_mask"].sum() == 8


def test_vector_of_two_copies_steps(via_clip: str) -> None:
    from tools.opc.camo_env import ENV_ID

    vec = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="sync",
                       clips=(via_clip,), layer="via", horizon=2, max_segments=16)
    obs, _ = vec.reset(seed=3)
    assert obs["nodes"].shape[0] == 2
    action = np.full((2, 16), 4 + 2)  # +2 nm everywhere
    obs, reward, terminated, truncated, _ = vec.step(action)
    assert reward.shape == (2,) and reward[0] == reward[1] and not terminated.any()
    vec.close()


def test_same_seed_and_actions_give_identical_results(env) -> None:
    runs = []
    for _ in range(2):
        obs, _ = env.reset(seed=7)
        trace = [obs]
        for _ in range(3):
            legal = [np.flatnonzero(row) for row in obs["action_mask"]]
            action = np.array([row[len(row) // 2] for row in legal])
            obs, reward, *_ = env.step(action)
            trace.append((obs, reward))
        runs.append(trace)
    for a, b in zip(runs[0][1:], runs[1][1:]):
        assert a[1] == b[1]
        for key in a[0]:
            assert np.array_equal(a[0][key], b[0][key])


@pytest.mark.parametrize("metal", [False, True])
def test_env_cost_is_the_contest_metrics_of_the_legal_mask(env, sim, metal: bool) -> None:
    from tools.litho.metrics import evaluate_mask
    from tools.opc.camo_env import CamoConfig, CamoOPCEnv

    if metal:
        env = CamoOPCEnv(CamoConfig(clips=("M1_test4",), layer="metal", move_range_nm=8, max_segments=64), sim=sim)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(5)
    for _ in range(3):
        action = np.array([rng.choice(np.flatnonzero(row)) for row in obs["action_mask"]])
        obs, _, _, _, info = env.step(action)
    data = env.clip_data
    assert np.all(env.offsets >= data.lower) and np.all(env.offsets <= data.upper)
    mask = data.model.raster(env.offsets)
    metrics = evaluate_mask(mask, data.target, sim)
    assert (info["l2"], info["pvb"], info["epe"]) == (metrics.l2, metrics.pvb, metrics.epe_contest)
    assert metrics.mrc_violations == 0


def test_score_of_other_offsets_matches_stepping_there_and_leaves_the_episode_alone(env) -> None:
    obs, _ = env.reset(seed=0)
    action = np.array([np.flatnonzero(row)[-1] for row in obs["action_mask"]])  # largest legal move out
    target_offsets = np.clip(action[: len(env.offsets)] - env.k, env.clip_data.lower, env.clip_data.upper)
    before = (env.offsets, env.cost, env._observation())
    scored = env.score(target_offsets)
    assert np.array_equal(env.offsets, before[0]) and env.cost == before[1]
    for key, value in env._observation().items():
        assert np.array_equal(value, before[2][key])
    _, _, _, _, info = env.step(action)
    assert np.array_equal(env.offsets, target_offsets)
    assert scored == {k: info[k] for k in ("l2", "pvb", "epe", "cost")}
    with pytest.raises(InputError) as err:
        env.score(env.clip_data.upper + 1)
    assert err.value.field == "offsets"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("move_range_nm", {"move_range_nm": 0}),
        ("segment_length_nm", {"segment_length_nm": 5}),
        ("clips", {"clips": ()}),
        ("layer", {"layer": "poly"}),
        ("step_decay_every", {"step_decay_every": -1}),
        ("scales", {"scales": (1.0, 0.3)}),
        ("scales", {"scales": ()}),
    ],
)
def test_bad_environment_settings_name_the_field(field: str, kwargs: dict, via_clip: str) -> None:
    from tools.opc.camo_env import CamoConfig, CamoOPCEnv

    base = {"clips": (via_clip,), "layer": "via"}
    with pytest.raises(InputError) as err:
        CamoOPCEnv(CamoConfig(**(base | kwargs)))
    assert err.value.field == field


def test_scales_add_smaller_copies_of_every_clip_as_episodes(via_clip: str, sim) -> None:
    from tools.opc.camo_env import CamoConfig, CamoOPCEnv

    env = CamoOPCEnv(CamoConfig(clips=(via_clip,), layer="via", horizon=2, scales=(1.0, 0.75)), sim=sim)
    _, whole = env.reset(options={"clip": 0})
    _, small = env.reset(options={"clip": 1})
    assert whole["clip"] == via_clip and small["clip"] == f"{via_clip}@0.75"
    assert small["cost0"] != whole["cost0"]
    with pytest.raises(InputError) as err:
        env.reset(options={"clip": 2})
    assert err.value.field == "options.clip"


def _policy(gnn: bool = True, modulation: bool = True):
    from tools.opc.camo_env import NODE_FEATURES
    from tools.opc.camo_policy import CamoPolicy, PolicyConfig

    torch.manual_seed(0)
    return CamoPolicy(PolicyConfig(len(NODE_FEATURES), 4, gnn=gnn, modulation=modulation))


def _batch(env, seed: int = 0) -> dict[str, torch.Tensor]:
    obs, _ = env.reset(seed=seed)
    return {k: torch.as_tensor(np.stack([v, v])) for k, v in obs.items()}


@pytest.mark.parametrize("gnn", [True, False])
def test_policy_sequential_sampling_matches_teacher_forced_log_probability(env, gnn: bool) -> None:
    policy = _policy(gnn)
    obs = _batch(env)
    actions, logp, value = policy.act(obs, generator=torch.Generator().manual_seed(0))
    assert actions.shape == (2, 16) and logp.shape == (2, 16) and value.shape == (2,)
    again, _, _ = policy.evaluate(obs, actions)
    assert torch.allclose(logp, again, atol=1e-4)
    legal = obs["action_mask"].gather(-1, actions[..., None]).squeeze(-1)
    assert bool(legal.all())
    greedy = policy.act(obs, deterministic=True)[0]
    assert torch.equal(greedy, policy.act(obs, deterministic=True)[0])
    assert torch.equal(policy.round_moves(obs), greedy)  # the inference path without the training statistics


def test_independent_ablation_ignores_neighbours_and_the_gnn_does_not(env) -> None:
    obs = _batch(env)
    changed = {k: v.clone() for k, v in obs.items()}
    changed["nodes"][:, 1] += 1.0  # perturb segment 1 only
    for gnn, moved in ((False, False), (True, True)):
        policy = _policy(gnn)
        actions = torch.full((2, 16), 4)
        before = policy.evaluate(obs, actions)[0]
        after = policy.evaluate(changed, actions)[0]
        h0 = policy._embed(obs)[0, 0]
        h1 = policy._embed(changed)[0, 0]
        assert (not torch.allclose(h0, h1)) == moved  # segment 0's embedding sees segment 1 only through the GNN
        assert not torch.allclose(before, after)


def test_modulation_prefers_the_opc_engineers_move(env) -> None:
    policy = _policy(gnn=False, modulation=True)
    obs = _batch(env)
    obs["epe"][:] = -6.0  # print falls 6 nm short everywhere: an engineer moves out by 3
    prior = policy._prior(obs)
    assert prior.shape == (2, 16, 9) and int(prior[0, 0].argmax()) - 4 == 3


def test_camo_end_to_end_on_a_small_via_clip(via_clip: str, tmp_path: Path, sim) -> None:
    from tools.opc.optimize_tool import OPCOptimizeArgs, run_opc_optimize

    r = run_opc_optimize(OPCOptimizeArgs(clip=via_clip, method="camo", iterations=6, out_dir=str(tmp_path), device="cpu"))
    assert r.method == "camo" and r.iterations == 6 and r.segments == 8
    assert r.metrics.mrc_violations == 0 and r.metrics.l2 < r.baseline.l2
    assert set(r.artifacts) == {"gds", "mask_npy", "mask_png", "print_png", "pvband_png", "history"}
    assert all(Path(p).is_file() for p in r.artifacts.values())


def test_unknown_and_wrong_layer_checkpoints_are_refused_and_nothing_is_written(via_clip: str, tmp_path: Path) -> None:
    from tools.opc.camo import packaged_checkpoint
    from tools.opc.optimize_tool import OPCOptimizeArgs, run_opc_optimize

    for checkpoint, words in ((str(tmp_path / "nope.pt"), "existing"), (str(packaged_checkpoint("metal")), "metal layer")):
        out = tmp_path / "run"
        with pytest.raises(InputError, match=words) as err:
            run_opc_optimize(OPCOptimizeArgs(clip=via_clip, method="camo", checkpoint=checkpoint, out_dir=str(out)))
        assert err.value.field == "checkpoint" and not out.exists()


def test_move_range_zero_and_empty_clip_are_refused(via_clip: str, tmp_path: Path) -> None:
    from tools.opc.optimize_tool import OPCOptimizeArgs, run_opc_optimize

    out = tmp_path / "run"
    with pytest.raises(InputError) as err:
        run_opc_optimize(OPCOptimizeArgs(clip=via_clip, method="camo", move_range_nm=0, out_dir=str(out)))
    assert err.value.field == "move_range_nm" and not out.exists()
    empty = tmp_path / "empty.glp"
    empty.write_text("BEGIN\nEQUIV 1 1000 MICRON +X,+Y\nCNAME Top\nCELL Top PRIME\nENDMSG\n")
    with pytest.raises(InputError, match="RECT or PGON"):
        run_opc_optimize(OPCOptimizeArgs(clip=str(empty), method="camo", out_dir=str(out)))
    assert not out.exists()


def test_packaged_checkpoints_are_small_and_load_for_their_layer() -> None:
    from tools.opc.camo import load_checkpoint, packaged_checkpoint

    for layer in ("metal", "via"):
        path = packaged_checkpoint(layer)
        assert path.stat().st_size <= 2 * 1024 * 1024
        _, record = load_checkpoint(path, layer)
        assert record["layer"] == layer and record["env"]["move_range_nm"] >= 1


@pytest.mark.slow
def test_training_runs_writes_curve_and_resumes(tmp_path: Path, opc_data: None) -> None:
    from tools.opc.camo import load_checkpoint
    from tools.opc.camo_train import quick_config, train_camo

    first = train_camo(quick_config("via", steps=4), tmp_path)
    assert Path(first["curve_png"]).is_file() and first["steps"] == 4
    second = train_camo(quick_config("via", steps=8), tmp_path)
    assert second["steps"] == 8
    _, record = load_checkpoint(second["checkpoint"], "via")
    assert record["train"]["log"]["steps_done"] == 8


@pytest.mark.parametrize("select", ["epe", "cost"])
@pytest.mark.parametrize("interpolate", [(), (0.25, 0.5, 0.75)])
def test_the_kept_mask_is_the_best_by_the_select_rule(via_clip: str, sim, select: str, interpolate: tuple) -> None:
    from tools.opc.camo import optimize_camo

    result, _ = optimize_camo(via_clip, sim, rounds=6, select=select, interpolate=interpolate)
    scored = result.history
    rounds = [h for h in scored if float(h["iteration"]).is_integer()]
    assert [h["iteration"] for h in rounds] == list(range(7)) and scored[:7] == rounds
    key = (lambda h: (h["epe"], h["cost"])) if select == "epe" else (lambda h: h["cost"])
    best_round = min(rounds, key=key)["iteration"]
    between = scored[7:]
    assert len(between) == len(interpolate) * sum(0 <= r < 6 for r in (best_round - 1, best_round))
    assert all(best_round - 1 < h["iteration"] < best_round + 1 for h in between)  # next to the best round
    best = min(scored, key=key)
    assert key(scored[result.best_iteration]) == key(best)
    assert all(key(h) > key(best) for h in scored[: result.best_iteration])  # the first best mask is kept


def test_interpolated_candidates_are_scored_masks_between_two_rounds(via_clip: str, sim) -> None:
    """Each candidate's metrics are the environment's for the rounded offsets that far between the two rounds'
    (the rounds replayed here with the same greedy policy)."""
    from tools.opc.camo import (
        DEFAULT_STEP_DECAY,
        load_checkpoint,
        obs_to_torch,
        optimize_camo,
        packaged_checkpoint,
    )
    from tools.opc.camo_env import CamoConfig, CamoOPCEnv

    result, _ = optimize_camo(via_clip, sim, rounds=4, interpolate=(0.25, 0.5), select="cost")
    policy, record = load_checkpoint(packaged_checkpoint("via"), "via")
    env = CamoOPCEnv(CamoConfig(clips=(via_clip,), layer="via", move_range_nm=int(record["env"]["move_range_nm"]),
                                horizon=4, step_decay_every=DEFAULT_STEP_DECAY, max_segments=len(result.segments)), sim=sim)
    obs, _ = env.reset(seed=0, options={"clip": 0})
    masks = [env.offsets]
    for _ in range(4):
        obs, *_ = env.step(policy.round_moves(obs_to_torch(obs))[0].numpy())
        masks.append(env.offsets)
    between = [h for h in result.history if not float(h["iteration"]).is_integer()]
    assert between
    for h in between:
        r, f = int(h["iteration"]), h["iteration"] % 1
        offsets = np.rint(masks[r] + f * (masks[r + 1] - masks[r])).astype(np.int64)
        assert env.score(offsets) == {k: h[k] for k in ("l2", "pvb", "epe", "cost")}


def test_unknown_select_rule_and_bad_fractions_are_refused(via_clip: str, sim) -> None:
    from tools.opc.camo import optimize_camo

    with pytest.raises(InputError) as err:
        optimize_camo(via_clip, sim, select="l2")
    assert err.value.field == "select"
    for bad in ((0.0,), (1.0,), (0.5, 1.5)):
        with pytest.raises(InputError) as err:
            optimize_camo(via_clip, sim, interpolate=bad)
        assert err.value.field == "interpolate"


def test_step_decay_halves_the_largest_move_and_the_action_mask_follows(via_clip: str, sim) -> None:
    from tools.opc.camo_env import CamoConfig, CamoOPCEnv

    env = CamoOPCEnv(CamoConfig(clips=(via_clip,), layer="via", move_range_nm=8, horizon=5, step_decay_every=2,
                                max_segments=16), sim=sim)
    obs, _ = env.reset(seed=0)
    limits, offsets = [], []
    for _ in range(5):
        limits.append(env.step_limit)
        legal = np.flatnonzero(obs["action_mask"][:8].any(0)) - 8
        assert np.abs(legal).max() <= env.step_limit
        before = env.offsets
        obs, *_ = env.step(np.full(16, 16))  # ask for +8 nm everywhere: the step clips it to the round's limit
        offsets.append(int((env.offsets - before).max()))
    assert limits == [8, 8, 4, 4, 2]
    assert all(o <= lim for o, lim in zip(offsets, limits)) and offsets[-1] <= 2 and offsets[0] > 2
