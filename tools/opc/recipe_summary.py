"""The recipe summary an OPC engineer reads: structured JSON plus short prose, and its faithfulness check.

Inputs are the fitted tree (``tools.opc.recipe_tree``), the metrics table (per clip: default recipe vs the
searched or tree recipe) and before/after pictures. Three ways to write it:

* ``template``: no LLM; the JSON and the prose are rendered from the tree and the table.
* a phrasing LLM (the embedded 135M model): the JSON is the template's; the model rewrites the prose only.
* a capable LLM (an OpenAI-compatible endpoint): the model writes the whole JSON (constrained by
  :class:`RecipeSummary`'s schema) from the tree, the table and, when the endpoint takes images, the PNGs.

The LLM reaches this module as a plain callable ``llm(prompt, schema, images) -> text`` (schema: a JSON
schema or None; images: PNG paths the caller may attach as image parts or drop).

:func:`check_faithfulness` then verifies every rule (condition and values) against the tree, every table
number against the table, the global settings, and every number in the prose against the numbers the tree
and table hold. Mismatches are returned, never corrected silently; when a phrasing model's prose fails the
check, the template prose is published and the rejected draft's mismatches are reported alongside.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from tools.opc.recipe_tree import RecipeTree

__all__ = (
    "SummaryLLM",
    "TableRow",
    "SummaryRule",
    "SummaryFinding",
    "RecipeSummary",
    "Mismatch",
    "SummaryOutcome",
    "template_summary",
    "check_faithfulness",
    "write_summary",
)

SummaryLLM = Callable[[str, "dict[str, Any] | None", "list[str]"], str]
"""``llm(prompt, json_schema_or_None, png_paths) -> reply text``."""
Metric = Literal["J", "L2", "PVB", "EPE"]


class TableRow(BaseModel):
    """One clip of the metrics table: default recipe vs the recipe being summarised."""

    clip: str
    split: Literal["train", "test"]
    recipe: Literal["searched", "tree"]
    default: dict[str, float] = Field(description="J, L2, PVB, EPE of the default recipe.")
    value: dict[str, float] = Field(description="J, L2, PVB, EPE of the summarised recipe.")

    def change_pct(self, metric: str) -> float:
        base = self.default[metric]
        return round(100.0 * (self.value[metric] - base) / base, 1) if base else 0.0


class SummaryRule(BaseModel):
    rule: int = Field(description="Rule number as in the rule script.")
    condition: str = Field(description="The rule's condition, verbatim from the rule script.")
    bias_nm: int
    epe_target_nm: float
    meaning: str = Field(description="What the rule does to the mask, in a few words.")


class SummaryFinding(BaseModel):
    clip: str
    metric: Metric
    default: float
    recipe: float
    change_pct: float = Field(description="(recipe - default) / default in %, one decimal.")


class RecipeSummary(BaseModel):
    """The structured summary (the JSON schema an LLM is held to)."""

    headline: str = Field(description="One sentence: what the recipe does and how much it gains.")
    globals: dict[str, float] = Field(description="segment_length_nm, iterations, gain, max_step_nm, decay_every, "
                                      "pw_weight, sraf_width_nm, sraf_distance_nm, serif_nm, mousebite_nm.")
    rules: list[SummaryRule]
    findings: list[SummaryFinding] = Field(description="J change per clip of the table, and any metric that got worse.")
    prose: str = Field(description="Three to five sentences for an OPC engineer.")


class Mismatch(BaseModel):
    where: str = Field(description="Path in the summary, e.g. rules[2].bias_nm or prose.")
    found: str
    expected: str


class SummaryOutcome(BaseModel):
    summary: RecipeSummary
    backend: str = Field(description="template, phrasing (the LLM wrote the prose) or llm (the LLM wrote the JSON).")
    valid_json: bool = Field(description="The LLM's reply parsed and validated against the schema (template: True).")
    mismatches: list[Mismatch] = Field(description="Faithfulness-check failures of the published summary.")
    rejected_draft: list[Mismatch] = Field(default_factory=list, description="Mismatches of an LLM prose draft that "
                                           "was replaced by the template prose.")
    llm_error: str | None = None


_GLOBAL_KEYS = ("segment_length_nm", "iterations", "gain", "max_step_nm", "decay_every", "pw_weight", "sraf_width_nm",
                "sraf_distance_nm", "serif_nm", "mousebite_nm")


def _meaning(bias: int, target: float) -> str:
    parts = []
    if bias:
        parts.append(f"start {'out' if bias > 0 else 'in'}ward by {abs(bias)} nm")
    if target:
        parts.append("print beyond the edge" if target > 0 else "print short of the edge")
    return " and ".join(parts) or "plain EPE feedback"


def template_summary(tree: RecipeTree, table: list[TableRow]) -> RecipeSummary:
    """The summary rendered from the tree and table alone."""
    g = tree.globals
    rules = [SummaryRule(rule=r.rule, condition=r.condition, bias_nm=r.bias_nm, epe_target_nm=r.epe_target_nm,
                         meaning=_meaning(r.bias_nm, r.epe_target_nm)) for r in tree.rules()]
    findings: list[SummaryFinding] = []
    for row in table:
        for metric in ("J", "L2", "PVB", "EPE"):
            if metric == "J" or row.value[metric] > row.default[metric]:
                findings.append(SummaryFinding(clip=row.clip, metric=metric, default=row.default[metric],
                                               recipe=row.value[metric], change_pct=row.change_pct(metric)))
    stats = _split_stats(table)
    worse = sorted({f.clip for f in findings if f.metric != "J"})
    parts = []
    if "test" in stats:
        n, mean, worst = stats["test"]
        parts.append(f"on {n} held-out clips the tree's recipe changes J by {mean:+.1f}% on average against the default "
                     f"mbopc recipe (worst clip {worst:+.1f}%)")
    if "train" in stats:
        n, mean, _ = stats["train"]
        parts.append(f"the searched recipes it was fitted on change J by {mean:+.1f}% on {n} training clips")
    headline = f"Recipe tree with {len(rules)} rules (depth {tree.depth}): " + "; ".join(parts) + "."
    active = [r for r in tree.rules() if r.bias_nm or r.epe_target_nm]
    prose = [headline,
             f"It fragments edges at {g.segment_length_nm} nm and runs {g.iterations} rounds at gain {g.gain:g} "
             f"with steps up to {g.max_step_nm:g} nm halved every {g.decay_every} rounds, feeding back the "
             f"dose/focus corners' edges at weight {g.pw_weight:g}; "
             + (f"assist bars {g.sraf_width_nm} nm wide are placed {g.sraf_distance_nm} nm from isolated edges."
                if g.sraf_width_nm else "no assist bars.")
             + (f" Outer corners get serifs of half-size {g.serif_nm} nm." if g.serif_nm else "")
             + (f" Inner corners get mousebites of half-size {g.mousebite_nm} nm." if g.mousebite_nm else "")]
    if active:
        top = max(active, key=lambda r: r.segments)
        prose.append(f"Its most used non-default rule is rule {top.rule} ({top.condition}): bias {top.bias_nm:+d} nm, "
                     f"EPE target {top.epe_target_nm:+.1f} nm.")
    prose.append(f"Some metric got worse than the default on: {', '.join(worse)}." if worse else
                 "No clip got worse than the default in L2, PV band or EPE.")
    return RecipeSummary(headline=headline, globals={k: float(getattr(g, k)) for k in _GLOBAL_KEYS}, rules=rules,
                         findings=findings, prose=" ".join(prose))


_NUMBER = re.compile(r"(?<![\w.])[+-]?\d[\d,]*(?:\.\d+)?")


def _allowed_numbers(tree: RecipeTree, table: list[TableRow]) -> set[float]:
    """Every number the summary may quote: tree values, thresholds, counts, table values and changes."""
    nums: set[float] = {float(tree.depth), float(len(tree.rules())), float(len(tree.trained_on)), float(len(table))}
    g = tree.globals
    nums |= {float(getattr(g, k)) for k in _GLOBAL_KEYS}
    for r in tree.rules():
        nums |= {float(r.rule), float(r.bias_nm), float(abs(r.bias_nm)), r.epe_target_nm, abs(r.epe_target_nm),
                 float(r.segments)}
    for n in tree.nodes:
        if n.threshold is not None:
            nums.add(float(n.threshold))
    for row in table:
        for metric in ("J", "L2", "PVB", "EPE"):
            nums |= {row.default[metric], row.value[metric], row.change_pct(metric), abs(row.change_pct(metric))}
    for n, mean, worst in _split_stats(table).values():
        nums |= {float(n), mean, abs(mean), worst, abs(worst)}
    return {round(x, 2) for x in nums}


def _split_stats(table: list[TableRow]) -> dict[str, tuple[int, float, float]]:
    """Per split: (clips, mean J change %, worst J change %), rounded to 0.1 as the prose prints them."""
    out = {}
    for split in ("test", "train"):
        changes = [row.change_pct("J") for row in table if row.split == split]
        if changes:
            out[split] = (len(changes), round(sum(changes) / len(changes), 1), max(changes))
    return out


def check_faithfulness(summary: RecipeSummary, tree: RecipeTree, table: list[TableRow]) -> list[Mismatch]:
    """Every rule, global, table number and prose number of ``summary`` checked against the tree and table."""
    out: list[Mismatch] = []
    rules = {r.rule: r for r in tree.rules()}
    for i, r in enumerate(summary.rules):
        truth = rules.get(r.rule)
        if truth is None:
            out.append(Mismatch(where=f"rules[{i}].rule", found=str(r.rule), expected=f"one of 1..{len(rules)}"))
            continue
        for key in ("condition", "bias_nm", "epe_target_nm"):
            if getattr(r, key) != getattr(truth, key):
                out.append(Mismatch(where=f"rules[{i}].{key}", found=str(getattr(r, key)), expected=str(getattr(truth, key))))
    g = tree.globals
    for key in _GLOBAL_KEYS:
        if key not in summary.globals or round(summary.globals[key], 2) != round(float(getattr(g, key)), 2):
            out.append(Mismatch(where=f"globals.{key}", found=str(summary.globals.get(key)), expected=str(getattr(g, key))))
    rows = {row.clip: row for row in table}
    for i, f in enumerate(summary.findings):
        row = rows.get(f.clip)
        if row is None:
            out.append(Mismatch(where=f"findings[{i}].clip", found=f.clip, expected="a clip of the table"))
            continue
        for key, truth in (("default", row.default[f.metric]), ("recipe", row.value[f.metric]),
                           ("change_pct", row.change_pct(f.metric))):
            if round(getattr(f, key), 1) != round(truth, 1):
                out.append(Mismatch(where=f"findings[{i}].{key}", found=str(getattr(f, key)), expected=str(truth)))
    allowed = _allowed_numbers(tree, table)
    for field in ("headline", "prose"):
        for token in _NUMBER.findall(getattr(summary, field)):
            value = round(float(token.replace(",", "")), 2)
            if value not in allowed and abs(value) not in allowed:
                out.append(Mismatch(where=field, found=token, expected="a number of the tree or the table"))
    return out


def write_summary(
    tree: RecipeTree,
    table: list[TableRow],
    images: list[str],
    llm: SummaryLLM | None = None,
    mode: Literal["phrasing", "llm"] = "phrasing",
    instructions: str = "",
) -> SummaryOutcome:
    """Summarise the tree and table (module docstring for the three ways); always faithfulness-checked.

    Args:
        tree, table: what is summarised.
        images: before/after PNG paths (sent only in ``llm`` mode, and only if the callable attaches them).
        llm: the callable, or None for the template.
        mode: ``phrasing`` (the LLM rewrites the prose) or ``llm`` (the LLM writes the JSON).
        instructions: the system instructions (``prompts/recipe_summary.txt``, loaded by the caller).
    """
    base = template_summary(tree, table)
    if llm is None:
        return SummaryOutcome(summary=base, backend="template", valid_json=True,
                              mismatches=check_faithfulness(base, tree, table))
    facts = json.dumps({"rule_script": tree.rule_script(), "table": [r.model_dump() for r in table],
                        "template_summary": base.model_dump()}, indent=1)
    if mode == "llm":
        prompt = f"{instructions}\n\nWrite the summary JSON.\n\nFACTS:\n{facts}"
        try:
            reply = llm(prompt, RecipeSummary.model_json_schema(), images)
            summary = RecipeSummary.model_validate_json(reply)
        except (ValidationError, ValueError) as err:
            return SummaryOutcome(summary=base, backend="template", valid_json=False,
                                  mismatches=check_faithfulness(base, tree, table), llm_error=str(err)[:300])
        return SummaryOutcome(summary=summary, backend="llm", valid_json=True,
                              mismatches=check_faithfulness(summary, tree, table))
    prompt = (f"{instructions}\n\nRewrite this paragraph for an OPC engineer in plain words. Keep every number "
              f"exactly as written and add no new number.\n\n{base.prose}")
    try:
        draft = llm(prompt, None, []).strip()
    except Exception as err:  # a failing phrasing model must not lose the template summary
        return SummaryOutcome(summary=base, backend="template", valid_json=True,
                              mismatches=check_faithfulness(base, tree, table), llm_error=str(err)[:300])
    phrased = base.model_copy(update={"prose": draft or base.prose})
    found = check_faithfulness(phrased, tree, table)
    if found:
        return SummaryOutcome(summary=base, backend="template", valid_json=True,
                              mismatches=check_faithfulness(base, tree, table), rejected_draft=found)
    return SummaryOutcome(summary=phrased, backend="phrasing", valid_json=True, mismatches=[])
