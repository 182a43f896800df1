"""The package has no import cycle: the graph of every ``import x`` / ``from x
import y`` between biorel modules (relative imports resolved, imports inside
functions included) is acyclic. Built-in plugins that a registry imports by
name on first look-up (``importlib.import_module``) are not edges: that is the
plugin mechanism. A package importing its own submodules is how it exposes
them; a submodule importing its parent package back is not counted (the parent
is always loaded first)."""

from __future__ import annotations

import ast
from pathlib import Path

import biorel

ROOT = Path(biorel.__file__).parent


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The biorel modules ``path`` imports anywhere (module level or inside a
    function: a lazy import only hides a cycle, it does not remove it)."""
    tree = ast.parse(path.read_text("utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)  # "from . import joint" imports a module
    return {m for m in out if m in modules and m != me}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in ROOT.rglob("*.py")}
    modules = set(paths)
    graph = {m: imports_of(p, modules) for m, p in paths.items()}
    # importing a.b.c runs a/__init__ and a/b/__init__ first
    for m, deps in graph.items():
        for d in list(deps):
            parts = d.split(".")
            deps.update(".".join(parts[:k]) for k in range(1, len(parts)) if ".".join(parts[:k]) in modules and ".".join(parts[:k]) != m)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    colour: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in colour:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if node not in colour:
            found = dfs(node)
            if found:
                return found
    return None


def is_package_parent(a: str, b: str) -> bool:
    return b.startswith(a + ".")


def test_no_import_cycle():
    graph = import_graph()
    # a package's __init__ importing its own submodules is how packages expose them, not a cycle,
    # as long as the submodule does not import the package back
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not is_package_parent(d, m)}
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
