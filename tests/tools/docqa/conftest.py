"""Fixtures for the doc-QA tests: a tiny markdown corpus and the offline MiniLM embedder, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

GPL = """# Global Placement

The global placement module in OpenROAD (`gpl`) is based on the open-source RePlAce tool.

## Commands

### Global Placement

When using the `-timing_driven` flag, `gpl` does a virtual `repair_design` to find slacks.

```
global_placement
    [-timing_driven]
    [-density target_density]
```

| Switch Name | Description |
| ----- | ----- |
| `-density` | Set target density. The default value is `0.7` (i.e., 70%). Allowed values are floats `[0, 1]`. |
| `-skip_io` | Flag to ignore the IO ports when computing wirelength during placement. |
"""

GRT = """# Global Routing

The global routing module in OpenROAD (`grt`) is based on FastRoute.

## Commands

### Set Routing Alpha

This command sets the alpha of the Prim-Dijkstra trade-off for the Steiner trees of a net.

```
set_routing_alpha
    [-net net_name]
    [-min_fanout fanout]
    alpha
```

| Switch Name | Description |
| ----- | ----- |
| `-net` | Net name. |
| `-min_fanout` | Set the minimum number of pins a net must have to use this alpha. |
"""

INSTALL = """# Build OpenROAD

## Install dependencies

Run the script `etc/DependencyInstaller.sh` to install the packages that OpenROAD needs.
Then build with cmake and make, or use the docker image.
"""


@pytest.fixture
def docs_folder(tmp_path: Path) -> Path:
    """Three short tool READMEs in nested folders, like the OpenROAD source tree."""
    root = tmp_path / "docs"
    for rel, text in (("src/gpl/README.md", GPL), ("src/grt/README.md", GRT), ("docs/user/Build.md", INSTALL)):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def sample_sections() -> list[tuple[str, str, str, str]]:
    """``(chunk_id, source, heading, text)`` of two retrieved sections, best first."""
    return [
        ("src/gpl/README.md#2", "src/gpl/README.md", "Global Placement > Commands > Global Placement", GPL),
        ("src/grt/README.md#2", "src/grt/README.md", "Global Routing > Commands > Set Routing Alpha", GRT),
    ]


@pytest.fixture(scope="session")
def embedder():
    from tools.embedding import load_embedder

    return load_embedder()
