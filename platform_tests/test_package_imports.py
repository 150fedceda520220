"""Data flows one way: no two packages of `dataplatform` import each other, even indirectly."""

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "platform" / "dataplatform"


def package_of(module: str) -> str | None:
    """`dataplatform.catalog.sink` -> `catalog`; top-level modules are packages of their own."""
    parts = module.split(".")
    return parts[1] if parts[0] == "dataplatform" and len(parts) > 1 else None


def is_part(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").exists()


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def package_imports() -> nx.DiGraph:
    graph = nx.DiGraph()
    for source in PACKAGE.rglob("*.py"):
        module = ".".join(("dataplatform", *source.relative_to(PACKAGE).with_suffix("").parts))
        importer = package_of(module)
        for imported in imported_modules(source):
            target = package_of(imported)
            if importer and target and target != importer and is_part(target):
                graph.add_edge(importer, target)
    return graph


def test_no_import_cycle_between_packages() -> None:
    graph = package_imports()
    cycles = list(nx.simple_cycles(graph))

    assert graph.has_edge("resources", "catalog")  # the graph is really read
    assert cycles == [], f"packages importing each other: {cycles}"


def test_logic_packages_do_not_import_the_definitions() -> None:
    graph = package_imports()
    logic = ["catalog", "cleaning", "demo_api", "entities", "landing", "models", "quality"]

    reaching_defs = [package for package in logic if graph.has_edge(package, "defs")]
    assert reaching_defs == []
