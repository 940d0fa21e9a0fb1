"""The three demo algorithms, each a scikit-learn pipeline: prepare the features, then classify."""

from __future__ import annotations

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .features import make_preprocessor, variant_features

ALGORITHMS = ("logistic_regression", "random_forest", "gradient_boosting")
ALGORITHM_LABELS = {
    "logistic_regression": "Logistic regression",
    "random_forest": "Random forest",
    "gradient_boosting": "Gradient boosting",
}


def make_classifier(algorithm: str, random_state: int):
    if algorithm == "logistic_regression":
        return LogisticRegression(C=0.5, max_iter=2000)
    if algorithm == "random_forest":
        # Depth-limited: exact TreeSHAP on unlimited-depth forests takes seconds per patient.
        return RandomForestClassifier(n_estimators=100, max_depth=6, min_samples_leaf=10,
                                      random_state=random_state, n_jobs=1)
    if algorithm == "gradient_boosting":
        return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.05, max_depth=3,
                                              min_samples_leaf=20, l2_regularization=1.0,
                                              early_stopping=False, random_state=random_state)
    raise ValueError(f"unknown algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")


def make_pipeline(algorithm: str, variant: str, *, random_state: int) -> Pipeline:
    return Pipeline([
        ("prepare", make_preprocessor(variant_features(variant))),
        ("classify", make_classifier(algorithm, random_state)),
    ])
