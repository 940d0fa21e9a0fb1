import json
import re

import pytest
from django.urls import reverse

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_cohort
from decision_support.consent.selectors import permitted_classes_by_patient
from decision_support.consent.services import consent_withdraw
from decision_support.lib.suppression import SUPPRESSED
from decision_support.lib.vocabulary import Purpose

pytestmark = pytest.mark.django_db

SHOWN_SUPPRESSED = "&lt;11"


def _overview(client, cohort):
    response = client.get(reverse("cohort_overview", args=[cohort.pk]))
    assert response.status_code == 200
    return response


def _number_cells(page: str) -> list[str]:
    return re.findall(r'<(?:td class="num"|dd[^>]*)>([^<]*)<', page)


def test_the_rare_subgroups_of_the_demo_cohort_do_produce_small_cells(demo_cohort):
    frame = Patient.objects.filter(cohort=demo_cohort, genetics__cyp2c19_phenotype="PM",
                                   clinical__ancestry="AFR")
    assert 1 <= frame.count() <= 10  # so the overview has something to hide


def test_no_count_of_1_to_10_is_shown_or_plotted(signed_in_client, demo_cohort):
    response = _overview(signed_in_client, demo_cohort)
    page = response.content.decode()
    assert SHOWN_SUPPRESSED in page
    for cell in _number_cells(page):
        if re.fullmatch(r"\d+", cell.strip()):
            assert not 1 <= int(cell) <= 10, cell
    specs = json.loads(re.search(r'id="chart-specs"[^>]*>(.*?)</script>', page, re.S).group(1))
    counted = [spec for spec in specs if not spec["percent"]]
    assert counted
    for spec in counted:
        for trace in spec["traces"]:
            assert not [y for y in trace["y"] if y is not None and 1 <= y <= 10], spec["id"]
    # Hidden values are not plotted (None) and read "<11" in the chart's table.
    for chart in response.context["charts"]:
        for row in chart.table_rows:
            for k, value in enumerate(row[1:]):
                if value == SUPPRESSED:
                    assert chart.traces[k]["y"][chart.table_rows.index(row)] is None


def test_rates_whose_counts_are_small_are_hidden(signed_in_client, demo_cohort):
    summary = _overview(signed_in_client, demo_cohort).context["summary"]
    rtms = next(row for row in summary["arms"] if row["arm"] == "rtms")
    assert rtms["n"] == SUPPRESSED  # 6 treatment-resistant patients on rTMS
    assert rtms["response_rate"] == SUPPRESSED and rtms["remission_rate"] == SUPPRESSED
    ssri = next(row for row in summary["arms"] if row["arm"] == "ssri")
    assert isinstance(ssri["n"], int) and ssri["n"] > 10


def test_genetic_values_of_patients_without_genetic_consent_are_left_out(
        signed_in_client, signed_in_user, demo_cohort):
    patients = list(Patient.objects.filter(cohort=demo_cohort).order_by("pk"))
    permitted = permitted_classes_by_patient([p.pk for p in patients], purpose=Purpose.EDUCATION)
    declined = sum("genetic" not in permitted[p.pk] for p in patients)
    assert declined >= 11  # the demo mix: some patients decline genetic use
    before = _overview(signed_in_client, demo_cohort)
    assert before.context["left_out"][2] == ("Genetic and epigenetic data", declined)

    # Withdraw genetic consent for education from 12 more patients of one ancestry group.
    eas = [p for p in patients if p.clinical.ancestry == "EAS" and "genetic" in permitted[p.pk]][:12]
    for patient in eas:
        consent_withdraw(patient=patient, data_class="genetic", purpose=Purpose.EDUCATION,
                         actor=signed_in_user)
    after = _overview(signed_in_client, demo_cohort)
    assert after.context["left_out"][2] == ("Genetic and epigenetic data", declined + 12)
    assert f"<strong>{declined + 12}</strong> patients" in after.content.decode()
    frame = consented_cohort(demo_cohort, purpose=Purpose.EDUCATION).frame
    assert frame.loc[[p.pk for p in eas], "cyp2c19_phenotype"].isna().all()
    assert frame.loc[[p.pk for p in eas], "polygenic_score_z"].isna().all()
    assert frame.loc[[p.pk for p in eas], "ancestry"].eq("EAS").all()  # clinical data stays
    assert frame["cyp2c19_phenotype"].notna().sum() == len(patients) - declined - 12


def test_clinical_data_of_patients_without_clinical_consent_is_left_out(
        signed_in_client, signed_in_user, demo_cohort):
    patients = list(Patient.objects.filter(cohort=demo_cohort).order_by("pk")[:20])
    for patient in patients:
        consent_withdraw(patient=patient, data_class="clinical", purpose=Purpose.EDUCATION,
                         actor=signed_in_user)
    response = _overview(signed_in_client, demo_cohort)
    age = next(c for c in response.context["charts"] if c.id == "age")
    shown = [y for y in age.traces[0]["y"] if y is not None]
    assert sum(shown) <= 280  # at most the 280 patients whose clinical data may be used
    assert response.context["left_out"][0] == ("Demographic and clinical data", 20)


def test_a_withdrawal_for_another_purpose_does_not_change_the_overview(
        signed_in_client, signed_in_user, demo_cohort):
    before = _overview(signed_in_client, demo_cohort).context["left_out"]
    patient = Patient.objects.filter(cohort=demo_cohort).first()
    consent_withdraw(patient=patient, data_class="clinical", purpose=Purpose.RESEARCH_EXPORT,
                     actor=signed_in_user)
    assert _overview(signed_in_client, demo_cohort).context["left_out"] == before


def test_the_overview_is_audited_once_with_the_cohort(signed_in_client, demo_cohort):
    _overview(signed_in_client, demo_cohort)
    entries = AuditEntry.objects.filter(action="cohort.overview")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.object_type == "cohort" and entry.object_ref == str(demo_cohort.uid)
    assert entry.purpose == Purpose.EDUCATION
    assert entry.detail["classes_left_out"] == ["genetic"]
