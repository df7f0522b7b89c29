"""eval/ uses other packages through their public surface only: no private module (``x._y``) and no private name
(``from x import _y``) of a package other than eval. import-linter has no contract for this, so the source is read
with ``ast`` here; the layer contracts themselves are in pyproject.toml (``lint-imports``)."""

from __future__ import annotations

import ast
from pathlib import Path

import eval as eval_package

EVAL_DIR = Path(eval_package.__file__).parent


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def private_imports(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: dotted.names`` for each import of something private from a package other than eval."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            dotted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            dotted = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue  # relative imports stay inside eval
        private = [d for d in dotted if d.split(".")[0] != "eval" and any(_private(p) for p in d.split("."))]
        if private:
            found.append(f"{filename}:{node.lineno}: {', '.join(private)}")
    return found


def test_the_checker_finds_each_form_of_private_import() -> None:
    source = (
        "import tools.litho._runs\n"
        "from tools.litho._runs import x\n"
        "from tools.litho import _runs\n"
        "from eval._own import y\n"
        "from .scorers import _helper\n"
        "from __future__ import annotations\n"
        "from tools.common import run_dir\n"
    )
    assert [f.split(":")[1] for f in private_imports(source)] == ["1", "2", "3"]


def test_eval_imports_nothing_private_from_other_packages() -> None:
    files = sorted(EVAL_DIR.rglob("*.py"))
    assert files, f"no eval sources found under {EVAL_DIR}"
    found = [f for path in files for f in private_imports(path.read_text(encoding="utf-8"), str(path.relative_to(EVAL_DIR.parent)))]
    assert found == [], "eval imports private modules or names of other packages:\n" + "\n".join(found)
