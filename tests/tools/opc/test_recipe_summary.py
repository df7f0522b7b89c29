"""The recipe summary: the template is faithful, a planted wrong number or rule is caught, LLM paths."""

from __future__ import annotations

import json

import numpy as np

from tools.opc.recipe import RECIPE_CLASSES, ClassRecipe, Recipe
from tools.opc.recipe_summary import RecipeSummary, TableRow, check_faithfulness, template_summary, write_summary
from tools.opc.recipe_tree import TREE_FEATURES, fit_tree


def _tree():
    feats = np.zeros((60, len(TREE_FEATURES)))
    feats[:20, RECIPE_CLASSES.index("line_end")] = 1
    feats[20:, RECIPE_CLASSES.index("run_iso")] = 1
    feats[:, TREE_FEATURES.index("space_nm")] = 350
    recipe = Recipe(classes={"line_end": ClassRecipe(bias_nm=5, epe_target_nm=1.2)})
    return fit_tree([("metal:A", feats, recipe, True)])


TABLE = [
    TableRow(clip="M1_test1", split="test", recipe="tree", default={"J": 130380, "L2": 39186, "PVB": 88194, "EPE": 5},
             value={"J": 126000, "L2": 38000, "PVB": 85000, "EPE": 5}),
    TableRow(clip="metal:A", split="train", recipe="searched", default={"J": 39574, "L2": 10721, "PVB": 28853, "EPE": 0},
             value={"J": 38000, "L2": 10700, "PVB": 27300, "EPE": 0}),
]


def test_template_summary_is_faithful_and_valid_json() -> None:
    tree = _tree()
    summary = template_summary(tree, TABLE)
    assert check_faithfulness(summary, tree, TABLE) == []
    assert RecipeSummary.model_validate_json(summary.model_dump_json()) == summary
    assert "-3.4%" in summary.headline  # M1_test1: (126000 - 130380) / 130380


def test_a_planted_wrong_number_or_rule_is_reported() -> None:
    tree = _tree()
    good = template_summary(tree, TABLE)
    wrong_prose = good.model_copy(update={"prose": good.prose + " It cuts PV band by 17.3%."})
    assert [(m.where, m.found) for m in check_faithfulness(wrong_prose, tree, TABLE)] == [("prose", "17.3")]
    rules = [r.model_copy(update={"bias_nm": r.bias_nm + 1}) if r.bias_nm else r for r in good.rules]
    found = check_faithfulness(good.model_copy(update={"rules": rules}), tree, TABLE)
    assert [m.where.split(".")[-1] for m in found] == ["bias_nm"]
    finding = good.findings[0].model_copy(update={"recipe": 120000.0})
    found = check_faithfulness(good.model_copy(update={"findings": [finding, *good.findings[1:]]}), tree, TABLE)
    assert {m.where for m in found} == {"findings[0].recipe"}


def test_phrasing_llm_with_an_invented_number_falls_back_to_the_template_and_says_so() -> None:
    tree = _tree()
    outcome = write_summary(tree, TABLE, [], llm=lambda prompt, schema, images: "The recipe is 42% better.")
    assert outcome.backend == "template" and outcome.mismatches == []
    assert [m.found for m in outcome.rejected_draft] == ["42"]
    faithful = write_summary(tree, TABLE, [], llm=lambda p, s, i: "Line ends get a bias of 5 nm.")
    assert faithful.backend == "phrasing" and faithful.summary.prose == "Line ends get a bias of 5 nm."


def test_llm_mode_validates_the_schema_and_checks_the_json() -> None:
    tree = _tree()
    seen: list = []

    def llm(prompt: str, schema: dict | None, images: list[str]) -> str:
        seen.append((schema, images))
        data = template_summary(tree, TABLE).model_dump()
        data["globals"]["iterations"] = 99.0
        return json.dumps(data)

    outcome = write_summary(tree, TABLE, ["a.png"], llm=llm, mode="llm")
    assert seen[0][0] == RecipeSummary.model_json_schema() and seen[0][1] == ["a.png"]
    assert outcome.backend == "llm" and outcome.valid_json
    assert [m.where for m in outcome.mismatches] == ["globals.iterations"]
    broken = write_summary(tree, TABLE, [], llm=lambda p, s, i: "{not json", mode="llm")
    assert not broken.valid_json and broken.backend == "template" and broken.llm_error
