"""The registry stands on its own: ``predictions`` (one patient's pages) may import it, and no
module of it imports ``predictions``, at module level or inside a function."""

import ast
from pathlib import Path

import pytest

REGISTRY = Path(__file__).resolve().parents[2] / "decision_support" / "registry"
MODULES = sorted(REGISTRY.rglob("*.py"))


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved against its package."""
    package = path.relative_to(REGISTRY.parents[1]).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_registry_app_exists_with_its_models_and_services():
    names = {path.name for path in MODULES}
    assert {"models.py", "services.py", "loading.py", "selectors.py", "views.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REGISTRY)))
def test_no_registry_module_imports_predictions(path):
    assert not {name for name in _imported(path)
                if name.split(".")[:2] == ["decision_support", "predictions"]}
