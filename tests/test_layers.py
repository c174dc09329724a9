"""The layer rule (../shared/DESIGN.md), read from the imports of every module of the server.

The packages, from the bottom up, and what each may import besides itself:

    inventory.core        nothing of ours: errors, UIDs, days, CSV, search, admin and API plumbing
    inventory.employees   core
    inventory.items       core, employees
    inventory.loans       core, employees, items
    inventory.masterdata  core, employees, items
    kiosk                 core, employees, items, loans
    inventory.ops         all of the above; the top layer, which nothing imports
    inventory.mfa         core: the staff's second factor (django-otp), mounted by config
    config                the composition root: imports any of them, and nothing imports it

A module of the domain or of the tap path (models, services, rules, and everything else that is
not a door) imports only its own package and the ones its package may, counting the imports
made inside functions. A door (admin pages, API views, serializers, views, URL modules, the
WebSocket's consumer and middleware, management commands, template tags) may read any package
but ops and config.

An import under `if TYPE_CHECKING:` and a string foreign key ("kiosk.Station") do not count.
That is how the one model-level cycle is made: a loan remembers the station it was borrowed at
(Loan.station, LoanEvent.station) and a station remembers the loan its screen can undo
(Station.undoable_loan). kiosk imports loans; loans names kiosk.Station only as a string and
under TYPE_CHECKING, so the loans package never imports kiosk at run time.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("inventory", "kiosk", "config")
BELOW = {
    "inventory.core": set(),
    "inventory.employees": {"inventory.core"},
    "inventory.items": {"inventory.core", "inventory.employees"},
    "inventory.loans": {"inventory.core", "inventory.employees", "inventory.items"},
    "inventory.masterdata": {"inventory.core", "inventory.employees", "inventory.items"},
    "kiosk": {"inventory.core", "inventory.employees", "inventory.items", "inventory.loans"},
    "inventory.ops": {
        "inventory.core",
        "inventory.employees",
        "inventory.items",
        "inventory.loans",
        "inventory.masterdata",
        "kiosk",
    },
    "inventory.mfa": {"inventory.core"},
}
DOOR_FILES = {
    "admin.py",
    "admin_views.py",
    "api.py",
    "station_api.py",
    "serializers.py",
    "views.py",
    "urls.py",
    "api_urls.py",
    "routing.py",
    "consumers.py",
    "middleware.py",
}
DOOR_FOLDERS = {"commands", "templatetags"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """The layer a module belongs to: `inventory.<app>`, `kiosk` or `config`."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "inventory" else parts[0]


def is_door(path: Path) -> bool:
    return path.name in DOOR_FILES or bool(DOOR_FOLDERS & set(path.parent.parts))


def server_modules() -> list[Path]:
    return sorted(
        path
        for top in OURS
        for path in (ROOT / top).rglob("*.py")
        if "migrations" not in path.parts
    )


class _Imports(ast.NodeVisitor):
    """(imported module, line) for every import of ours, in functions too, not under
    `if TYPE_CHECKING:`."""

    def __init__(self, module: str, is_package: bool):
        self.module, self.is_package, self.found = module, is_package, []

    def visit_If(self, node):
        if ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node):
        self.found += [(alias.name, node.lineno) for alias in node.names]

    def visit_ImportFrom(self, node):
        base = node.module or ""
        if node.level:
            here = self.module.split(".")
            parent = here if self.is_package else here[:-1]
            base = ".".join([*parent[: len(parent) - node.level + 1], *filter(None, [base])])
        # `from kiosk import state` imports the module kiosk.state, not only the package.
        self.found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]


def imports_of(path: Path) -> list[tuple[str, int]]:
    visitor = _Imports(module_name(path), path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(), filename=str(path)))
    return [(name, line) for name, line in visitor.found if name.split(".")[0] in OURS]


def violations() -> list[str]:
    found = []
    for path in server_modules():
        module = module_name(path)
        package = package_of(module)
        for imported, line in imports_of(path):
            target = package_of(imported)
            if target == package or package == "config" or imported == "inventory":
                continue  # the root package holds only the version
            where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
            if target in ("inventory.ops", "config"):
                found.append(f"{where}: nothing outside it imports {target}")
            elif not is_door(path) and target not in BELOW[package]:
                found.append(f"{where}: {package} is below {target}")
    return found


def test_every_package_of_the_server_has_a_place_in_the_layers():
    packages = {package_of(module_name(path)) for path in server_modules()}

    assert packages - {"config", "inventory"} == set(BELOW)


def test_no_module_imports_a_layer_above_its_own():
    assert violations() == []


def test_no_modules_import_each_other_in_a_circle():
    graph: dict[str, set[str]] = {}
    for path in server_modules():
        module = module_name(path)
        graph[module] = {
            name
            if name in graph or (ROOT / f"{name.replace('.', '/')}.py").exists()
            else name.rsplit(".", 1)[0]
            for name, _line in imports_of(path)
        } - {module}

    assert _circles(graph) == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


@pytest.mark.parametrize(
    ("module", "bad_import", "reason"),
    [
        ("inventory/items/models.py", "from inventory.loans.models import Loan", "items is below"),
        ("inventory/core/uids.py", "from inventory.items.models import Tag", "core is below"),
        ("kiosk/rules.py", "from inventory.ops.models import BackupRun", "nothing outside"),
    ],
)
def test_the_rule_catches_an_upward_import_even_inside_a_function(
    module, bad_import, reason, tmp_path, monkeypatch
):
    copy = tmp_path / "tree"
    for top in OURS:
        for path in (ROOT / top).rglob("*.py"):
            target = copy / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text())
    planted = copy / module
    planted.write_text(planted.read_text() + f"\n\ndef planted():\n    {bad_import}\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", copy)

    found = violations()

    assert len(found) == 1
    assert found[0].startswith(f"{module}:") and reason in found[0]
