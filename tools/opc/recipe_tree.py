"""An interpretable recipe: a shallow decision tree from segment topology to bias and EPE target.

The searched recipes are per clip. To carry them to clips never searched, every segment of every searched
clip (fragmented at 60 nm) becomes one sample: its topology (``tools.opc.topology``: class, width, space,
distance to the nearest corner, length, dense flag) -> the bias and EPE target its class got in that clip's
best recipe. A regression tree of depth <= 4 (scikit-learn, squared error, every clip weighing the same)
turns that into at most 16 rules; the global settings (fragment length, iterations, gain, step, decay, corner
weight) are the medians over the clips whose search improved on the default.

The on/off features (assist bars, corner serifs, mousebites: :data:`SWITCHED`) are where a transferred recipe
can hurt most, so the tree turns one on only when it helped on *every* training clip with evidence
(``switch="consistent"``): per clip, :func:`feature_gains` compares the best J of the logged runs with and
without the feature, and the feature is on when that gain is positive on every clip where both kinds of run
exist (at least half of the clips), at the median setting of the improved clips that used it. The earlier
rule (``switch="majority"``: on when most improved clips' best recipes used it) turned the metal clips'
serifs on for contacts too, where every search found serifs raise J. Leaves set the mean values of their
segments (``leaves="mean"``) or, optionally, those values shrunk toward the default by positive-part
James-Stein over the leaf's per-clip means (``leaves="shrunk"``). The defaults are the rules chosen by
cross-validation on the training clips (``tools.opc.recipe_cv``).

Guard against rules that do not generalise: a leaf reached by segments of fewer than ``MIN_SUPPORT`` training
clips sets the default (bias 0, EPE target 0): one clip's recipe is a fit to that clip, not a rule.

The fitted tree is stored as plain JSON (nodes with feature, threshold and leaf values, rounded as the
rules print them) and as a rule script in the style of an OPC deck, one rule per leaf::

    RULE 3: class == line_end AND space_nm > 149.5 -> BIAS +4 nm ; EPE_TARGET -1.0 nm   # 212 segments

Applying it needs neither scikit-learn nor the search: :meth:`RecipeTree.segment_values` walks the JSON
nodes for every segment of an unseen clip, and :func:`solve_tree` runs mbopc with those values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.common import InputError
from tools.opc.recipe import RECIPE_CLASSES, ClipProblem, Recipe, RunMetrics, recipe_class, solve

__all__ = ("TREE_FEATURES", "MAX_DEPTH", "SWITCHED", "SwitchRule", "LeafRule", "TreeNode", "TreeRule", "RecipeTree",
           "fit_tree", "feature_gains", "load_tree", "solve_tree")

SwitchRule = Literal["majority", "consistent"]
"""When an on/off feature is on: most improved clips used it, or it lowered J on every clip (module docstring)."""
LeafRule = Literal["mean", "shrunk"]
"""A leaf's values: its segments' mean, or that shrunk toward the default by James-Stein (module docstring)."""

TREE_FEATURES: tuple[str, ...] = (*(f"class_{c}" for c in RECIPE_CLASSES), "width_nm", "space_nm", "corner_nm", "length_nm")
"""Tree inputs per segment: one-hot recipe class, then distances in nm (capped as ``tools.opc.topology``)."""
MAX_DEPTH = 4
MIN_SUPPORT = 2
"""Fewest training clips whose segments reach a leaf for its values to be used (else the default's)."""
OUTPUTS: tuple[str, ...] = ("bias_nm", "epe_target_nm")
_SETTINGS: dict[str, tuple[str, ...]] = {
    "sraf_width_nm": ("sraf_width_nm", "sraf_distance_nm"), "serif_nm": ("serif_nm",), "mousebite_nm": ("mousebite_nm",)
}
"""Per on/off feature, the globals the tree sets when it turns that feature on."""
SWITCHED: tuple[str, ...] = tuple(_SETTINGS)
"""The globals that switch a mask feature on (> 0) or off (0): assist bars, serifs, mousebites."""


class TreeNode(BaseModel):
    """A node: a split (feature, threshold, left = ``<=``, right = ``>``) or a leaf (value)."""

    id: int
    feature: str | None = None
    threshold: float | None = None
    left: int | None = None
    right: int | None = None
    bias_nm: int | None = None
    epe_target_nm: float | None = None
    samples: int = Field(description="Training segments reaching the node.")
    clips: int = Field(default=0, description="Training clips with segments reaching the node (leaf support).")


class TreeRule(BaseModel):
    """One leaf as a rule: the conditions on its path and the values it sets."""

    rule: int = Field(description="1-based rule number, leaves in left-to-right order.")
    condition: str
    bias_nm: int
    epe_target_nm: float
    segments: int


class RecipeTree(BaseModel):
    """A fitted recipe tree: global settings plus per-segment rules."""

    globals: Recipe = Field(description="Fragment length, iterations, gain, step, decay; classes unused.")
    nodes: list[TreeNode]
    depth: int
    trained_on: list[str] = Field(description="The clips whose searched recipes were fitted.")

    def rules(self) -> list[TreeRule]:
        """One rule per leaf, left to right."""
        out: list[TreeRule] = []

        def walk(i: int, conds: list[str]) -> None:
            node = self.nodes[i]
            if node.feature is None:
                out.append(TreeRule(rule=len(out) + 1, condition=_simplify(conds),
                                    bias_nm=int(node.bias_nm or 0), epe_target_nm=float(node.epe_target_nm or 0.0),
                                    segments=node.samples))
                return
            yes, no = _condition(node.feature, node.threshold)
            walk(int(node.left), [*conds, yes])
            walk(int(node.right), [*conds, no])

        walk(0, [])
        return out

    def rule_script(self) -> str:
        """The tree as an OPC-deck style rule script (module docstring)."""
        g = self.globals
        lines = [
            f"# mbopc recipe tree: depth {self.depth}, {len(self.rules())} rules, fitted on {len(self.trained_on)} clips",
            f"SET segment_length {g.segment_length_nm} nm ; iterations {g.iterations} ; gain {g.gain:.2f} ; "
            f"max_step {g.max_step_nm:.2f} nm ; decay_every {g.decay_every} ; pw_weight {g.pw_weight:.2f} ; "
            f"sraf_width {g.sraf_width_nm} nm ; sraf_distance {g.sraf_distance_nm} nm ; serif {g.serif_nm} nm ; "
            f"mousebite {g.mousebite_nm} nm",
        ]
        for r in self.rules():
            lines.append(f"RULE {r.rule}: {r.condition} -> BIAS {r.bias_nm:+d} nm ; EPE_TARGET {r.epe_target_nm:+.1f} nm"
                         f"   # {r.segments} segments")
        return "\n".join(lines) + "\n"

    def segment_values(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bias_nm, epe_target_nm) per row of ``features`` (S, len(TREE_FEATURES)), walking the nodes."""
        col = {name: i for i, name in enumerate(TREE_FEATURES)}
        bias = np.zeros(len(features))
        goal = np.zeros(len(features))
        for s, row in enumerate(features):
            node = self.nodes[0]
            while node.feature is not None:
                node = self.nodes[int(node.left if row[col[node.feature]] <= node.threshold else node.right)]
            bias[s], goal[s] = float(node.bias_nm or 0), float(node.epe_target_nm or 0.0)
        return bias, goal

    def save(self, folder: Path) -> dict[str, str]:
        """Write ``recipe_tree.json`` and ``recipe_rules.txt``; return their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"tree_json": folder / "recipe_tree.json", "rules": folder / "recipe_rules.txt"}
        paths["tree_json"].write_text(self.model_dump_json(indent=1))
        paths["rules"].write_text(self.rule_script())
        return {k: str(v) for k, v in paths.items()}


def _simplify(conds: list[str]) -> str:
    """Join a path's conditions, keeping the tightest ``<=`` and ``>`` bound per feature and one class test."""
    kept: dict[tuple[str, str], str] = {}
    for cond in conds:
        feature, op, value = cond.split(" ", 2)
        key = (feature, op) if op in ("<=", ">") else (feature, cond)
        if op == "==":
            kept = {k: v for k, v in kept.items() if k[0] != feature}  # class == X implies every class != Y
        if op == "!=" and any(k[0] == feature and v.split(" ")[1] == "==" for k, v in kept.items()):
            continue
        if key in kept and op in ("<=", ">"):
            old = float(kept[key].split(" ")[2])
            tighter = float(value) < old if op == "<=" else float(value) > old
            if not tighter:
                continue
        kept[key] = cond
    return " AND ".join(kept.values()) or "always"


def _condition(feature: str, threshold: float | None) -> tuple[str, str]:
    """(left, right) conditions of a split in the rule script's words."""
    if feature.startswith("class_"):
        name = feature.removeprefix("class_")
        return f"class != {name}", f"class == {name}"
    return f"{feature} <= {threshold:g}", f"{feature} > {threshold:g}"


def tree_features(topo: Any) -> np.ndarray:
    """(S, len(TREE_FEATURES)) float64 rows for the segments of a ``SegmentTopology``."""
    onehot = np.eye(len(RECIPE_CLASSES))[recipe_class(topo)]
    dist = np.stack([topo.width_nm, topo.space_nm, topo.corner_nm, topo.length_nm], axis=1).astype(np.float64)
    return np.concatenate([onehot, dist], axis=1)


def fit_tree(
    samples: list[tuple[str, np.ndarray, Recipe, bool]],
    depth: int = MAX_DEPTH,
    gains: dict[str, dict[str, float | None]] | None = None,
    switch: SwitchRule = "consistent",
    leaves: LeafRule = "mean",
) -> RecipeTree:
    """Fit the tree on searched recipes.

    Args:
        samples: per searched clip ``(name, tree_features at 60 nm, best recipe, improved on the default)``.
        depth: tree depth, 1..4.
        gains: per clip name, :func:`feature_gains` of its logged runs (used by ``switch="consistent"``).
        switch: ``majority``: an on/off feature is on when most improved clips' best recipes use it;
            ``consistent``: on only when it lowered the best J on every clip with evidence (module docstring).
        leaves: ``mean``: a leaf sets its segments' mean values; ``shrunk``: shrunk toward the default by
            how consistently its clips agree (positive-part James-Stein, module docstring).

    Raises:
        InputError: no searched clips (ask for a search first), or a depth outside 1..4.
    """
    if not samples:
        raise InputError("searches", 0, "at least one searched clip: run the recipe search before fitting a tree")
    if not 1 <= depth <= MAX_DEPTH:
        raise InputError("depth", depth, f"an integer within 1..{MAX_DEPTH}")
    from sklearn.tree import DecisionTreeRegressor

    x, y, w, owner = [], [], [], []
    for k, (_, feats, recipe, _) in enumerate(samples):
        cls = feats[:, : len(RECIPE_CLASSES)].argmax(axis=1)
        values = np.asarray([[recipe.of(c).bias_nm, recipe.of(c).epe_target_nm] for c in RECIPE_CLASSES])
        x.append(feats)
        y.append(values[cls])
        w.append(np.full(len(feats), 1.0 / max(len(feats), 1)))
        owner.append(np.full(len(feats), k))
    reg = DecisionTreeRegressor(max_depth=depth, min_weight_fraction_leaf=0.02, random_state=0)
    xs, ys = np.concatenate(x), np.concatenate(y)
    reg.fit(xs, ys, sample_weight=np.concatenate(w))
    t = reg.tree_
    paths = reg.decision_path(xs).tocsc()
    owners = np.concatenate(owner)
    support = [len(np.unique(owners[paths[:, i].indices])) for i in range(t.node_count)]
    nodes = []
    for i in range(t.node_count):
        leaf = t.children_left[i] == -1
        value = t.value[i][:, 0] if support[i] >= min(MIN_SUPPORT, len(samples)) else np.zeros(2)
        if leaf and leaves == "shrunk":
            value = _shrunk(value, ys, owners, paths[:, i].indices)
        nodes.append(TreeNode(
            id=i,
            feature=None if leaf else TREE_FEATURES[t.feature[i]],
            threshold=None if leaf else round(float(t.threshold[i]), 1),
            left=None if leaf else int(t.children_left[i]),
            right=None if leaf else int(t.children_right[i]),
            bias_nm=int(round(value[0])) if leaf else None,
            epe_target_nm=round(float(value[1]), 1) if leaf else None,
            samples=int(t.n_node_samples[i]),
            clips=int(support[i]),
        ))
    nodes = _prune(nodes)
    return RecipeTree(globals=_globals(samples, gains or {}, switch), nodes=nodes, depth=_depth(nodes), trained_on=[s[0] for s in samples])


def _shrunk(value: np.ndarray, ys: np.ndarray, owners: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A leaf's values shrunk toward the default (0) by positive-part James-Stein over its clips' means."""
    clips = np.unique(owners[rows])
    if len(clips) < 2:
        return np.zeros_like(value)
    means = np.stack([ys[rows[owners[rows] == c]].mean(axis=0) for c in clips])
    noise = means.var(axis=0, ddof=1) / len(clips)  # squared standard error of the leaf's mean over clips
    keep = np.clip(1.0 - noise / np.maximum(value**2, 1e-12), 0.0, 1.0)
    return value * keep


def feature_gains(runs: list[tuple[Recipe, RunMetrics]], default: RunMetrics) -> dict[str, float | None]:
    """Per on/off feature (:data:`SWITCHED`): how much it lowered the best J of a clip's runs, in % of the
    default J: (best J of the runs without it - best J of the runs with it) / J_default; None when either
    set is empty. J of every run counts, as the tree is judged on J alone."""
    out: dict[str, float | None] = {}
    for key in SWITCHED:
        on = [m.cost for r, m in runs if getattr(r, key) > 0]
        off = [m.cost for r, m in runs if getattr(r, key) == 0]
        out[key] = round(100.0 * (min(off) - min(on)) / max(default.cost, 1.0), 3) if on and off else None
    return out


def _switched_on(key: str, samples: list[tuple[str, np.ndarray, Recipe, bool]], improved: list[Recipe],
                 gains: dict[str, dict[str, float | None]], switch: SwitchRule) -> bool:
    """Whether the tree's globals turn feature ``key`` on (module docstring)."""
    used = sum(getattr(r, key) > 0 for r in improved)
    if switch == "majority":
        return 2 * used > len(improved)
    seen = [g[key] for name, *_ in samples if (g := gains.get(name)) and g.get(key) is not None]
    return used > 0 and 2 * len(seen) >= len(samples) and all(v > 0 for v in seen)


def _globals(samples: list[tuple[str, np.ndarray, Recipe, bool]], gains: dict[str, dict[str, float | None]],
             switch: SwitchRule) -> Recipe:
    """The shared part of the improved clips' recipes (module docstring)."""
    improved = [r for _, _, r, ok in samples if ok] or [Recipe()]
    med = {k: float(np.median([getattr(r, k) for r in improved]))
           for k in ("segment_length_nm", "iterations", "gain", "max_step_nm", "decay_every", "pw_weight")}
    switched = {}  # the on/off features the rule turns on, at the median settings of the clips that used them
    for key, settings in _SETTINGS.items():
        if _switched_on(key, samples, improved, gains, switch):
            users = [r for r in improved if getattr(r, key) > 0]
            switched.update({k: int(round(float(np.median([getattr(r, k) for r in users])))) for k in settings})
    return Recipe(segment_length_nm=int(round(med["segment_length_nm"])), iterations=int(round(med["iterations"])),
                  gain=round(med["gain"], 2), max_step_nm=round(med["max_step_nm"], 2),
                  decay_every=int(round(med["decay_every"])), pw_weight=round(med["pw_weight"], 2), **switched)


def _prune(nodes: list[TreeNode]) -> list[TreeNode]:
    """Merge sibling leaves whose rounded values agree (the rules would repeat), then renumber depth-first."""
    by_id = {n.id: n for n in nodes}

    def collapse(i: int) -> TreeNode:
        node = by_id[i]
        if node.feature is None:
            return node
        left, right = collapse(int(node.left)), collapse(int(node.right))
        if left.feature is None and right.feature is None and (left.bias_nm, left.epe_target_nm) == (
            right.bias_nm, right.epe_target_nm
        ):
            node = TreeNode(id=i, bias_nm=left.bias_nm, epe_target_nm=left.epe_target_nm, samples=node.samples,
                            clips=node.clips)
        by_id[i] = node
        return node

    collapse(0)
    out: list[TreeNode] = []

    def renumber(i: int) -> int:
        node = by_id[i]
        new_id = len(out)
        out.append(node)
        if node.feature is not None:
            left, right = renumber(int(node.left)), renumber(int(node.right))
            out[new_id] = node.model_copy(update={"id": new_id, "left": left, "right": right})
        else:
            out[new_id] = node.model_copy(update={"id": new_id})
        return new_id

    renumber(0)
    return out


def _depth(nodes: list[TreeNode], i: int = 0) -> int:
    node = nodes[i]
    if node.feature is None:
        return 0
    return 1 + max(_depth(nodes, int(node.left)), _depth(nodes, int(node.right)))


def load_tree(path: str | Path) -> RecipeTree:
    """Read ``recipe_tree.json`` (a file or the folder holding it).

    Raises:
        InputError: no tree there (fit one from a search first).
    """
    p = Path(path)
    p = p / "recipe_tree.json" if p.is_dir() else p
    if not p.is_file():
        raise InputError("tree", str(path), "a recipe_tree.json written by a recipe search and fit (none found)")
    return RecipeTree.model_validate(json.loads(p.read_text()))


def solve_tree(problem: ClipProblem, tree: RecipeTree) -> tuple[RunMetrics, Any]:
    """Run mbopc on the clip with the tree's global settings and per-segment values."""
    return solve(problem, tree.globals, per_segment=lambda topo: tree.segment_values(tree_features(topo)))
