"""Clip uploads: the kind is read from the content (never the name), the file is parsed by the layout readers the
tools use, and it is stored under the session's run folder with a generated name.

No part of the client's file name reaches the file system; it is only echoed back (the page escapes it). A file
that is not a ``.glp``, GDSII or OASIS clip, or one that its reader rejects, is refused with one line saying why.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from tools.common import InputError

__all__ = ("Upload", "sniff", "session_folder", "store_upload")

GDS_MAGIC = b"\x00\x06\x00\x02"  # first record of a GDSII stream: length 6, HEADER (0x00), two-byte int (0x02)
OASIS_MAGIC = b"%SEMI-OASIS\r\n"  # SEMI P39, section 6: the magic bytes that open every OASIS file
_GLP_KEYWORDS = ("RECT", "PGON")
_SUFFIX = {"glp": ".glp", "gds": ".gds", "oas": ".oas"}


@dataclass(frozen=True)
class Upload:
    """A stored clip: where it is, what it is, and the GDS layers (layer, datatype) it holds."""

    path: Path
    kind: str
    shown_name: str
    layers: list[tuple[int, int]]

    def request(self) -> str:
        """A request the page proposes: the OPC engineer optimises the clip (few iterations: an answer in seconds)."""
        layer = f" on layer {self.layers[0][0]}" if self.kind != "glp" and self.layers else ""
        return f"Optimize the clip {self.path}{layer} with DiffOPC for 5 iterations"


def sniff(head: bytes) -> str | None:
    """``glp``, ``gds`` or ``oas`` from a file's first bytes, or ``None``."""
    if head.startswith(GDS_MAGIC):
        return "gds"
    if head.startswith(OASIS_MAGIC):
        return "oas"
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        return None
    words = {line.split()[0] for line in text.splitlines() if line.split()}
    return "glp" if words & set(_GLP_KEYWORDS) else None


def session_folder(home: Path, session: str) -> Path:
    """The run folder of a session's uploads (any session name maps to a safe folder name)."""
    return home / "runs" / f"web-session-{hashlib.sha256(session.encode()).hexdigest()[:16]}"


def store_upload(data: bytes, shown_name: str, home: Path, session: str) -> Upload:
    """Check ``data`` by content, parse it, and keep it as ``<session folder>/uploads/clip-<random>.<kind>``.

    Raises:
        InputError: not a clip file, or a clip its reader rejects (nothing is left on disk then).
    """
    kind = sniff(data[:4096])
    if kind is None:
        raise InputError("upload", shown_name, "a .glp text clip, a GDSII or an OASIS file (checked by content)")
    folder = session_folder(home, session) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"clip-{uuid.uuid4().hex[:12]}{_SUFFIX[kind]}"
    path.write_bytes(data)
    try:
        layers = _check(path, kind, shown_name)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(path, kind, shown_name, layers)


def _check(path: Path, kind: str, shown_name: str) -> list[tuple[int, int]]:
    """Parse the stored file with the readers the tools use; the layers of a GDS/OASIS file."""
    from tools.litho.layout import read_glp

    if kind == "glp":
        try:
            read_glp(path)
        except InputError as exc:
            raise InputError("upload", shown_name, f"a readable .glp clip ({exc})") from exc
        return []
    import gdstk

    try:
        lib = gdstk.read_oas(str(path)) if kind == "oas" else gdstk.read_gds(str(path))
    except Exception as exc:  # gdstk raises bare RuntimeError/ValueError on a damaged stream
        name = "OASIS" if kind == "oas" else "GDSII"
        raise InputError("upload", shown_name, f"a readable {name} file (the reader says: {exc})") from exc
    layers = sorted({(p.layer, p.datatype) for cell in lib.top_level() for p in cell.get_polygons()})
    if not layers:
        raise InputError("upload", shown_name, "a layout with at least one polygon")
    return layers
