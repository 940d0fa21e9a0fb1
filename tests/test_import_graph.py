"""The project's imports run one way: no cycles, plain packages below Django, views at the top.

Every ``.py`` file of ``decision_support``, ``models`` and ``synthetic_data`` (migrations
included) is parsed with ``ast``; every import is read, also one inside a function or method, and
relative ones are resolved. ``from pkg import name`` imports ``pkg`` (its ``__init__``) and, when
``name`` is a submodule, that submodule too. The imports that name project modules make the graph.

It fails, naming the modules and the import lines, on:

- a cycle (a strongly connected component of more than one module);
- ``synthetic_data`` importing ``models``, ``decision_support`` or ``django``; ``models`` importing
  ``decision_support`` or ``django``; ``decision_support.lib`` importing the rest of
  ``decision_support``;
- a module other than a URL module (``urls.py``, ``*_urls.py``) importing a view module
  (``views.py``, ``*_views.py``);
- an import of a project module inside a function, unless ``IN_FUNCTION_ALLOWED`` says why.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGES = ("decision_support", "models", "synthetic_data")

# (module, function) -> why its imports of project modules must wait until it runs.
IN_FUNCTION_ALLOWED = {
    ("decision_support.accounts.apps", "AccountsConfig.ready"):
        "Django registers system checks in AppConfig.ready(), once every app is loaded",
    ("decision_support.gunicorn.conf", "when_ready"):
        "gunicorn reads its config file before Django is set up; the hook runs after the app is "
        "loaded",
}

# Package -> packages it must never import (its own modules excepted).
FORBIDDEN = {
    "synthetic_data": ("models", "decision_support", "django"),
    "models": ("decision_support", "django"),
    "decision_support.lib": ("decision_support",),  # plain helpers every app may import
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # an imported module (project or not)
    line: int
    text: str  # the import statement as written
    function: str | None  # the enclosing function's qualified name, if any

    def __str__(self):
        return f"{self.source}:{self.line}: {self.text}"


def module_names(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted name -> file, for every ``.py`` file below the packages (``pkg/__init__.py`` is
    ``pkg``)."""
    names = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names[".".join(parts)] = path
    return names


class _Reader(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, source: str, known: dict[str, Path]):
        self.module, self.source, self.known = module, source, known
        self.package = module if is_package else module.rpartition(".")[0]
        self.scope: list[str] = []
        self.functions: list[str] = []
        self.imports: list[Import] = []

    def _add(self, node, targets):
        function = ".".join(self.scope) if self.functions else None
        text = " ".join(ast.get_source_segment(self.source, node).split())
        self.imports += [Import(self.module, t, node.lineno, text, function) for t in targets]

    def _scoped(self, node, is_function):
        self.scope.append(node.name)
        if is_function:
            self.functions.append(node.name)
        self.generic_visit(node)
        self.scope.pop()
        if is_function:
            self.functions.pop()

    def visit_ClassDef(self, node):
        self._scoped(node, is_function=False)

    def visit_FunctionDef(self, node):
        self._scoped(node, is_function=True)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node):
        self._add(node, [alias.name for alias in node.names])

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.package.split(".")
            base = base[:len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module
        submodules = [f"{module}.{alias.name}" for alias in node.names
                      if f"{module}.{alias.name}" in self.known]
        self._add(node, [module, *submodules])


def read_imports(root: Path, packages=PACKAGES) -> tuple[dict[str, Path], list[Import]]:
    """Every module below the packages, and every import they make."""
    known = module_names(root, packages)
    imports = []
    for module, path in known.items():
        source = path.read_text(encoding="utf-8")
        reader = _Reader(module, path.name == "__init__.py", source, known)
        reader.visit(ast.parse(source, filename=str(path)))
        imports += reader.imports
    return known, imports


def cycles(known: dict[str, Path], imports: list[Import]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    edges: dict[str, set[str]] = {module: set() for module in known}
    for i in imports:
        if i.target in known:
            edges[i.source].add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(edges[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(found)


def cycle_report(known, imports) -> list[str]:
    return [" <-> ".join(component) + "\n" + "\n".join(
        f"    {i}" for i in imports if i.source in component and i.target in component)
        for component in cycles(known, imports)]


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def forbidden_imports(imports, layers=FORBIDDEN) -> list[Import]:
    return [i for i in imports for layer, above in layers.items()
            if _under(i.source, layer) and not _under(i.target, layer)
            and any(_under(i.target, package) for package in above)]


def is_view_module(module: str) -> bool:
    last = module.rpartition(".")[2]
    return last == "views" or last.endswith("_views")


def is_url_module(module: str) -> bool:
    last = module.rpartition(".")[2]
    return last == "urls" or last.endswith("_urls")


def view_imports(known, imports) -> list[Import]:
    return [i for i in imports if i.target in known and is_view_module(i.target)
            and not is_url_module(i.source)]


def in_function_imports(known, imports, allowed=IN_FUNCTION_ALLOWED) -> list[Import]:
    return [i for i in imports if i.function and i.target in known
            and (i.source, i.function) not in allowed]


def _failure(title, problems) -> str:
    lines = dict.fromkeys(str(p) for p in problems)  # ``from pkg import sub``: one line, two targets
    return f"{title}:\n" + "\n".join(f"  {line}" for line in lines)


@pytest.fixture(scope="module")
def project():
    return read_imports(REPOSITORY)


def test_no_module_imports_itself_through_others(project):
    found = cycle_report(*project)
    assert not found, _failure("import cycles", found)


def test_plain_packages_import_nothing_above_them(project):
    found = forbidden_imports(project[1])
    assert not found, _failure(f"imports across the layers {FORBIDDEN}", found)


def test_only_url_modules_import_views(project):
    found = view_imports(*project)
    assert not found, _failure("view modules imported outside a urls.py", found)


def test_no_project_import_waits_inside_a_function(project):
    found = in_function_imports(*project)
    assert not found, _failure("project imports inside functions (move them to the top, or add "
                               "the function to IN_FUNCTION_ALLOWED with the reason)", found)


def test_every_allowed_function_still_imports_inside(project):
    """An allow-list entry whose function no longer imports anything is stale."""
    used = {(i.source, i.function) for i in project[1] if i.function and i.target in project[0]}
    assert set(IN_FUNCTION_ALLOWED) <= used, set(IN_FUNCTION_ALLOWED) - used


# The checker itself, on small made-up packages: each shape of a defect is found.

def _tree(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return read_imports(tmp_path, packages=("app", "models", "synthetic_data"))


INIT = {"app/__init__.py": "", "app/sub/__init__.py": ""}


@pytest.mark.parametrize("files", [
    {"app/a.py": "from app.b import x\n", "app/b.py": "import app.a\n"},
    {"app/a.py": "from . import b\n", "app/b.py": "from .a import x\n"},
    {"app/a.py": "def f():\n    from .b import x\n", "app/b.py": "from app import a\n"},
    {"app/a.py": "class C:\n    def m(self):\n        import app.sub.c\n",
     "app/sub/c.py": "from ..a import C\n"},
    {"app/sub/__init__.py": "from .c import y\n", "app/sub/c.py": "from app.sub import d\n",
     "app/sub/d.py": "from app.sub import y\n"},
], ids=["absolute", "relative", "in-function", "in-method-parent-package", "package-init"])
def test_a_cycle_is_found_however_it_is_written(tmp_path, files):
    known, imports = _tree(tmp_path, {**INIT, **files})
    assert len(cycles(known, imports)) == 1
    assert cycle_report(known, imports)[0].count(":") >= 2  # each import line is named


def test_a_one_way_tree_has_no_cycle(tmp_path):
    known, imports = _tree(tmp_path, {**INIT, "app/a.py": "from .sub import c\nimport app.b\n",
                                      "app/b.py": "from app.sub.c import x\n",
                                      "app/sub/c.py": "import os\nx = 1\n"})
    assert cycles(known, imports) == []


@pytest.mark.parametrize("source, text, found", [
    ("synthetic_data/g.py", "from models import features\n", 1),
    ("synthetic_data/g.py", "import app.x\n", 1),
    ("synthetic_data/g.py", "def f():\n    from django.db import models\n", 1),
    ("synthetic_data/g.py", "from .h import x\nimport numpy\n", 0),
    ("models/f.py", "from app.x import y\n", 1),
    ("models/f.py", "import django\n", 1),
    ("models/f.py", "from synthetic_data import ARMS\n", 0),
    ("app/sub/c.py", "from ..b import x\n", 1),
    ("app/sub/c.py", "from .d import x\nfrom django.db import models\n", 0),
    ("app/b.py", "from app.sub.c import x\n", 0),
])
def test_an_import_of_a_layer_above_is_found(tmp_path, source, text, found):
    layers = {"synthetic_data": ("models", "app", "django"), "models": ("app", "django"),
              "app.sub": ("app",)}
    _, imports = _tree(tmp_path, {**INIT, "models/__init__.py": "", "synthetic_data/__init__.py": "",
                                  source: text})
    assert len(forbidden_imports(imports, layers)) == found


@pytest.mark.parametrize("source, text, found", [
    ("app/selectors.py", "from .views import page\n", 1),
    ("app/views.py", "from app.other_views import page\n", 1),
    ("app/services.py", "from app import views\n", 1),
    ("app/urls.py", "from . import views, other_views\n", 0),
    ("app/other_urls.py", "from . import other_views\n", 0),
])
def test_a_view_module_imported_outside_urls_is_found(tmp_path, source, text, found):
    known, imports = _tree(tmp_path, {**INIT, "app/views.py": "", "app/other_views.py": "",
                                      source: text})
    assert len(view_imports(known, imports)) == found


@pytest.mark.parametrize("text, found", [
    ("def f():\n    from .b import x\n", 1),
    ("class C:\n    def m(self):\n        import app.b\n", 1),
    ("async def f():\n    def g():\n        from app import b\n", 2),  # app and app.b
    ("def f():\n    import json\n", 0),
    ("from .b import x\n", 0),
])
def test_a_project_import_inside_a_function_is_found(tmp_path, text, found):
    known, imports = _tree(tmp_path, {**INIT, "app/b.py": "x = 1\n", "app/a.py": text})
    assert len(in_function_imports(known, imports, allowed={})) == found
