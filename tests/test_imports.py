"""The import graph of course_lib: module-level imports run one way, without cycles.

Layers, lowest first: ``course_lib.common`` (no framework, no backend), the backends
``course_lib.tf`` / ``course_lib.torch`` (never each other, never the chapters), then
``course_lib.chapters``; the package root imports nothing of its own.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "course_lib"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _module_level_imports(path: Path, name: str, modules) -> set:
    """The course_lib modules that ``path`` imports at module level (not inside functions).

    ``from package import module`` counts as an import of that module only (Python runs the
    package's ``__init__`` first for any submodule, which is not a cycle of ours).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()

    def visit(body):
        for node in body:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("course_lib"))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if module.startswith("course_lib"):
                    submodules = {f"{module}.{a.name}" for a in node.names} & set(modules)
                    found.update(submodules)
                    if len(submodules) < len(node.names):  # names defined in `module` itself
                        found.add(module)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
    visit(tree.body)
    return found


@functools.lru_cache(maxsize=1)
def import_graph() -> dict:
    modules = {_module_name(p): p for p in LIB.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in _module_level_imports(path, name, modules) if m in modules and m != name}
    return graph


def _cycle(graph):
    """One cycle as a list of module names, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 40  # the walk found the package
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "root"


ALLOWED = {
    "root": set(),
    "common": {"common"},
    "tf": {"tf", "common"},
    "torch": {"torch", "common"},
    "chapters": {"chapters", "tf", "torch", "common"},
    "doctor": {"doctor", "common"},
    "__main__": {"doctor", "common", "chapters"},
}


@pytest.mark.parametrize("module", sorted(import_graph()))
def test_imports_run_one_way(module):
    layer = _layer(module)
    allowed = ALLOWED.get(layer)
    assert allowed is not None, f"{module}: a new top-level part of course_lib; give it a place in ALLOWED"
    wrong = sorted(m for m in import_graph()[module] if _layer(m) not in allowed)
    assert not wrong, f"{module} ({layer}) imports {wrong}, outside {sorted(allowed)}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
