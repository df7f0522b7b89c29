"""Checkpointers, the catalogue of saved sessions, and the lock that serialises the turns of one session.

In memory for programmatic use and tests, SQLite for chat sessions that survive restarts (``thread_id`` names a
session). The CLI's ``chat``/``ask --session`` and the web workspace share the same SQLite file, so a session
started in one continues in the other. A turn reads the session's state at its start and writes it at its end:
two turns of one session running at once would each append to the state they read and the later write would
drop the other's turn, so :func:`session_lock` (a file lock, across threads and processes) runs them one after
the other.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

__all__ = (
    "memory_checkpointer",
    "sqlite_checkpointer",
    "list_sessions",
    "touch_session",
    "rename_session",
    "delete_session",
    "session_lock",
)

_CATALOGUE = "chipcrew_sessions"
"""Our table beside LangGraph's: sessions created before their first turn, and when each was last used."""
_READY: set[Path] = set()
"""Database files whose tables this process has made sure of (set-up is a few statements and a commit)."""
_SQLITE_TIMEOUT_S = 30.0  # a CLI process and the web server may write the file at the same moment


def memory_checkpointer() -> BaseCheckpointSaver:
    return InMemorySaver()


def sqlite_checkpointer(path: Path) -> BaseCheckpointSaver:
    """A SQLite-backed saver at ``path`` (created with its folder); ``thread_id`` names a session."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=_SQLITE_TIMEOUT_S)
    # write-ahead log: readers never wait for the writer, and a commit is one append, not a rewrite of the journal
    # (a turn commits 3-4 checkpoints); NORMAL sync is durable across a crash of the process (not of the OS) in WAL
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


@contextmanager
def _db(path: Path) -> Iterator[sqlite3.Connection]:
    """A short-lived connection with the catalogue and LangGraph's tables present, committed on success."""
    if path not in _READY:
        sqlite_checkpointer(path).conn.close()  # creates LangGraph's tables (and turns WAL on) the first time
    with closing(sqlite3.connect(str(path), timeout=_SQLITE_TIMEOUT_S)) as conn, conn:
        if path not in _READY:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {_CATALOGUE} (name TEXT PRIMARY KEY, created REAL, updated REAL)")
            _READY.add(path)
        conn.execute("PRAGMA synchronous=NORMAL")
        yield conn


def list_sessions(path: Path) -> list[dict[str, object]]:
    """Every session in the file, most recently used first: ``[{"name", "created", "updated"}]`` (Unix seconds;
    ``None`` for a session written by a version that kept no catalogue)."""
    if not path.exists():
        return []
    with _db(path) as conn:
        known = {row[0]: row for row in conn.execute(f"SELECT name, created, updated FROM {_CATALOGUE}")}
        for (name,) in conn.execute("SELECT DISTINCT thread_id FROM checkpoints"):
            known.setdefault(name, (name, None, None))
    rows = [{"name": n, "created": c, "updated": u} for n, c, u in known.values()]
    return sorted(rows, key=lambda r: (-(r["updated"] or 0.0), str(r["name"])))


def touch_session(path: Path, name: str) -> None:
    """Record that ``name`` exists (creating it empty if new) and was used now."""
    now = time.time()
    with _db(path) as conn:
        conn.execute(
            f"INSERT INTO {_CATALOGUE} (name, created, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET updated = excluded.updated",
            (name, now, now),
        )


def _exists(conn: sqlite3.Connection, name: str) -> bool:
    catalogued = conn.execute(f"SELECT 1 FROM {_CATALOGUE} WHERE name = ?", (name,)).fetchone()
    return bool(catalogued or conn.execute("SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1", (name,)).fetchone())


def rename_session(path: Path, old: str, new: str) -> None:
    """Give a session a new name (its history moves with it; ``chat --session NEW`` continues it).

    Raises:
        KeyError: no session ``old``. FileExistsError: ``new`` is taken.
    """
    with session_lock(path, old), _db(path) as conn:
        if not _exists(conn, old):
            raise KeyError(old)
        if _exists(conn, new):
            raise FileExistsError(new)
        for table in ("checkpoints", "writes"):
            conn.execute(f"UPDATE {table} SET thread_id = ? WHERE thread_id = ?", (new, old))
        conn.execute(f"DELETE FROM {_CATALOGUE} WHERE name = ?", (old,))
        now = time.time()
        conn.execute(f"INSERT INTO {_CATALOGUE} (name, created, updated) VALUES (?, ?, ?)", (new, now, now))


def delete_session(path: Path, name: str) -> bool:
    """Delete a session and its history; ``False`` when there was none."""
    if not path.exists():
        return False
    with session_lock(path, name), _db(path) as conn:
        found = _exists(conn, name)
        for table in ("checkpoints", "writes"):
            conn.execute(f"DELETE FROM {table} WHERE thread_id = ?", (name,))
        conn.execute(f"DELETE FROM {_CATALOGUE} WHERE name = ?", (name,))
    return found


def session_lock(path: Path, name: str) -> AbstractContextManager[Any]:
    """A file lock (a context manager) held while one turn of session ``name`` in the file ``path`` runs.

    It excludes other threads and other processes alike (``flock`` on a file beside the database), so turns of
    one session run one at a time and each one reads the state the previous one wrote.
    """
    from filelock import FileLock

    folder = path.parent / f"{path.stem}.locks"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(name.encode()).hexdigest()[:24]  # any session name becomes a safe file name
    return FileLock(folder / f"{digest}.lock", thread_local=False)
