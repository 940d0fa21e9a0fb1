"""Compare one patient's SHAP explanations: across algorithms, and across refits of one model.

Units differ between algorithms (a random forest is explained in probability units, logistic
regression and gradient boosting in log-odds), so raw values are never compared across
algorithms: only signs, ranks by |SHAP|, and normalised shares (|SHAP| / sum of |SHAP|, which
add up to 1 per explanation) are.

Plain Python, no Django import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .algorithms import make_pipeline
from .explain import Explanation, ModelExplainer
from .features import variant_features

# A feature that is top-3 for one algorithm and outside the top 5 of another disagrees on rank.
TOP_STRONG = 3
TOP_WEAK = 5
# A sign counts only where the feature carries at least this share of an explanation: the
# direction of a negligible contribution is noise, not a disagreement.
NEGLIGIBLE_SHARE = 0.01
# Stability across refits: a feature is unstable when fewer than this share of the refits agree
# with the sign of its mean, or when its SD exceeds the size of its mean.
STABLE_SIGN_AGREEMENT = 0.8
DEFAULT_SEEDS = (0, 1, 2, 3, 4)

EXPLANATIONS_REQUIRED = "compare_explanations needs at least two explanations, got {n}."
FEATURES_DIFFER = ("The explanations explain different features ({first!r} and {other!r}): "
                   "compare explanations of the same feature variant.")
SEEDS_REQUIRED = "shap_stability needs at least two seeds, got {n}."
ROWS_MISMATCH = "train_frame has {rows} rows but outcomes has {outcomes}."
ONE_PATIENT = "patient_row must hold exactly one patient, got {n} rows."


def normalised_shares(contributions: pd.Series) -> pd.Series:
    """|SHAP| / sum |SHAP|: each feature's share of the explanation (sums to 1; all zeros when
    no feature moved the output).

    Examples
    --------
    >>> normalised_shares(pd.Series({"a": 3.0, "b": -1.0})).tolist()
    [0.75, 0.25]
    """
    size = contributions.abs()
    total = float(size.sum())
    return size / total if total > 0 else size * 0.0


def importance_ranks(contributions: pd.Series) -> pd.Series:
    """Rank by |SHAP|, 1 the largest; ties (for example features a tree never uses, exactly 0)
    share their best rank."""
    return contributions.abs().rank(ascending=False, method="min").astype(int)


@dataclass(frozen=True)
class ExplanationComparison:
    """Several explanations of one patient, feature by feature.

    ``values``, ``ranks`` and ``shares`` are frames of feature x algorithm (rows ordered by mean
    share, largest first); ``units`` gives each algorithm's SHAP units. ``sign_disagreement``:
    a non-negligible contribution raises the output under one algorithm and lowers it under
    another. ``rank_disagreement``: top-``TOP_STRONG`` for one algorithm, outside the
    top-``TOP_WEAK`` of another.
    """

    values: pd.DataFrame
    ranks: pd.DataFrame
    shares: pd.DataFrame
    units: dict[str, str]
    sign_disagreement: pd.Series
    rank_disagreement: pd.Series

    @property
    def disagreement(self) -> pd.Series:
        return self.sign_disagreement | self.rank_disagreement

    @property
    def features(self) -> list[str]:
        return list(self.values.index)

    @property
    def algorithms(self) -> list[str]:
        return list(self.values.columns)

    def as_frame(self) -> pd.DataFrame:
        """One flat frame: ``<algorithm>_value``, ``_rank``, ``_share`` per algorithm, then the
        disagreement flags."""
        parts = {}
        for algorithm in self.algorithms:
            parts[f"{algorithm}_value"] = self.values[algorithm]
            parts[f"{algorithm}_rank"] = self.ranks[algorithm]
            parts[f"{algorithm}_share"] = self.shares[algorithm]
        parts["sign_disagreement"] = self.sign_disagreement
        parts["rank_disagreement"] = self.rank_disagreement
        parts["disagreement"] = self.disagreement
        return pd.DataFrame(parts)


def compare_explanations(explanations: Mapping[str, Explanation | pd.Series], *,
                         negligible_share: float = NEGLIGIBLE_SHARE,
                         top_strong: int = TOP_STRONG,
                         top_weak: int = TOP_WEAK) -> ExplanationComparison:
    """Compare explanations of one patient (by algorithm), on signs, ranks and shares.

    Parameters
    ----------
    explanations : mapping of str to Explanation (or a Series of SHAP values per feature)
        At least two, of the same features (one feature variant).
    negligible_share : float
        A contribution below this share of its explanation has no sign for the comparison.
    top_strong, top_weak : int
        A rank disagreement: within the top ``top_strong`` of one algorithm and outside the
        top ``top_weak`` of another.

    Returns
    -------
    ExplanationComparison

    Examples
    --------
    >>> c = compare_explanations({"a": pd.Series({"x": 1.0, "y": 0.5}),
    ...                           "b": pd.Series({"x": -0.2, "y": 0.6})})
    >>> bool(c.sign_disagreement["x"]), bool(c.sign_disagreement["y"])
    (True, False)
    """
    if len(explanations) < 2:
        raise ValueError(EXPLANATIONS_REQUIRED.format(n=len(explanations)))
    series, units = {}, {}
    for name, explanation in explanations.items():
        if isinstance(explanation, Explanation):
            series[name], units[name] = explanation.contributions.astype(float), explanation.units
        else:
            series[name], units[name] = pd.Series(explanation, dtype=float), ""
    first_name, first = next(iter(series.items()))
    for name, values in series.items():
        if set(values.index) != set(first.index):
            raise ValueError(FEATURES_DIFFER.format(first=first_name, other=name))
    values = pd.DataFrame(series).loc[list(first.index)]
    shares = values.apply(normalised_shares)
    ranks = values.apply(importance_ranks)
    signs = np.sign(values).where(shares >= negligible_share, 0)
    sign_disagreement = (signs > 0).any(axis=1) & (signs < 0).any(axis=1)
    rank_disagreement = (ranks <= top_strong).any(axis=1) & (ranks > top_weak).any(axis=1)
    order = shares.mean(axis=1).sort_values(ascending=False, kind="stable").index
    return ExplanationComparison(
        values=values.loc[order], ranks=ranks.loc[order], shares=shares.loc[order], units=units,
        sign_disagreement=sign_disagreement.loc[order].rename("sign_disagreement"),
        rank_disagreement=rank_disagreement.loc[order].rename("rank_disagreement"))


def shap_stability(train_frame: pd.DataFrame, outcomes, patient_row: pd.DataFrame, *,
                   algorithm: str, variant: str, seeds: Iterable[int] = DEFAULT_SEEDS,
                   bootstrap: bool = True,
                   stable_sign_agreement: float = STABLE_SIGN_AGREEMENT) -> pd.DataFrame:
    """How stable one patient's SHAP values are when the model is refitted with other seeds.

    Each seed refits the same pipeline (``models.algorithms.make_pipeline``) with that
    ``random_state`` on a bootstrap resample of the training rows drawn with that seed (the
    logistic regression has no randomness of its own, so the resample is what varies it), and
    explains the one patient exactly as the stored models are explained.

    Parameters
    ----------
    train_frame : pandas.DataFrame
        Training patients with (at least) the variant's feature columns.
    outcomes : array-like of 0/1
        Response, aligned with ``train_frame``.
    patient_row : pandas.DataFrame
        One patient with the variant's feature columns.
    algorithm, variant : str
        As in ``models.algorithms.ALGORITHMS`` and ``models.features.VARIANTS``.
    seeds : iterable of int
        One refit per seed; at least two.
    bootstrap : bool
        Resample the training rows with replacement per seed (default); otherwise only the
        estimator's ``random_state`` changes.
    stable_sign_agreement : float
        Below this share of refits agreeing with the sign of the mean, a feature is unstable.

    Returns
    -------
    pandas.DataFrame
        Indexed by feature (largest |mean| first): ``mean``, ``sd`` (across refits, ddof=1),
        ``sign_agreement`` (share of refits whose sign equals the sign of the mean), ``unstable``
        (sign agreement below the threshold, or SD larger than |mean|), and ``units``.
    """
    seeds = [int(s) for s in seeds]
    if len(seeds) < 2:
        raise ValueError(SEEDS_REQUIRED.format(n=len(seeds)))
    y = np.asarray(outcomes).astype(int)
    if len(y) != len(train_frame):
        raise ValueError(ROWS_MISMATCH.format(rows=len(train_frame), outcomes=len(y)))
    if len(patient_row) != 1:
        raise ValueError(ONE_PATIENT.format(n=len(patient_row)))
    features = variant_features(variant)
    X = train_frame[features]
    per_seed, units = [], ""
    # Small fits: threads cost more than they give (as in models.training.train_suite).
    with threadpool_limits(limits=1):
        for seed in seeds:
            rows = np.arange(len(y))
            if bootstrap:
                rows = _stratified_bootstrap(y, np.random.default_rng(seed))
            pipeline = make_pipeline(algorithm, variant, random_state=seed)
            pipeline.fit(X.iloc[rows], y[rows])
            background = np.asarray(pipeline[:-1].transform(X.iloc[rows])).mean(axis=0)
            explainer = ModelExplainer(pipeline, features, background)
            _, contributions, _ = explainer.shap_matrix(patient_row[features])
            per_seed.append(contributions.iloc[0].to_numpy())
            units = explainer.units
    values = pd.DataFrame(per_seed, index=seeds, columns=features)
    mean, sd = values.mean(), values.std(ddof=1)
    sign_agreement = (np.sign(values) == np.sign(mean)).mean()
    result = pd.DataFrame({
        "mean": mean, "sd": sd, "sign_agreement": sign_agreement,
        "unstable": (sign_agreement < stable_sign_agreement) | (sd > mean.abs()),
        "units": units,
    })
    order = mean.abs().sort_values(ascending=False, kind="stable").index
    return result.loc[order]


def _stratified_bootstrap(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows drawn with replacement within each outcome class, so every refit sees both."""
    parts = [rng.choice(np.flatnonzero(y == label), size=int((y == label).sum()), replace=True)
             for label in np.unique(y)]
    return np.sort(np.concatenate(parts))
