"""The registry and every tool's argument schema load without the heavy libraries (the CLI must start fast).

Each check runs in a fresh interpreter: in this test process other tests have long imported torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "torch",
    "transformers",
    "qdrant_client",
    "botorch",
    "gpytorch",
    "scipy",
    "sklearn",
    "matplotlib",
    "gdstk",
    "networkx",
    "gymnasium",
    "stable_baselines3",
    "PIL",
)
REGISTRY = "import agents; specs = agents.registry(); [t.args_model.model_json_schema() for a in specs.values() for t in a.tools]"


def _heavy_after(code: str) -> list[str]:
    """Heavy top-level modules present in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    return sorted(loaded & set(HEAVY))


def test_registry_and_tool_schemas_load_without_heavy_libraries() -> None:
    assert _heavy_after(REGISTRY) == []


@pytest.mark.parametrize("package", ["tools.mixpe", "tools.gnn", "tools.litho", "tools.opc", "tools.docqa",
                                     "tools.analog", "tools.compress"])
def test_tool_packages_import_light(package: str) -> None:
    assert _heavy_after(f"import {package}") == []


def test_a_lazy_export_still_loads_its_engine() -> None:
    assert "torch" in _heavy_after("from tools.litho import LithoSim")
