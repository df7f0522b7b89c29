"""Evaluated layouts on disk, keyed by (circuit, technology, model cards, layout options, knob values).

One post-layout evaluation costs 0.1-0.4 s of CPU (placement and ngspice) and a benchmark makes thousands;
optimisers that share an initial design, a quick run followed by a full one, and the layout set all ask for
the same (knobs, placement seed) again. ``EvalStore`` keeps each placement's metrics in one SQLite file
(safe for several processes at once; a row is committed as soon as it is simulated, so an interrupted run
keeps what it paid for). The key hashes everything that fixes the result: the circuit and technology
dataclasses, the model file's contents, the layout options (placement seed included) and the rounded knob
values, plus ``LOOP_VERSION``, bumped whenever placement, routing, extraction or the testbench change.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from tools.analog.spice import Performance

__all__ = ("LOOP_VERSION", "EvalStore", "StoredEval")

LOOP_VERSION = 1
"""Bump when the placer, router, extraction or testbench change what an evaluation returns."""


@dataclass(frozen=True)
class StoredEval:
    """One placement's outcome: what ``Trial`` needs, and the seconds it cost when it was simulated."""

    performance: Performance
    converged: bool
    area_um2: float
    seconds: float


@dataclass
class EvalStore:
    """A key -> ``StoredEval`` table in ``path`` (created on first use); ``hits``/``misses`` count lookups."""

    path: Path
    hits: int = 0
    misses: int = 0
    _db: sqlite3.Connection | None = field(default=None, repr=False)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60.0)
            self._db.execute("CREATE TABLE IF NOT EXISTS evals (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.commit()
        return self._db

    @staticmethod
    def context(*parts: object) -> str:
        """A digest of what fixes an evaluation besides the knobs (circuit, tech, model text, options)."""
        text = json.dumps([LOOP_VERSION, *(p if isinstance(p, str) else repr(p) for p in parts)])
        return hashlib.sha1(text.encode()).hexdigest()

    @staticmethod
    def key(context: str, values: tuple[float, ...]) -> str:
        return hashlib.sha1(json.dumps([context, list(values)]).encode()).hexdigest()

    def get(self, key: str) -> StoredEval | None:
        row = self._conn().execute("SELECT value FROM evals WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        d = json.loads(row[0])
        return StoredEval(Performance(**d["performance"]), d["converged"], d["area_um2"], d["seconds"])

    def put(self, key: str, ev: StoredEval) -> None:
        value = json.dumps({"performance": ev.performance.model_dump(), "converged": ev.converged,
                            "area_um2": ev.area_um2, "seconds": ev.seconds})
        db = self._conn()
        db.execute("INSERT OR REPLACE INTO evals (key, value) VALUES (?, ?)", (key, value))
        db.commit()

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM evals").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
