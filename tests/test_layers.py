"""Imports flow one way: entry points → pipeline → engines → stores → notify → keys → hls → storage → aliyun → domain.

A module may import its own package and any package below it, never one above; no import of an
hlskit module hides inside a function (that is how cycles get dodged); only the entry points read
the config; and the module graph has no cycle. No module is much over 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "hlskit"
LAYERS = ["cli", "server", "pipeline", "engines", "stores", "notify", "keys", "hls", "storage", "aliyun", "domain"]
ENTRY_POINTS = {"cli", "server"}
MAX_LINES = 420


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path) -> list[tuple[str, bool, int]]:
    """(imported hlskit module, inside a function?, line) for every import in the file."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.split(".")[0] == "hlskit":
                    for alias in child.names:  # `from . import x` may name a submodule
                        sub = f"{target}.{alias.name}"
                        found.append((sub if sub in MODULES else target, in_function, child.lineno))
            elif isinstance(child, ast.Import):
                found.extend((a.name, in_function, child.lineno) for a in child.names if a.name.startswith("hlskit"))
            visit(child, nested)

    visit(tree, False)
    return found


MODULES = _modules()


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_imports_go_down_the_layers_only():
    wrong = []
    for name, path in MODULES.items():
        mine = _layer(name)
        for target, _, line in _imports(name, path):
            theirs = _layer(target)
            if mine and theirs and mine != theirs and LAYERS.index(theirs) < LAYERS.index(mine):
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line} imports {target} ({theirs} is above {mine})")
            if target == "hlskit.config" and mine not in ENTRY_POINTS:
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line} reads the config: only cli/ and server/ may")
    assert wrong == []


def test_no_hlskit_import_inside_a_function():
    hidden = [
        f"{path.relative_to(ROOT.parent)}:{line} imports {target} inside a function"
        for name, path in MODULES.items()
        if name != "hlskit"  # hlskit/__init__ resolves names lazily
        for target, in_function, line in _imports(name, path)
        if in_function
    ]
    assert hidden == []


def test_module_graph_has_no_cycle():
    graph = {
        name: {t for t, _, _ in _imports(name, path) if t in MODULES and t != name} for name, path in MODULES.items()
    }
    # A package's __init__ importing its own submodules is how packages expose names, not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend(stack[stack.index(nxt) :] + [node, nxt] if nxt in stack else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, stack + [node]):
                return True
        state[node] = 2
        return False

    for name in sorted(graph):
        if state.get(name) is None and visit(name, []):
            break
    assert cycle == []


def test_the_check_itself_sees_a_forbidden_import(tmp_path):
    """The rule is live: an upward import written into a domain module would be reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ..pipeline import run_package\n\ndef f():\n    from ..cli import main\n")
    found = _imports("hlskit.domain.bad", bad)
    assert ("hlskit.pipeline", False, 1) in found and ("hlskit.cli", True, 4) in found


def test_no_module_is_much_over_400_lines():
    long = {
        str(p.relative_to(ROOT.parent)): n
        for p in MODULES.values()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
