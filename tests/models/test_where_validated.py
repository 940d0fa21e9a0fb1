"""``models.model_card.where_validated``: "validated at: ..., not at: ..." from plain dicts."""

import pytest

from models.model_card import (NOT_SCORED, NOT_VALIDATED_AT, VALIDATED_AT,
                               VALIDATED_AT_DEVELOPMENT_ONLY, VALIDATED_AT_ONE_SITE, WHY_ONE_SITE,
                               where_validated)

FIGURES = {"roc_auc": 0.61, "roc_auc_low": 0.55, "roc_auc_high": 0.67, "calibration_slope": 0.7,
           "calibration_slope_low": 0.4, "calibration_slope_high": 1.0, "brier": 0.24}


def _model(arm, external=FIGURES, skipped=None):
    return {"arm": arm, "algorithm": "logistic_regression", "variant": "full",
            "external": external, "skipped": skipped}


def _validation(*sites):
    return {"development": "Site A", "sites": [
        {"site": f"s{i}", "label": label, "models": models} for i, (label, models) in enumerate(sites)]}


@pytest.mark.parametrize("validation", [None, {"development": None, "sites": []}])
def test_one_site_is_said_with_why_it_matters(validation):
    where = where_validated(validation)
    assert (where["statement"], where["why"], where["sites"]) == (VALIDATED_AT_ONE_SITE,
                                                                  WHY_ONE_SITE, [])
    assert not where["multi_site"] and "Meehan" in where["why"]


@pytest.mark.parametrize("sites,statement,not_at", [
    ([("Site B", [_model("ssri")])], VALIDATED_AT.format(development="Site A", external="Site B"),
     []),
    ([("Site B", [_model("ssri")]), ("Site C", [_model("ssri")])],
     VALIDATED_AT.format(development="Site A", external="Site B and Site C"), []),
    ([("Site B", [_model("ssri", None, "too few")])],
     VALIDATED_AT_DEVELOPMENT_ONLY.format(development="Site A"),
     [NOT_VALIDATED_AT.format(site="Site B", reason="too few")]),
    ([("Site B", [_model("ssri", None)]), ("Site C", [_model("ssri")])],
     VALIDATED_AT.format(development="Site A", external="Site C"),
     [NOT_VALIDATED_AT.format(site="Site B", reason=NOT_SCORED)]),
    ([("Site B", [_model("ssri"), _model("ect", None, "few"), _model("tms", None, "few")])],
     VALIDATED_AT.format(development="Site A", external="Site B"),
     [NOT_VALIDATED_AT.format(site="Site B", reason="few")]),
])
def test_validated_at_names_the_sites_that_scored_and_not_at_those_that_could_not(
        sites, statement, not_at):
    where = where_validated(_validation(*sites))
    assert where["multi_site"] and (where["statement"], where["not_at"]) == (statement, not_at)


def test_each_row_carries_the_stored_external_figures_unchanged():
    [site] = where_validated(_validation(("Site B", [_model("ssri"), _model("ect", None)])))["sites"]
    scored, unscored = site["rows"]
    assert scored["roc_auc"] == {"value": 0.61, "low": 0.55, "high": 0.67}
    assert scored["calibration_slope"] == {"value": 0.7, "low": 0.4, "high": 1.0}
    assert not unscored["scored"] and unscored["roc_auc"]["value"] is None
