"""Arms, model variants and algorithms are each listed and labelled in one place, beside each
other: a page, form, chart or API never carries its own copy of the list or of the labels, so a
renamed or added arm reads the same everywhere."""

import ast
from pathlib import Path

import pytest

from models.algorithms import ALGORITHM_LABELS, ALGORITHMS
from models.features import VARIANT_LABELS, VARIANTS
from synthetic_data import ARM_LABELS, ARMS

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGES = ("decision_support", "models", "synthetic_data")

VOCABULARIES = {
    "arms": (ARMS, ARM_LABELS, "synthetic_data/parameters.py"),
    "variants": (VARIANTS, VARIANT_LABELS, "models/features.py"),
    "algorithms": (ALGORITHMS, ALGORITHM_LABELS, "models/algorithms.py"),
}


def _strings(nodes) -> list | None:
    values = [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return values if len(values) == len(nodes) else None


def copies(vocabulary: tuple[str, ...], home: str) -> list[str]:
    """Literals outside ``home`` that repeat the vocabulary: a tuple or list of exactly its codes,
    or a dict from exactly its codes to strings (a label table)."""
    found = []
    for package in PACKAGES:
        for path in sorted((REPOSITORY / package).rglob("*.py")):
            name = path.relative_to(REPOSITORY).as_posix()
            if name == home or "migrations" in path.parts:  # migrations freeze history
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.Tuple, ast.List)):
                    codes = _strings(node.elts)
                elif isinstance(node, ast.Dict) and None not in node.keys:
                    codes = _strings(node.keys) if _strings(node.values) is not None else None
                else:
                    continue
                if codes and sorted(codes) == sorted(vocabulary):
                    found.append(f"{name}:{node.lineno}")
    return found


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
def test_every_code_has_one_label(vocabulary):
    codes, labels, _ = VOCABULARIES[vocabulary]
    assert list(labels) == list(codes)
    assert all(label.strip() for label in labels.values())


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
def test_no_module_keeps_its_own_copy(vocabulary):
    codes, _, home = VOCABULARIES[vocabulary]
    assert copies(codes, home) == []
