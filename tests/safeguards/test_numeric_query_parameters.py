"""Every numeric query parameter of every page, sent every kind of bad number.

The table below lists each (page, parameter) with its out-of-range values; each is also sent NaN,
the infinities, numbers past a double's range (``1e309``), non-numbers and (where a value is
required) nothing. Each answers 400 naming the parameter, shows none of the page's data and
writes no audit entry.
"""

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from models.ranking import RANKING_ALGORITHM
from synthetic_data import DATA_DICTIONARY
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

NOT_NUMBERS = ["nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-1e309", "abc", "0x10", "1,5"]
BIGINT_PAST_MAX = str(2**63)


def _past_range(name: str) -> list[str]:
    variable = DATA_DICTIONARY[name]
    return [str(variable.minimum - 1), str(variable.maximum + 1), "1e308", "-1e308"]


# (URL name, parameter, the other parameters it needs, out-of-range values, required)
PARAMETERS = [
    ("model_detail", "threshold", {}, ["0.04", "0.96", "2", "-1", "1e308", "0E+999999999"], True),
    ("model_fairness", "threshold", {}, ["0.04", "0.96", "2", "-1", "1e308", "0E+999999999"], True),
    ("model_card", "threshold", {}, ["0.04", "0.96", "2", "-1", "1e308", "0E+999999999"], True),
    ("patient_list", "page", {}, ["0", "-1", "7", "99999999999999999999"], True),
    ("patient_list", "after", {}, ["-1", "300", "99999999999999999999"], False),
    ("audit_log", "page", {}, ["0", "-1", "999999", "99999999999999999999"], True),
    ("cohort_compare", "a", {}, ["0", "-1", BIGINT_PAST_MAX], True),
    ("cohort_compare", "b", {"a": "cohort"}, ["0", "-1", BIGINT_PAST_MAX], False),
    ("review_list", "model", {}, ["0", "-1", BIGINT_PAST_MAX], False),
    ("patient_what_if", "crp_mg_l", {}, _past_range("crp_mg_l"), True),
    ("patient_what_if", "hamd17", {}, _past_range("hamd17"), True),
]
CASES = [(url_name, parameter, others, value)
         for url_name, parameter, others, out_of_range, required in PARAMETERS
         for value in NOT_NUMBERS + out_of_range + ([""] if required else [])]


@pytest.fixture(scope="module")
def trained(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, algorithms=(RANKING_ALGORITHM,)) as run:
        with django_db_blocker.unblock():
            patient = next(p for p in Patient.objects.filter(cohort=run.cohort).order_by("pk")
                           if consent_permitted_classes(p, purpose=Purpose.EDUCATION)
                           == set(CONSENT_CLASSES))
        yield {"run": run, "cohort": run.cohort, "patient": patient}


def _url(url_name: str, o: dict) -> str:
    run, cohort, patient = o["run"], o["cohort"], o["patient"]
    args = {"model_detail": [run.pk, "ssri"], "model_fairness": [run.pk, "ssri"],
            "model_card": [run.pk, "ssri"], "patient_list": [cohort.pk],
            "patient_what_if": [patient.pseudonym]}.get(url_name, [])
    return reverse(url_name, args=args)


@pytest.mark.parametrize("url_name, parameter, others, value", CASES,
                         ids=[f"{c[0]}-{c[1]}={c[3]!r}" for c in CASES])
def test_a_bad_number_is_refused_naming_the_parameter(client, make_user, trained, url_name,
                                                      parameter, others, value):
    client.force_login(make_user(Role.ETHICS_REVIEWER))
    query = {name: str(trained[other].pk) for name, other in others.items()}
    entries = AuditEntry.objects.count()
    response = client.get(_url(url_name, trained), {**query, parameter: value})
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-field="{parameter}"' in body
    assert trained["patient"].pseudonym not in body or url_name == "patient_what_if"
    assert "data-chart=" not in body and "chart-specs" not in body
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize("url_name, parameter, value", [
    ("model_detail", "threshold", "0.35"), ("model_fairness", "threshold", "0.35"),
    ("model_card", "threshold", "0.35"), ("patient_list", "page", "6"), ("audit_log", "page", "1"),
])
def test_a_good_number_is_used(client, make_user, trained, url_name, parameter, value):
    client.force_login(make_user(Role.ETHICS_REVIEWER))
    response = client.get(_url(url_name, trained), {parameter: value})
    assert response.status_code == 200
    context = response.context
    assert str(context["threshold"] if parameter == "threshold" else context["page"].number) == value
