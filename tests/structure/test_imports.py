"""The shape of the code, read from its source: one kernel, capabilities that plug in, no back-edges.

- the kernel (``noc.core``) imports no capability and nothing of the composition root;
- ``collectors`` imports nothing from ``noc``;
- a capability never imports the composition root (``noc.api``, ``noc.cli``, ``noc.demo``, ``noc.capabilities``,
  ``noc.migrations``), and capabilities import each other without a cycle;
- every capability package is enabled in ``noc.capabilities`` and keeps the one inner shape.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from noc.capabilities import ENABLED, enabled
from noc.core.capability import CONVENTIONS

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION = ("noc.api", "noc.cli", "noc.demo", "noc.capabilities", "noc.migrations", "noc.__main__")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (at the top, in functions and under TYPE_CHECKING alike)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from noc import metrics`
    return found


def graph() -> dict[str, set[str]]:
    """Module → the noc / collectors modules it imports."""
    out: dict[str, set[str]] = {}
    for top in ("noc", "collectors"):
        for path in sorted((ROOT / top).rglob("*.py")):
            out[module_name(path)] = {m for m in imports_of(path) if m.split(".")[0] in ("noc", "collectors")}
    return out


def known(module: str, modules: dict[str, set[str]]) -> str:
    """``module`` itself if it is a module, else its package (``from pkg import name`` names an attribute)."""
    return module if module in modules else module.rpartition(".")[0]


def area(module: str) -> str:
    """``kernel``, ``composition``, ``collectors`` or the capability package the module belongs to."""
    if module.startswith("collectors"):
        return "collectors"
    if module == "noc" or module.startswith("noc.core"):
        return "kernel"
    if any(module == c or module.startswith(c + ".") for c in COMPOSITION):
        return "composition"
    return ".".join(module.split(".")[:2])


EDGES = graph()


def offending(rule: str, edges: dict[str, set[str]] = EDGES) -> list[str]:
    """The imports in ``edges`` that break ``rule`` (kernel, collectors or capability)."""
    bad = []
    for source, targets in edges.items():
        for target in {known(t, edges) for t in targets}:
            here, there = area(source), area(target)
            if (rule == "kernel" and here == "kernel" and there not in ("kernel", "collectors")) or (
                rule == "collectors" and here == "collectors" and target.startswith("noc")) or (
                rule == "capability" and here not in ("kernel", "composition", "collectors")
                    and there == "composition"):
                bad.append(f"{source} imports {target}")
    return sorted(bad)


@pytest.mark.parametrize("rule", ["kernel", "collectors", "capability"])
def test_no_back_edges(rule: str) -> None:
    assert offending(rule) == []


def test_capabilities_import_each_other_without_a_cycle() -> None:
    between: dict[str, set[str]] = defaultdict(set)
    for source, targets in EDGES.items():
        for target in targets:
            here, there = area(source), area(known(target, EDGES))
            if here.startswith("noc.") and there.startswith("noc.") and here != there:
                between[here].add(there)
    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        if node in trail:
            pytest.fail("capability import cycle: " + " -> ".join((*trail[trail.index(node):], node)))
        if node in done:
            return
        for nxt in sorted(between.get(node, ())):
            visit(nxt, (*trail, node))
        done.add(node)

    for node in sorted(between):
        visit(node, ())


def test_every_capability_package_is_enabled_and_has_the_one_shape() -> None:
    packages = {f"noc.{p.parent.name}" for p in (ROOT / "noc").glob("*/__init__.py")} - {"noc.core", "noc.migrations"}
    assert packages == set(ENABLED)
    for package, capability in zip(ENABLED, enabled(), strict=True):
        assert (ROOT / package.replace(".", "/") / "service.py").exists(), f"{package} has no service.py"
        for part, pattern in CONVENTIONS.items():
            ref = getattr(capability, part)
            assert ref in (None, pattern.format(package)), f"{package}: {part} lives in {ref}"
            if ref is not None:
                assert capability.part(part) is not None


def test_the_rules_catch_back_edges() -> None:
    """The checker itself finds each kind of back-edge."""
    probes = {
        "kernel": {"noc.core.probe": {"noc.capacity.service"}},
        "collectors": {"collectors.snmp.probe": {"noc.core.db"}},
        "capability": {"noc.polling.probe": {"noc.capabilities"}},
    }
    for rule, edges in probes.items():
        assert offending(rule, {**EDGES, **edges}) == [f"{next(iter(edges))} imports {next(iter(*edges.values()))}"]


def test_the_cli_knows_the_newest_schema_without_alembic() -> None:
    from alembic.script import ScriptDirectory

    from noc.migrations import VERSIONS, head_revision

    alembic_head = ScriptDirectory(str(VERSIONS.parent)).get_current_head()
    assert head_revision() == alembic_head
