"""`manage.py import_cohort FILE.csv`: a valid file becomes one cohort; any problem leaves every
table as it was and names the row and column."""

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from decision_support.audit.models import AuditEntry
from decision_support.cohorts import services
from decision_support.cohorts.models import (
    BiomarkerRecord,
    ClinicalRecord,
    Cohort,
    GeneticRecord,
    GroundTruth,
    Patient,
)
from synthetic_data import make_cohort
from synthetic_data.importer import UNCLOSED_QUOTE

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.fixture
def csv_file(tmp_path):
    """Factory: ``csv_file(n_patients, seed)`` -> path of a generated cohort's CSV."""
    def write(n_patients=40, seed=2, name="trial.csv"):
        path = tmp_path / name
        make_cohort(n_patients, random_state=seed).to_csv(path)
        return path
    return write


@pytest.fixture
def existing_cohort():
    """Data already in every table, so that a failed import could visibly disturb it."""
    return services.cohort_generate(n_patients=20, seed=1)


def test_a_valid_file_becomes_one_cohort_with_its_records_and_no_ground_truth(csv_file):
    summary = call_command("import_cohort", str(csv_file(40)), "--name", "Clinic A", verbosity=0)
    cohort = Cohort.objects.get()
    assert (cohort.name, cohort.n_patients, cohort.source, cohort.scenario, cohort.seed) == (
        "Clinic A", 40, Cohort.Source.IMPORTED, "imported", None)
    assert summary == f"Cohort {cohort.pk} 'Clinic A': 40 patients imported."
    entry = AuditEntry.objects.get(action="cohort.import")
    assert entry.actor.startswith("command-line:") and entry.detail["n_patients"] == 40
    for model in (Patient, ClinicalRecord, BiomarkerRecord, GeneticRecord):
        assert model.objects.filter(**{"cohort" if model is Patient else "patient__cohort": cohort}
                                    ).count() == 40
    assert not GroundTruth.objects.exists()
    expected = make_cohort(40, random_state=2).patients
    stored = ClinicalRecord.objects.order_by("patient_id").values_list("age", flat=True)
    assert list(stored) == expected["age"].tolist()


def test_the_cohort_is_named_after_the_file_by_default(csv_file):
    call_command("import_cohort", str(csv_file(5, name="clinic_b.csv")), verbosity=0)
    assert Cohort.objects.get().name == "Imported from clinic_b.csv"


@pytest.mark.parametrize("age, named", [
    ("abc", "row 7, column age: 'abc' is not a number"),
    ('"4', f"row 7, column age: {UNCLOSED_QUOTE}"),
    ('"4"1', "row 7, column age: not valid CSV here: "),
    ("4\x001", "row 7, column age: '4\\x001' is not a number"),
], ids=["not a number", "unclosed quote", "text after a quote", "NUL"])
def test_a_malformed_file_changes_nothing_and_names_row_and_column(csv_file, existing_cohort,
                                                                   age, named):
    path = csv_file(40)
    lines = path.read_text().splitlines()
    cells = lines[6].split(",")  # spreadsheet row 7; no generated cell contains a comma
    cells[1] = age
    lines[6] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    before = _counts()
    with pytest.raises(CommandError) as info:
        call_command("import_cohort", str(path), verbosity=0)
    assert _counts() == before
    message = str(info.value)
    assert "nothing was imported" in message
    assert named in message


def test_a_file_failing_in_the_database_midway_leaves_nothing_behind(csv_file, existing_cohort,
                                                                     monkeypatch):
    # No file that passes validation can break a database constraint, so break one on purpose:
    # the last two patients get the same pseudonym, in the third batch of ten.
    monkeypatch.setattr(services, "STORE_BATCH_SIZE", 10)
    monkeypatch.setattr(services, "patient_pseudonym",
                        lambda cohort_uid, patient_id: f"{cohort_uid}:{min(patient_id, 24)}")
    before = _counts()
    with pytest.raises(IntegrityError):
        call_command("import_cohort", str(csv_file(25)), verbosity=0)
    assert _counts() == before


def test_a_file_over_the_size_limit_is_rejected(csv_file, existing_cohort, settings):
    path = csv_file(10)
    settings.COHORT_IMPORT_MAX_BYTES = path.stat().st_size - 1
    before = _counts()
    with pytest.raises(CommandError, match=f"size limit of {path.stat().st_size - 1:,} bytes"):
        call_command("import_cohort", str(path), verbosity=0)
    assert _counts() == before
    settings.COHORT_IMPORT_MAX_BYTES = path.stat().st_size
    call_command("import_cohort", str(path), verbosity=0)
    assert Cohort.objects.filter(source=Cohort.Source.IMPORTED).count() == 1


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*absent.csv: No such file"):
        call_command("import_cohort", str(tmp_path / "absent.csv"), verbosity=0)


def test_a_name_longer_than_the_database_allows_is_refused(csv_file):
    with pytest.raises(CommandError, match="at most 120 characters"):
        call_command("import_cohort", str(csv_file(5)), "--name", "x" * 121, verbosity=0)
    assert not Cohort.objects.exists()
