"""No import circles in ``server/`` and ``rooms/``, and the room engine never imports the server.

The graph is read from the source with ``ast``, not by importing: every ``import`` and
``from ... import`` anywhere in a module counts, including those under ``if TYPE_CHECKING:`` and
those inside functions. A circle that only the type checker or a late import sees is still two
modules that cannot be read, tested or changed one without the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "rooms")


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that the module at ``path`` imports, wherever the import is."""
    found: set[str] = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package, up ``level - 1``
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base in known:
                found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    names = set(known)
    return {name: imports_of(path, names) - {name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every circle found by a depth-first walk (each reported once, from where it was entered)."""
    found: list[list[str]] = []
    on_path: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str) -> None:
        state[name] = "open"
        on_path.append(name)
        for target in sorted(edges.get(name, ())):
            if state.get(target) == "open":
                found.append([*on_path[on_path.index(target) :], target])
            elif target not in state:
                visit(target)
        on_path.pop()
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name)
    return found


def test_the_graph_is_read() -> None:
    edges = graph()
    assert "server.hub" in edges["server.node"]  # the reader sees plain imports ...
    assert "server.protocol" in edges["server.ws"]  # ... and ``from server import protocol``


def test_cycles_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    assert cycles(graph()) == []


def test_the_engine_never_imports_the_server() -> None:
    edges = graph()
    leaks = {
        name: sorted(t for t in targets if t.startswith("server"))
        for name, targets in edges.items()
        if name.startswith("rooms")
    }
    assert {name: found for name, found in leaks.items() if found} == {}
