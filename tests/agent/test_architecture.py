"""The agent installs on a Pi from requirements/agent.txt alone: stdlib + pyscard, no Django."""

import ast
import subprocess
import sys
from pathlib import Path

AGENT = Path(__file__).resolve().parents[2] / "agent"
ALLOWED_THIRD_PARTY = {"smartcard"}


def imports() -> list[tuple[str, str]]:
    """(file, top-level module) for every import in agent/, wherever it sits in the file."""
    found = []
    for path in sorted(AGENT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.append((path.name, node.module.split(".")[0]))
    return found


def test_the_agent_has_modules_to_check():
    assert len({name for name, _ in imports()}) >= 8


def test_no_agent_module_imports_django():
    assert [(name, module) for name, module in imports() if module == "django"] == []


def test_the_agent_imports_only_the_standard_library_and_pyscard():
    allowed = sys.stdlib_module_names | ALLOWED_THIRD_PARTY | {"agent"}

    assert [(name, module) for name, module in imports() if module not in allowed] == []


def test_only_the_reader_module_imports_pyscard():
    assert {name for name, module in imports() if module == "smartcard"} == {"reader.py"}


def test_pyscard_is_not_imported_at_module_level():
    """READER=stdin must run on a machine without pyscard."""
    tree = ast.parse((AGENT / "reader.py").read_text())
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]

    assert all("smartcard" not in ast.unparse(node) for node in top_level)


def test_runs_with_reader_stdin_where_neither_pyscard_nor_django_can_be_imported(agent_env):
    # A None entry in sys.modules makes any import of that name fail, as if not installed.
    blocked = "import sys; sys.modules.update(smartcard=None, django=None); "
    run_check = "from agent.__main__ import main; sys.exit(main(['check']))"

    result = subprocess.run(
        [sys.executable, "-c", blocked + run_check],
        cwd=AGENT.parent,
        env=agent_env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "server:           ok" in result.stdout
