"""The wheel works without the checkout: build it, install it into a fresh venv outside the tree, and run
``chipcrew agents --json`` and one ``chipcrew ask`` there from a folder outside the checkout.

The fresh venv sees the project's already-installed dependencies through a ``.pth`` line naming this
interpreter's site-packages; a plain path line does not process the ``.pth`` files inside that folder, so the
editable install of the checkout stays invisible and ``chipcrew`` can only come from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MIXPE_REQUEST = "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?"
# What a wheel build reads from the tree; caches, environments and outputs stay behind.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", "tests", "runs", "out", ".eval",
    ".pytest_cache", ".hypothesis", ".import_linter_cache",
)


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    assert "Traceback" not in done.stderr, done.stderr[-4000:]
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of the source (a build writes egg-info and build/ in its tree)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE, symlinks=True)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(tmp / "dist"), str(source)], cwd=tmp)
    (built,) = (tmp / "dist").glob("chipcrew-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with only the wheel installed, and this environment's dependencies."""
    where = tmp_path_factory.mktemp("venv") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(where)], cwd=where.parent)
    python = where / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
         cwd=where.parent)
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=where).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "chipcrew-dependencies.pth").write_text("\n".join(ours) + "\n")
    return where


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("CHIPCREW_")}
    return {**env, "PYTHONNOUSERSITE": "1", "CHIPCREW_LLM_BACKEND": "none", "CHIPCREW_HOME": str(tmp / "home"),
            "CHIPCREW_CONFIG": str(tmp / "no-config.toml")}


def test_the_wheel_holds_the_prompts_the_shipped_docs_and_their_licences(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    prompts = {f"prompts/{p.name}" for p in (ROOT / "prompts").glob("*.txt")}
    docs_root = ROOT / "tools" / "docqa" / "openroad-docs"
    docs = {p.relative_to(ROOT).as_posix() for p in docs_root.rglob("*") if p.is_file()}
    assert prompts and prompts <= names
    assert docs <= names, sorted(docs - names)
    assert {"tools/docqa/openroad-docs/OpenROAD/LICENSE", "tools/docqa/openroad-docs/SOURCES.txt",
            "tools/docqa/openroad-docs/OpenROAD-flow-scripts/LICENSE_BUILD_RUN_SCRIPTS"} <= names
    assert {f"eval/datasets/{p.name}" for p in (ROOT / "eval" / "datasets").glob("*.jsonl")} <= names
    assert not any(n.startswith("tests/") for n in names)
    static = {p.relative_to(ROOT).as_posix() for p in (ROOT / "chipcrew" / "web" / "static").iterdir()}
    assert {"chipcrew/web/static/index.html", "chipcrew/web/static/workspace.js"} <= static <= names  # the web page


def test_the_installed_wheel_answers_outside_the_checkout(venv: Path, tmp_path: Path) -> None:
    env, bin_dir = _env(tmp_path), venv / "bin"
    where = json.loads(_run([str(bin_dir / "python"), "-c", (
        "import json, chipcrew.cli, prompts, tools.docqa.store as store; "
        "print(json.dumps({'chipcrew': chipcrew.cli.__file__, 'prompts': prompts.__file__, "
        "'names': prompts.prompt_names(), 'docs': str(store.SHIPPED_DOCS), 'docs_ok': store.SHIPPED_DOCS.is_dir()}))"
    )], cwd=tmp_path, env=env).stdout)
    for key in ("chipcrew", "prompts", "docs"):
        assert Path(where[key]).resolve().is_relative_to(venv.resolve()), f"{key} came from {where[key]}, not the wheel"
    assert where["docs_ok"] and where["names"] == sorted(p.stem for p in (ROOT / "prompts").glob("*.txt"))

    listing = json.loads(_run([str(bin_dir / "chipcrew"), "agents", "--json"], cwd=tmp_path, env=env).stdout)
    assert len(listing) == 5 and all(a["tools"] for a in listing)
    assert "mixpe_perf" in {t["name"] for a in listing for t in a["tools"]}

    turn = json.loads(_run([str(bin_dir / "chipcrew"), "ask", MIXPE_REQUEST, "--json"], cwd=tmp_path, env=env).stdout)
    assert turn["agent"] == "hardware_architect" and turn["tool_calls"][0]["tool"] == "mixpe_perf"
    assert "faster than the INT8 array" in turn["answer"]
    artifacts = [Path(p) for p in turn["result"]["artifacts"].values()]
    assert artifacts and all(p.is_file() and (tmp_path / "home") in p.parents for p in artifacts)
