"""The package's shape stays as docs describe it: no two modules import each other (not even late, inside a
function), and no folder imports a folder that imports it back."""

import ast
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tweet_sentiment"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its body."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def _folder(module: str) -> str | None:
    """The sub-package a module sits in; None for the modules at the top of the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


def test_no_module_imports_a_module_that_imports_it_back():
    try:
        TopologicalSorter(imports()).prepare()
    except CycleError as error:
        raise AssertionError(f"an import circle: {' -> '.join(error.args[1])}") from None


def test_folders_import_each_other_in_one_direction_only():
    folders: dict[str, set[str]] = defaultdict(set)
    for module, targets in imports().items():
        for target in targets:
            if None not in (_folder(module), _folder(target)) and _folder(module) != _folder(target):
                folders[_folder(module)].add(_folder(target))
    try:
        TopologicalSorter(folders).prepare()
    except CycleError as error:
        raise AssertionError(f"folders that import each other: {' -> '.join(error.args[1])}") from None
