import pytest
from django.core.management import CommandError, call_command

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Cohort, GroundTruth
from decision_support.courses.models import Course

pytestmark = pytest.mark.django_db


def test_it_generates_and_stores_a_cohort_with_its_seed(capsys):
    call_command("generate_cohort", scenario="default", patients=120, seed=77)
    cohort = Cohort.objects.get()
    assert (cohort.n_patients, cohort.seed, cohort.scenario) == (120, 77, "default")
    assert GroundTruth.objects.filter(patient__cohort=cohort).count() == 120
    assert "120/120" in capsys.readouterr().err  # the progress bar reached the end
    entry = AuditEntry.objects.get(action="cohort.create")
    assert entry.actor.startswith("command-line:") and entry.object_ref == str(cohort.uid)


def test_it_stores_the_cohort_in_the_course_named_else_the_demo_course():
    course = Course.objects.create(name="Evening class")
    call_command("generate_cohort", patients=10, seed=1, course=course.pk, verbosity=0)
    call_command("generate_cohort", patients=10, seed=2, verbosity=0)
    assert sorted((c.seed, c.course_id) for c in Cohort.objects.all()) == [
        (1, course.pk), (2, Course.objects.default().pk)]


def test_without_a_seed_it_records_the_one_it_drew():
    call_command("generate_cohort", patients=10, verbosity=0)
    assert Cohort.objects.get().seed is not None


@pytest.mark.parametrize("arguments, message", [
    (["--patients", "0"], "--patients must be between"),
    (["--seed", "-1"], "--seed must be between"),
    (["--scenario", "nope"], "invalid choice: 'nope'"),
    (["--course", "999999"], "--course: there is no course 999999"),
])
def test_it_refuses_bad_arguments_and_stores_nothing(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("generate_cohort", *arguments, verbosity=0)
    assert not Cohort.objects.exists()


def test_a_generated_cohort_comes_with_a_consent_mix():
    from decision_support.consent.models import ConsentRecord

    call_command("generate_cohort", patients=200, seed=5, verbosity=0)
    cohort = Cohort.objects.get()
    assert ConsentRecord.objects.filter(patient__cohort=cohort).count() == 200 * 9
    assert ConsentRecord.objects.filter(patient__cohort=cohort, provision="deny").exists()


@pytest.mark.parametrize("name", ["trial_to_clinic", "assay_shift"])
def test_it_draws_a_site_scenario_at_each_of_its_sites(name, capsys):
    from synthetic_data import SITE_SCENARIOS

    call_command("generate_cohort", site_scenario=name, patients=20, seed=3)
    cohort = Cohort.objects.get()
    sites = [site.name for site in SITE_SCENARIOS[name].sites]
    assert (cohort.scenario, cohort.n_patients) == (name, 20 * len(sites))
    assert set(cohort.patients.values_list("site", flat=True)) == set(sites)
    assert f"{20 * len(sites)}/{20 * len(sites)}" in capsys.readouterr().err
    assert AuditEntry.objects.get(action="cohort.create").detail["scenario"] == name
