"""The package's imports, read from the source (AST; imports inside functions count): no circle, and every import
goes down the floors docs/ARCHITECTURE.md lists, so the file list reads top to bottom."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "audioret"


def modules() -> dict[str, Path]:
    """Every module of the package by its name as ARCHITECTURE.md writes it: ``store/chroma``, ``ui/__init__``."""
    return {str(f.relative_to(PACKAGE).with_suffix("")): f for f in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports, at the top or inside a function; ``from . import x`` names module x."""
    here = name.split("/")[:-1]  # the package the module is in
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1] if node.level > 1 else here
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "audioret":
                target = node.module.split(".")[1:]
            else:
                continue
            found |= {
                _module("/".join(target + [a.name]), known) or _module("/".join(target), known) for a in node.names
            }
        elif isinstance(node, ast.Import):
            found |= {
                _module("/".join(a.name.split(".")[1:]), known)
                for a in node.names
                if a.name.split(".")[0] == "audioret"
            }
    return found - {None, name}


def _module(target: str, known: set[str]) -> str | None:
    """The module a dotted target names: itself, or its package's ``__init__``."""
    if target in known:
        return target
    package = f"{target}/__init__" if target else "__init__"
    return package if package in known else None


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    edges = {name: imports(name, path, known) for name, path in found.items()}
    # a module importing its own package's __init__ (``from . import x`` of a sibling resolves to x) is no edge
    return {
        name: {t for t in targets if not (t.endswith("__init__") and name.startswith(t[: -len("__init__")]))}
        for name, targets in edges.items()
    }


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def floors() -> list[tuple[str, list[str]]]:
    """ARCHITECTURE.md's floors, bottom first: the fenced block under "## Floors", one ``name: modules`` a line."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    block = re.search(r"^## Floors\n.*?^```\n(.*?)^```", text, re.M | re.S)
    assert block, "docs/ARCHITECTURE.md has no fenced block under '## Floors'"
    return [
        (name.strip(), mods.split())
        for name, mods in (line.split(":", 1) for line in block.group(1).splitlines() if line.strip())
    ]


def test_the_package_has_no_import_circle():
    assert circles(graph()) == []


def test_the_circle_finder_finds_one():
    """The check itself can fail: a lazy import back up is a circle."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_import_goes_down_the_documented_floors():
    edges = graph()
    listed = [m for _, mods in floors() for m in mods]
    order = {m: i for i, m in enumerate(listed)}
    empty = {
        m
        for m, p in modules().items()
        if m.endswith("__init__")
        and not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(ast.parse(p.read_text())))
    }
    assert len(order) == len(listed), f"listed twice: {sorted({m for m in listed if listed.count(m) > 1})}"
    assert set(order) <= set(edges), f"listed, not in the package: {sorted(set(order) - set(edges))}"
    assert set(edges) - empty <= set(order), f"in the package, not listed: {sorted(set(edges) - empty - set(order))}"
    up = sorted(f"{m} -> {t}" for m in order for t in edges[m] if t in order and order[t] >= order[m])
    assert up == [], "imports that go up (or sideways to a module listed later) the floors of docs/ARCHITECTURE.md"


def test_no_channel_is_named_in_the_mechanics():
    """Ranking, indexing, the store, the search, the catalog and the library never spell out a channel's name (as
    code: docstrings may): each asks the channels."""
    from audioret.channels.sound import SoundChannel
    from audioret.channels.text import TextChannel

    names = {SoundChannel.name, TextChannel.name}
    mechanics = [m for m in modules() if m.split("/")[0] in ("ranking", "indexing", "store")]
    named = []
    for module in mechanics + ["search", "catalog", "library"]:
        tree = ast.parse(modules()[module].read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        named += [
            f"{module}:{node.lineno} {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in names and id(node) not in docstrings
        ]
    assert named == []


def test_no_module_is_over_400_lines():
    """A module that grows past 400 lines holds more than one job (docs/ARCHITECTURE.md): split it by what it holds."""
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
