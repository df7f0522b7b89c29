"""The append-only log of recipe runs per clip, so an interrupted search keeps its runs and resumes.

One JSONL file per clip under ``<run folder>/runs/``; each line is one solver run: the method that asked for
it, its index in that method's budget, the recipe and the metrics. The solver is deterministic, so a run is
looked up by its recipe: a resumed search replays its (seeded) proposals and pays only for the ones that
were never run. A line cut short by an interruption is ignored on reading.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from tools.opc.recipe import ClipProblem, Recipe, RunMetrics, solve

__all__ = ("RunRecord", "RunLog", "log_path")


class RunRecord(BaseModel):
    """One logged solver run."""

    clip: str
    method: str
    index: int
    recipe: Recipe
    metrics: RunMetrics


def log_path(folder: Path, clip: str) -> Path:
    """``<folder>/runs/<clip>.jsonl`` with the clip name made file-safe (``metal:X`` -> ``metal_X``)."""
    return folder / "runs" / (re.sub(r"[^A-Za-z0-9_.-]+", "_", clip) + ".jsonl")


class RunLog:
    """The runs of one clip: read once, appended line by line (flushed after each run)."""

    def __init__(self, folder: Path, clip: str):
        self.path = log_path(folder, clip)
        self.clip = clip
        self.records: list[RunRecord] = []
        self._by_recipe: dict[str, RunMetrics] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    record = RunRecord.model_validate_json(line)
                except ValueError:
                    continue  # a line cut short by an interruption
                self.records.append(record)
                self._by_recipe[_key(record.recipe)] = record.metrics

    def lookup(self, recipe: Recipe) -> RunMetrics | None:
        """Metrics of an earlier run of exactly this recipe, if any."""
        return self._by_recipe.get(_key(recipe))

    def runs(self, method: str) -> list[RunRecord]:
        """This method's runs in order."""
        return [r for r in self.records if r.method == method]

    def evaluator(self, problem: Callable[[], ClipProblem], method: str) -> Callable[[Recipe], RunMetrics]:
        """A function recipe -> metrics counting ``method``'s runs from 0: a run logged at the same index with the
        same recipe is replayed, a recipe run before (by any method) is logged again without solving, anything
        else is solved and logged. ``problem`` is called only when a run must really be made.
        """
        logged = {r.index: r for r in self.runs(method)}
        index = 0

        def evaluate(recipe: Recipe) -> RunMetrics:
            nonlocal index
            old = logged.get(index)
            if old is not None and _key(old.recipe) == _key(recipe):
                index += 1
                return old.metrics
            metrics = self.lookup(recipe)
            if metrics is None:
                metrics = solve(problem(), recipe)[0]
            self._append(RunRecord(clip=self.clip, method=method, index=index, recipe=recipe, metrics=metrics))
            index += 1
            return metrics

        return evaluate

    def _append(self, record: RunRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        cut = self.path.is_file() and self.path.stat().st_size > 0 and not self.path.read_bytes().endswith(b"\n")
        with self.path.open("a") as fh:
            fh.write(("\n" if cut else "") + record.model_dump_json() + "\n")  # never glue onto a cut-short line
            fh.flush()
        self.records.append(record)
        self._by_recipe[_key(record.recipe)] = record.metrics


def _key(recipe: Recipe) -> str:
    return json.dumps(recipe.compact(), sort_keys=True)

