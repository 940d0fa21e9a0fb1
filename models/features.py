"""Model inputs, chosen from the data dictionary by data class.

Variants leave out whole data classes, so a patient who withholds genetic data can be served by
a model that never saw any (``no_genetic``), or by one that uses clinical data only. Ancestry and
sex are kept for fairness audits but are not model inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from synthetic_data import DATA_DICTIONARY

NOT_MODEL_INPUTS = ("ancestry", "sex")
VARIANT_DATA_CLASSES = {
    "full": ("demographic", "clinical", "biomarker", "genetic", "epigenetic"),
    "no_genetic": ("demographic", "clinical", "biomarker"),
    "clinical_only": ("demographic", "clinical"),
}
VARIANTS = tuple(VARIANT_DATA_CLASSES)
VARIANT_LABELS = {
    "full": "All data",
    "no_genetic": "No genetic data",
    "clinical_only": "Clinical only",
}


def variant_features(variant: str) -> list[str]:
    """The dictionary's observed input columns for a variant, in dictionary order."""
    try:
        classes = VARIANT_DATA_CLASSES[variant]
    except KeyError:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}") from None
    return [v.name for v in DATA_DICTIONARY.values()
            if v.data_class in classes and v.name not in NOT_MODEL_INPUTS]


def make_preprocessor(features: list[str]) -> ColumnTransformer:
    """Scale numbers, one-hot encode categories (in the dictionary's category order)."""
    categorical = [f for f in features if DATA_DICTIONARY[f].categories]
    numeric = [f for f in features if f not in categorical]
    return ColumnTransformer(
        [
            ("number", StandardScaler(), numeric),
            ("category", OneHotEncoder(categories=[list(DATA_DICTIONARY[f].categories)
                                                   for f in categorical],
                                       handle_unknown="ignore", sparse_output=False),
             categorical),
        ],
        verbose_feature_names_out=False,
    )


def source_feature(transformed_name: str, features: list[str]) -> str:
    """The input column a transformed column comes from (``cyp2c19_phenotype_UM`` -> ...)."""
    if transformed_name in features:
        return transformed_name
    return max((f for f in features if transformed_name.startswith(f"{f}_")), key=len)


class FeatureRows:
    """Patient rows read once into numpy arrays, one per column, with the frame's index: what
    ``prepare_rows`` and the explainers read. Selecting a pandas column costs about as much as
    preparing it, so a one-row frame that several models prepare (a patient page ranks and
    explains up to seven arms) is read once, here."""

    def __init__(self, frame: pd.DataFrame):
        self.index = frame.index
        self.columns = {name: column.to_numpy() for name, column in frame.items()}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.index)


def prepare_rows(pipeline, rows: pd.DataFrame | FeatureRows) -> np.ndarray:
    """``pipeline[:-1].transform(rows)`` for our fitted preprocessor, computed with numpy.

    Equal to scikit-learn's result, about ten times faster on the one row of a patient page,
    where scikit-learn's per-call input validation dominates (and ten times faster again from
    ``FeatureRows``).
    """
    parts = []
    for name, transformer, columns in pipeline.named_steps["prepare"].transformers_:
        if name == "number" and columns:
            values = np.column_stack([np.asarray(rows[c], dtype=float) for c in columns])
            parts.append((values - transformer.mean_) / transformer.scale_)
        elif name == "category" and columns:
            for column, categories in zip(columns, transformer.categories_):
                values = np.asarray(rows[column]).astype(str)
                parts.append((values[:, None] == categories[None, :].astype(str)).astype(float))
    return np.hstack(parts)
