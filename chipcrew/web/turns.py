"""Turns of the web workspace: each runs on a worker thread, and its events are kept for the page to stream.

A turn is started by a POST and runs to the end on its own thread whatever happens to the client: a browser that
closes the tab or loses the connection mid-stream still finds the turn completed and stored in the session. Its
events (route, tool_call, progress, answer or question, error, done) are appended on the event loop's thread, so a
server-sent-event stream reads them without locks and a reconnecting client resumes from the last id it saw.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chipcrew.app import ChipCrew, Turn
from tools.common import ChipCrewError

__all__ = ("TurnLog", "TurnRunner", "sse")

_LOG = logging.getLogger("chipcrew.web")
_PROGRESS_EVERY_S = 0.2  # at most five progress events a second per turn, plus every new message
_KEPT_TURNS = 256  # finished turns whose events stay available for a late or reconnecting stream


@dataclass
class TurnLog:
    """The events of one turn, in order; appended to only on the event loop's thread."""

    id: str
    session: str
    message: str
    started: float = field(default_factory=time.time)
    events: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def append(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append({"id": len(self.events), "event": kind, "data": data, "t": time.time() - self.started})
        self.done = self.done or kind == "done"
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, start: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Every event from index ``start``, waiting for new ones until the turn is done."""
        i = start
        while True:
            while i < len(self.events):
                yield self.events[i]
                i += 1
            if self.done:
                return
            await self._changed.wait()

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "session": self.session, "message": self.message, "done": self.done,
                "events": self.events}


def sse(event: dict[str, Any]) -> str:
    """One server-sent event: ``id``, ``event`` and its JSON ``data`` line."""
    import json

    return f"id: {event['id']}\nevent: {event['event']}\ndata: {json.dumps(event['data'], default=str)}\n\n"


class TurnRunner:
    """Starts turns on a thread pool and keeps their logs.

    Args:
        crew: the app, built once per process; each turn uses :meth:`ChipCrew.for_session`.
        describe: turns a finished :class:`Turn` into the ``answer`` event's data (artefact links added).
        workers: threads for turns; turns of one session still run one at a time (the session lock).
    """

    def __init__(self, crew: ChipCrew, describe: Callable[[Turn], dict[str, Any]], workers: int = 8):
        self.crew = crew
        self.describe = describe
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chipcrew-turn")
        self.logs: OrderedDict[str, TurnLog] = OrderedDict()

    def start(self, session: str, message: str) -> TurnLog:
        """Queue a turn (call on the event loop); its first event, ``accepted``, is there before this returns."""
        loop = asyncio.get_running_loop()
        log = TurnLog(uuid.uuid4().hex, session, message)
        log.append("accepted", {"session": session, "message": message})
        self.logs[log.id] = log
        while len(self.logs) > _KEPT_TURNS and next(iter(self.logs.values())).done:
            self.logs.popitem(last=False)

        def emit(kind: str, data: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(log.append, kind, data)

        self.pool.submit(self._run, self.crew.for_session(session), message, emit)
        return log

    def _run(self, crew: ChipCrew, message: str, emit: Callable[[str, dict[str, Any]], None]) -> None:
        last = {"message": None, "at": 0.0}

        def progress(text: str, fraction: float) -> None:
            now = time.monotonic()
            if text != last["message"] or fraction >= 1.0 or now - last["at"] >= _PROGRESS_EVERY_S:
                last.update(message=text, at=now)
                emit("progress", {"message": text, "fraction": fraction})

        try:
            turn = crew.send(message, progress, emit)
            if turn.question:
                emit("question", {"question": turn.question})
            else:
                emit("answer", self.describe(turn))
        except ChipCrewError as exc:  # bad input, missing data: the user's to fix, shown in the chat
            emit("error", {"message": str(exc)})
        except Exception as exc:  # a failing tool must not take the server down; the session keeps its history
            _LOG.exception("turn of session %r failed", crew.thread_id)
            emit("error", {"message": f"internal error: {type(exc).__name__}: {exc}"})
        finally:
            emit("done", {})

    def shutdown(self) -> None:
        """Let running turns finish (they are stored when they end), then stop the threads."""
        self.pool.shutdown(wait=True)
