from __future__ import annotations

import re
from pathlib import Path

import tools.litho

README = Path(tools.litho.__file__).parent / "README.md"


def test_readme_python_example_runs(litho_data: None, tmp_path, monkeypatch) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert namespace["theta"].grad is not None and namespace["theta"].grad.abs().sum() > 0
    assert namespace["metrics"].l2 == 116661 and namespace["metrics"].epe_contest == 82
    assert (tmp_path / "mask.gds").is_file()
