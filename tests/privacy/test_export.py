import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.consent.services import consent_withdraw
from decision_support.lib.appendonly import AppendOnlyError
from decision_support.lib.suppression import SUPPRESSED
from decision_support.lib.vocabulary import Purpose
from decision_support.privacy.aggregates import compute_aggregate, released_count
from decision_support.privacy.models import PrivacySpend
from decision_support.privacy.selectors import export_frame

pytestmark = pytest.mark.django_db


def _url(cohort):
    return reverse("aggregate_export", args=[cohort.pk])


def _post(client, cohort, **data):
    return client.post(_url(cohort), {"aggregate": "responders_by_arm", "epsilon": "0.1", **data})


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


# The pure computation --------------------------------------------------------------------------

def _exact_responders(frame) -> dict[tuple[str, str], int]:
    return {(arm, str(int(r))): int(n) for (arm, r), n in
            frame.groupby(["arm", "response"], observed=True).size().items()}


def test_a_patient_without_research_consent_is_not_counted(demo_cohort, signed_in_user):
    patients = list(Patient.objects.filter(cohort=demo_cohort, arm="ssri").order_by("pk")[:15])
    before = export_frame(demo_cohort, "responders_by_arm", purpose=Purpose.RESEARCH_EXPORT)
    for patient in patients:
        consent_withdraw(patient=patient, data_class="clinical", purpose=Purpose.RESEARCH_EXPORT,
                         actor=signed_in_user)
    after = export_frame(demo_cohort, "responders_by_arm", purpose=Purpose.RESEARCH_EXPORT)
    assert len(after) == len(before) - 15
    assert not set(p.pk for p in patients) & set(after.index)
    # With a huge epsilon the noise is negligible: the release equals the consented counts.
    rows = compute_aggregate(after, "responders_by_arm", epsilon=1e9)
    exact = _exact_responders(after)
    for arm, response, released in rows[1:]:
        assert released == released_count(exact.get((arm, response), 0))
    ssri = sum(int(r[2]) for r in rows[1:] if r[0] == "ssri")
    assert ssri == sum(n for (arm, _), n in _exact_responders(before).items() if arm == "ssri") - 15


def test_patients_without_genetic_research_consent_are_left_out_of_genetic_aggregates(demo_cohort):
    clinical = export_frame(demo_cohort, "ancestry_by_sex", purpose=Purpose.RESEARCH_EXPORT)
    genetic = export_frame(demo_cohort, "cyp2c19_by_ancestry", purpose=Purpose.RESEARCH_EXPORT)
    assert len(genetic) < len(clinical)  # the demo mix: some patients decline genetic use


def test_released_values_are_noisy(demo_cohort):
    frame = export_frame(demo_cohort, "ancestry_by_sex", purpose=Purpose.RESEARCH_EXPORT)
    exact = compute_aggregate(frame, "ancestry_by_sex", epsilon=1e9)
    noisy = [compute_aggregate(frame, "ancestry_by_sex", epsilon=0.1) for _ in range(3)]
    assert all(release != exact for release in noisy)
    assert noisy[0] != noisy[1] or noisy[1] != noisy[2]


def test_the_bounded_mean_stays_within_the_bounds_and_is_noisy(demo_cohort):
    frame = export_frame(demo_cohort, "mean_hamd_by_arm", purpose=Purpose.RESEARCH_EXPORT)
    exact = compute_aggregate(frame, "mean_hamd_by_arm", epsilon=1e9)
    ssri = next(row for row in exact if row[0] == "ssri")
    assert float(ssri[2]) == pytest.approx(frame.loc[frame["arm"] == "ssri", "hamd17"].mean(),
                                           abs=0.05)
    for _ in range(3):
        for row in compute_aggregate(frame, "mean_hamd_by_arm", epsilon=0.1)[1:]:
            if row[2] and row[2][0].isdigit():
                assert 0 <= float(row[2]) <= 52


@pytest.mark.parametrize("noisy, shown", [(-3.2, 0), (0.4, 0), (4.6, SUPPRESSED), (10.4, SUPPRESSED),
                                          (10.6, 11), (250, 250)])
def test_small_noisy_counts_are_still_suppressed(noisy, shown):
    assert released_count(noisy) == shown


# The page --------------------------------------------------------------------------------------

def test_the_form_shows_the_budget_left(signed_in_client, demo_cohort):
    page = signed_in_client.get(_url(demo_cohort)).content.decode()
    assert 'id="budget-remaining">3.0<' in page
    _post(signed_in_client, demo_cohort, epsilon="0.5")
    page = signed_in_client.get(_url(demo_cohort)).content.decode()
    assert 'id="budget-remaining">2.5' in page


def test_an_export_is_a_noisy_csv_charged_and_audited(signed_in_client, signed_in_user,
                                                      demo_cohort):
    response = _post(signed_in_client, demo_cohort, aggregate="ancestry_by_sex")
    rows = _rows(response)
    assert rows[0] == ["cohort", "aggregate", "epsilon", "ancestry", "sex", "noisy_patients"]
    assert len(rows) == 1 + 4 * 2
    for row in rows[1:]:
        assert row[-1] == SUPPRESSED or int(row[-1]) == 0 or int(row[-1]) >= 11
    assert "no-store" in response["Cache-Control"]
    spend = PrivacySpend.objects.get()
    assert (spend.user, spend.cohort, spend.epsilon, spend.query) == (
        signed_in_user, demo_cohort, Decimal("0.1"), "ancestry_by_sex")
    entry = AuditEntry.objects.get(action="export.aggregate")
    assert (entry.outcome, entry.purpose, entry.role, entry.object_ref) == (
        "allowed", Purpose.RESEARCH_EXPORT, "educator", str(demo_cohort.uid))
    assert entry.detail["epsilon"] == "0.1" and entry.detail["aggregate"] == "ancestry_by_sex"


def test_the_budget_runs_out_and_a_refused_query_spends_nothing(signed_in_client, demo_cohort):
    for _ in range(3):
        _rows(_post(signed_in_client, demo_cohort, epsilon="1.0"))
    refused = _post(signed_in_client, demo_cohort, epsilon="0.1")
    assert refused.status_code == 403
    assert "Refused" in refused.content.decode() and "Nothing was spent" in refused.content.decode()
    assert PrivacySpend.objects.count() == 3
    assert sum(s.epsilon for s in PrivacySpend.objects.all()) == Decimal("3.0")
    denied = AuditEntry.objects.get(action="export.aggregate", outcome="denied")
    assert denied.detail["reason"] == "budget exceeded"
    assert 'id="budget-remaining">0' in refused.content.decode()


def test_thirty_small_queries_add_up_to_exactly_the_budget(signed_in_user, demo_cohort):
    from decision_support.privacy.services import (PrivacyBudgetExceeded,
                                                   aggregate_export_create)
    for _ in range(30):
        aggregate_export_create(actor=signed_in_user, cohort=demo_cohort,
                                aggregate="ancestry_by_sex", epsilon=Decimal("0.1"),
                                purpose=Purpose.RESEARCH_EXPORT)
    with pytest.raises(PrivacyBudgetExceeded):
        aggregate_export_create(actor=signed_in_user, cohort=demo_cohort,
                                aggregate="ancestry_by_sex", epsilon=Decimal("0.1"),
                                purpose=Purpose.RESEARCH_EXPORT)
    assert PrivacySpend.objects.count() == 30


def test_the_budget_is_per_user_and_cohort(signed_in_client, make_user, client, demo_cohort):
    for _ in range(3):
        _rows(_post(signed_in_client, demo_cohort, epsilon="1.0"))
    reviewer = make_user("ethics_reviewer")
    client.force_login(reviewer)
    _rows(_post(client, demo_cohort, epsilon="1.0"))
    assert AuditEntry.objects.filter(action="export.aggregate").last().role == "ethics_reviewer"


def test_formula_cells_are_neutralised(signed_in_client, demo_cohort):
    demo_cohort.name = '=HYPERLINK("http://x")'
    demo_cohort.save()
    rows = _rows(_post(signed_in_client, demo_cohort))
    assert all(row[0] == '\'=HYPERLINK("http://x")' for row in rows[1:])


@pytest.mark.parametrize("role", ["student", "data_steward"])
def test_other_roles_get_404(make_user, client, demo_cohort, role):
    client.force_login(make_user(role))
    assert client.get(_url(demo_cohort)).status_code == 404
    assert _post(client, demo_cohort).status_code == 404
    assert not PrivacySpend.objects.exists()


def test_an_unknown_cohort_is_404(signed_in_client):
    assert signed_in_client.get(reverse("aggregate_export", args=[999])).status_code == 404


@pytest.mark.parametrize("field, data", [
    ("aggregate", {"aggregate": "patients__pseudonym"}),
    ("aggregate", {"aggregate": ""}),
    ("epsilon", {"epsilon": "0.2"}),
    ("epsilon", {"epsilon": "NaN"}),
    ("epsilon", {"epsilon": "1e308"}),
    ("epsilon", {"epsilon": "inf"}),
    ("epsilon", {"epsilon": "-1"}),
    ("epsilon", {"epsilon": "9" * 400}),
])
def test_bad_input_names_the_field_and_spends_nothing(signed_in_client, demo_cohort, field, data):
    response = _post(signed_in_client, demo_cohort, **data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    label = response.context["form"].fields[field].label
    assert f"{label}: " in response.content.decode()
    assert not PrivacySpend.objects.exists()
    assert not AuditEntry.objects.filter(action="export.aggregate").exists()


def test_the_purpose_comes_from_the_server_not_the_client(signed_in_client, demo_cohort):
    _rows(_post(signed_in_client, demo_cohort, purpose="TRAIN"))
    assert AuditEntry.objects.get(action="export.aggregate").purpose == Purpose.RESEARCH_EXPORT


def test_the_ledger_is_append_only(signed_in_client, demo_cohort):
    _rows(_post(signed_in_client, demo_cohort))
    spend = PrivacySpend.objects.get()
    with pytest.raises(AppendOnlyError):
        spend.save()
    with pytest.raises(AppendOnlyError):
        PrivacySpend.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        PrivacySpend.objects.update(epsilon=Decimal("0.001"))
