import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_readme_example_is_the_quickstart_script():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## In Python.*?```python\n(.*?)```", readme, re.S).group(1)
    assert block == (ROOT / "examples" / "quickstart.py").read_text()


def test_readme_has_the_install_and_test_commands_ci_runs():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme, re.S)
    assert commands[:2] == [
        'pip install -e ".[cpu]" && lmmlc-train configs/goemotions-minilm-quick.yaml',
        'pip install -e ".[test]" && ruff check . && python -m pytest -q',
    ]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_quickstart_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    probabilities = [float(x) for x in re.findall(r"\d\.\d+", result.stdout.split("tensor")[-1])]
    assert len(probabilities) == 5 and all(0 < p < 1 for p in probabilities)
    assert (tmp_path / "lmmlc-demo" / "modeling_lmmlc.py").exists()
