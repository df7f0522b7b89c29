"""Checkpointers: in memory for programmatic use and tests, SQLite for chat sessions that survive restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

__all__ = ("memory_checkpointer", "sqlite_checkpointer")


def memory_checkpointer() -> BaseCheckpointSaver:
    return InMemorySaver()


def sqlite_checkpointer(path: Path) -> BaseCheckpointSaver:
    """A SQLite-backed saver at ``path`` (created with its folder); ``thread_id`` names a session."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    return saver
