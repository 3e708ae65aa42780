"""The architecture rules (docs/architecture.md), checked on the code and proven to fail on a broken tree.

1. ``matching/`` and ``search/`` never import Flask or ``marketplace``.
2. ``commit()`` is called only by the unit of work (``marketplace/services/unit_of_work.py``).
3. The import graph of ``marketplace/`` has no cycle (imports under ``if TYPE_CHECKING`` aside; imports
   inside functions count: they only postpone the cycle).
4. No module of ``marketplace/``, ``matching/`` or ``search/`` passes 500 lines.
5. View and API modules build no query of their own (no ``select()``, ``.query``, ``session.execute``):
   reads live in ``marketplace/queries/``.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("matching", "search")
FORBIDDEN_IN_LIBRARIES = ("flask", "flask_sqlalchemy", "flask_babel", "marketplace")
UNIT_OF_WORK = "marketplace/services/unit_of_work.py"
MAX_LINES = 500
READ_SIDE_FREE = ("marketplace/views", "marketplace/api")


# --- reading the code ----------------------------------------------------------------------------------

def python_files(root: Path, package: str) -> list[Path]:
    return sorted(p for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(tree: ast.AST, module: str, is_package: bool, modules: set[str] | None = None) -> list[str]:
    """The modules imported anywhere in ``tree`` (relative imports resolved), TYPE_CHECKING blocks aside.

    ``from pkg import name`` counts as ``pkg.name`` when that is one of ``modules``, else as ``pkg``.
    """
    found: list[str] = []

    def visit(node):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append(submodule if modules is not None and submodule in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# --- the rules -----------------------------------------------------------------------------------------

def library_violations(root: Path) -> list[str]:
    """Imports of Flask or the app from the Flask-free libraries."""
    bad = []
    for library in LIBRARIES:
        for path in python_files(root, library):
            name = module_name(root, path)
            for imported in imports_of(parse(path), name, path.name == "__init__.py"):
                if imported.split(".")[0] in FORBIDDEN_IN_LIBRARIES:
                    bad.append(f"{path.relative_to(root)} imports {imported}")
    return sorted(set(bad))


def commit_violations(root: Path) -> list[str]:
    """``.commit()`` calls outside the unit of work."""
    bad = []
    for path in python_files(root, "marketplace"):
        if path.relative_to(root).as_posix() == UNIT_OF_WORK:
            continue
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
                bad.append(f"{path.relative_to(root)}:{node.lineno}")
    return bad


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the ``marketplace`` modules it imports."""
    files = {module_name(root, p): p for p in python_files(root, "marketplace")}
    return {name: {imported for imported in imports_of(parse(path), name, path.name == "__init__.py", set(files))
                   if imported in files and imported != name}
            for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def long_modules(root: Path) -> list[str]:
    """Modules over the line limit."""
    bad = []
    for package in ("marketplace", *LIBRARIES):
        for path in python_files(root, package):
            count = len(path.read_text(encoding="utf-8").splitlines())
            if count > MAX_LINES:
                bad.append(f"{path.relative_to(root)} ({count} lines)")
    return bad


def read_side_violations(root: Path) -> list[str]:
    """Views and API handlers that build their own queries."""
    bad = []
    for folder in READ_SIDE_FREE:
        if not (root / folder).exists():
            continue
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(parse(path)):
                where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                    if any(alias.name == "select" for alias in node.names):
                        bad.append(where + " imports select")
                elif isinstance(node, ast.Call):
                    func = node.func
                    if isinstance(func, ast.Name) and func.id == "select":
                        bad.append(where + " select()")
                    elif isinstance(func, ast.Attribute) and func.attr in ("execute", "scalars", "scalar"):
                        if isinstance(func.value, ast.Attribute) and func.value.attr == "session":
                            bad.append(where + f" session.{func.attr}()")
                elif isinstance(node, ast.Attribute) and node.attr == "query" and isinstance(node.value, ast.Name) \
                        and node.value.id[:1].isupper():
                    bad.append(where + f" {node.value.id}.query")
    return bad


# --- the code follows the rules --------------------------------------------------------------------------

def test_libraries_do_not_import_flask_or_the_app():
    assert library_violations(ROOT) == []


def test_only_the_unit_of_work_commits():
    assert commit_violations(ROOT) == []


def test_the_app_has_no_import_cycle():
    assert cycles(import_graph(ROOT)) == []


def test_no_module_passes_the_line_limit():
    assert long_modules(ROOT) == []


def test_views_and_api_build_no_queries():
    assert read_side_violations(ROOT) == []


# --- each rule fails when broken ---------------------------------------------------------------------------

BROKEN = {
    "matching/__init__.py": "",
    "matching/engine.py": "from flask import current_app\n",
    "search/__init__.py": "",
    "search/backend.py": "def f():\n    from marketplace.models import Offer\n",
    "marketplace/__init__.py": "",
    "marketplace/services/__init__.py": "",
    "marketplace/services/unit_of_work.py": "def commit(s):\n    s.commit()\n",
    "marketplace/services/offers.py": textwrap.dedent("""\
        from typing import TYPE_CHECKING
        from marketplace.services import needs
        if TYPE_CHECKING:
            from marketplace.views import catalogue  # type-only: not a cycle
        def publish(session):
            session.commit()
        """),
    "marketplace/services/needs.py": "def f():\n    from marketplace.services.offers import publish\n",
    "marketplace/views/__init__.py": "",
    "marketplace/views/catalogue.py": textwrap.dedent("""\
        from sqlalchemy import select
        from marketplace.extensions import db
        from marketplace.models import Offer
        from marketplace.services import offers
        def listing():
            return db.session.scalars(select(Offer)), Offer.query.all()
        """),
    "marketplace/api/__init__.py": "",
    "marketplace/api/long.py": "x = 1\n" * (MAX_LINES + 1),
}


@pytest.fixture
def broken_tree(tmp_path):
    for relative, text in BROKEN.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_rules_catch_a_broken_tree(broken_tree):
    assert library_violations(broken_tree) == ["matching/engine.py imports flask",
                                               "search/backend.py imports marketplace.models"]
    assert commit_violations(broken_tree) == ["marketplace/services/offers.py:6"]
    assert cycles(import_graph(broken_tree)) == [["marketplace.services.needs", "marketplace.services.offers"]]
    assert long_modules(broken_tree) == [f"marketplace/api/long.py ({MAX_LINES + 1} lines)"]
    found = read_side_violations(broken_tree)
    assert any("imports select" in f for f in found) and any("select()" in f for f in found)
    assert any("session.scalars()" in f for f in found) and any("Offer.query" in f for f in found)
