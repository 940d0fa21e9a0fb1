"""A cohort's identity is its data, not its row: re-creating a cohort from its seed (through the
service, the /cohorts/new/ page or the generate_cohort command) or importing the same file again
leaves erased patients out, keeps the withdrawals and shares the spent privacy budget, also when
the earlier copy's row is gone. Patients are matched across copies by their values, never by
pseudonym (each copy has its own pseudonyms)."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from decision_support.audit.models import AuditEntry
from decision_support.cohorts import services
from decision_support.cohorts.models import ClinicalRecord, Cohort, GroundTruth, Patient
from decision_support.cohorts.services import cohort_create, cohort_import
from decision_support.consent.erasure import patient_erase
from decision_support.consent.models import Tombstone
from decision_support.consent.reads import consented_patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.consent.services import consent_give, consent_withdraw
from decision_support.lib.vocabulary import CONSENT_CLASSES, ConsentClass, Purpose
from decision_support.privacy.services import PrivacyBudgetExceeded, aggregate_export_create
from synthetic_data import make_cohort

pytestmark = pytest.mark.django_db

SCENARIO, N, SEED = "default", 300, 11  # 300: the smallest size the page accepts
EDU, ML, RESEARCH = Purpose.EDUCATION, Purpose.MODEL_TRAINING, Purpose.RESEARCH_EXPORT
CLINICAL_VALUES = ("age", "sex", "ancestry", "hamd17", "episode_duration_months")


@pytest.fixture
def educator(make_user):
    return make_user("educator")


@pytest.fixture
def steward(make_user):
    return make_user("data_steward")


def _truth_key(patient) -> tuple:
    truth = GroundTruth.objects.get(patient=patient)
    return truth.inflammation_z, truth.illness_burden_z, truth.genetic_liability_z


def _clinical_key(patient) -> tuple:
    return tuple(ClinicalRecord.objects.filter(patient=patient).values_list(*CLINICAL_VALUES)
                 .get())


def _by_values(cohort, key) -> dict[tuple, Patient]:
    return {key(p): p for p in cohort.patients.all()}


def _permitting(cohort, purpose, data_class, *, skip=()) -> Patient:
    """A patient whose seeded consent permits ``data_class`` for ``purpose``."""
    return next(p for p in cohort.patients.order_by("pk") if p not in skip
                and data_class in consent_permitted_classes(p, purpose=purpose))


def _spend_everything(user, cohort) -> None:
    for _ in range(3):
        aggregate_export_create(actor=user, cohort=cohort, aggregate="responders_by_arm",
                                epsilon=Decimal("1.0"), purpose=RESEARCH)


@pytest.fixture
def history(educator, steward):
    """An earlier cohort, then: one patient erased, genetic consent (education) withdrawn by a
    second, model-training consent (clinical) withdrawn by a third, the budget spent."""
    earlier = cohort_create(actor=educator, purpose=EDU, scenario=SCENARIO, n_patients=N,
                            seed=SEED, name="earlier")
    erased = _permitting(earlier, EDU, ConsentClass.CLINICAL)
    no_genetic = _permitting(earlier, EDU, ConsentClass.GENETIC, skip=[erased])
    no_training = _permitting(earlier, ML, ConsentClass.CLINICAL, skip=[erased, no_genetic])
    keys = {"erased": (_truth_key(erased), _clinical_key(erased)),
            "no_genetic": _truth_key(no_genetic), "no_training": _truth_key(no_training)}
    consent_withdraw(patient=no_genetic, data_class=ConsentClass.GENETIC, purpose=EDU,
                     actor=steward)
    consent_withdraw(patient=no_training, data_class=ConsentClass.CLINICAL, purpose=ML,
                     actor=steward)
    patient_erase(erased, actor=steward)
    _spend_everything(educator, earlier)
    return earlier, keys


def _recreate(path, client, educator, **fields) -> Cohort:
    wanted = {"scenario": SCENARIO, "n_patients": N, "seed": SEED, **fields}
    before = set(Cohort.objects.values_list("pk", flat=True))
    if path == "service":
        cohort_create(actor=educator, purpose=EDU, name="again", **wanted)
    elif path == "page":
        client.force_login(educator)
        response = client.post(reverse("cohort_create"), {**wanted, "name": "again"})
        assert response.status_code == 303, response.content[:500]
    else:
        call_command("generate_cohort", scenario=wanted["scenario"],
                     patients=wanted["n_patients"], seed=wanted["seed"], verbosity=0)
    return Cohort.objects.exclude(pk__in=before).get()


@pytest.mark.parametrize("delete_earlier", [False, True], ids=["earlier kept", "earlier deleted"])
@pytest.mark.parametrize("path", ["service", "page", "command"])
def test_a_recreated_cohort_keeps_erasure_withdrawals_and_the_spent_budget(
        history, path, delete_earlier, client, educator):
    earlier, keys = history
    earlier_url = reverse("cohort_overview", args=[earlier.pk])
    if delete_earlier:
        earlier.delete()
    again = _recreate(path, client, educator)

    # The erased patient is left out (matched by ground truth and by clinical values).
    truth_keys = _by_values(again, _truth_key)
    assert keys["erased"][0] not in truth_keys
    assert keys["erased"][1] not in _by_values(again, _clinical_key)
    assert (again.n_patients, again.patients.count(), again.erased_left_out) == (N - 1, N - 1, 1)

    # The withdrawals hold in the new copy, through the consent gate.
    no_genetic, no_training = truth_keys[keys["no_genetic"]], truth_keys[keys["no_training"]]
    assert ConsentClass.GENETIC not in consent_permitted_classes(no_genetic, purpose=EDU)
    assert ConsentClass.GENETIC in consented_patient(no_genetic, purpose=EDU).withheld
    assert ConsentClass.CLINICAL not in consent_permitted_classes(no_training, purpose=ML)
    # ... and only those: the rest of each patient's seeded consent is unchanged.
    assert ConsentClass.CLINICAL in consent_permitted_classes(no_genetic, purpose=EDU)
    assert ConsentClass.CLINICAL in consent_permitted_classes(no_training, purpose=EDU)
    carried = AuditEntry.objects.filter(action="consent.carry_over")
    assert sorted(carried.values_list("object_ref", flat=True)) == sorted(
        [no_genetic.pseudonym, no_training.pseudonym])

    # The budget spent on the earlier copy is spent on this one.
    with pytest.raises(PrivacyBudgetExceeded):
        aggregate_export_create(actor=educator, cohort=again, aggregate="responders_by_arm",
                                epsilon=Decimal("0.1"), purpose=RESEARCH)

    # The overview says so.
    client.force_login(educator)
    page = client.get(reverse("cohort_overview", args=[again.pk])).content.decode()
    assert 'id="erased-left-out">1<' in page
    assert 'id="consent-carried-over">2<' in page
    assert (f'href="{earlier_url}"' in page) != delete_earlier


@pytest.mark.parametrize("fields", [{"seed": SEED + 1}, {"n_patients": N + 1},
                                    {"scenario": "prs_portability"}],
                         ids=["other seed", "other size", "other scenario"])
def test_other_data_is_another_cohort_with_its_own_budget(history, fields, client, educator):
    earlier, _ = history
    other = _recreate("service", client, educator, **fields)
    assert other.fingerprint != earlier.fingerprint
    assert (other.patients.count(), other.erased_left_out) == (fields.get("n_patients", N), 0)
    assert not AuditEntry.objects.filter(action="consent.carry_over").exists()
    _spend_everything(educator, other)  # a fresh budget of 3.0
    client.force_login(educator)
    page = client.get(reverse("cohort_overview", args=[other.pk])).content.decode()
    assert 'id="copies-note"' not in page


@pytest.mark.parametrize("route", ["consent_selection", "csv"],
                         ids=["a scenario drawing the same patients", "the generated CSV imported"])
def test_the_same_patients_by_another_route_are_the_same_data(history, route, client, educator):
    """The identity is the data, not the parameters: the consent_selection scenario draws the
    default scenario's patients (only who declines differs), and a generated cohort's CSV holds
    them too."""
    earlier, keys = history
    if route == "csv":
        data = make_cohort(N, scenario=SCENARIO, random_state=SEED).to_csv().encode()
        again = _import(data, educator)
    else:
        again = _recreate("service", client, educator, scenario=route)
    values = _by_values(again, _clinical_key)
    assert keys["erased"][1] not in values
    assert (again.fingerprint, again.n_patients) == (earlier.fingerprint, N - 1)
    no_genetic = _by_values(earlier, _truth_key)[keys["no_genetic"]]
    assert ConsentClass.GENETIC not in consent_permitted_classes(
        values[_clinical_key(no_genetic)], purpose=EDU)
    with pytest.raises(PrivacyBudgetExceeded):
        aggregate_export_create(actor=educator, cohort=again, aggregate="responders_by_arm",
                                epsilon=Decimal("0.1"), purpose=RESEARCH)


def test_a_decision_recorded_in_a_later_copy_carries_into_the_next(history, client, educator,
                                                                   steward):
    """The newest decision per place wins, wherever it was recorded: giving back genetic consent
    in the second copy holds in the third."""
    _, keys = history
    second = _recreate("service", client, educator)
    patient = _by_values(second, _truth_key)[keys["no_genetic"]]
    assert ConsentClass.GENETIC not in consent_permitted_classes(patient, purpose=EDU)
    consent_give(patient=patient, data_class=ConsentClass.GENETIC, purpose=EDU, actor=steward)
    third = _recreate("service", client, educator)
    patient = _by_values(third, _truth_key)[keys["no_genetic"]]
    assert consent_permitted_classes(patient, purpose=EDU) == set(CONSENT_CLASSES)


@pytest.fixture
def csv_bytes():
    return make_cohort(60, random_state=3).to_csv().encode()


def _import(data: bytes, educator) -> Cohort:
    return cohort_import(actor=educator, purpose=EDU, data=data, name="imported")


def _shuffled(data: bytes) -> bytes:
    header, *rows = data.decode().splitlines()
    return "\n".join([header, *reversed(rows)]).encode() + b"\n"


@pytest.mark.parametrize("again", [lambda d: d, _shuffled], ids=["same file", "rows reordered"])
def test_importing_the_same_file_again_keeps_erasure_withdrawal_and_budget(
        csv_bytes, again, educator, steward):
    first = _import(csv_bytes, educator)
    erased, withdrawn = first.patients.order_by("pk")[:2]
    erased_values, withdrawn_values = _clinical_key(erased), _clinical_key(withdrawn)
    consent_give(patient=withdrawn, data_class=ConsentClass.CLINICAL, purpose=RESEARCH,
                 actor=steward)
    consent_withdraw(patient=withdrawn, data_class=ConsentClass.CLINICAL, purpose=RESEARCH,
                     actor=steward)
    patient_erase(erased, actor=steward)
    _spend_everything(educator, first)

    second = _import(again(csv_bytes), educator)
    values = _by_values(second, _clinical_key)
    assert erased_values not in values and second.n_patients == 59
    assert second.fingerprint == first.fingerprint
    assert consent_permitted_classes(values[withdrawn_values], purpose=RESEARCH) == set()
    with pytest.raises(PrivacyBudgetExceeded):
        aggregate_export_create(actor=educator, cohort=second, aggregate="responders_by_arm",
                                epsilon=Decimal("0.1"), purpose=RESEARCH)

    changed = _import(make_cohort(60, random_state=4).to_csv().encode(), educator)
    assert changed.fingerprint != first.fingerprint and changed.n_patients == 60


@pytest.fixture
def two_copies(educator):
    """Two copies of the same data, stored before anything was decided or erased."""
    return [cohort_create(actor=educator, purpose=EDU, scenario=SCENARIO, n_patients=N, seed=SEED,
                          name=name) for name in ("first copy", "second copy")]


@pytest.mark.parametrize("decide, data_class, purpose", [
    (consent_withdraw, ConsentClass.GENETIC, EDU),
    (consent_withdraw, ConsentClass.CLINICAL, ML),
    (consent_give, ConsentClass.GENETIC, RESEARCH),
])
def test_a_decision_holds_at_once_in_every_stored_copy(two_copies, steward, decide, data_class,
                                                       purpose):
    first, second = two_copies
    patient = next(p for p in first.patients.order_by("pk")
                   if (data_class in consent_permitted_classes(p, purpose=purpose))
                   == (decide is consent_withdraw))
    decide(patient=patient, data_class=data_class, purpose=purpose, actor=steward)
    same = _by_values(second, _truth_key)[_truth_key(patient)]
    assert (data_class in consent_permitted_classes(same, purpose=purpose)) == (
        decide is consent_give)
    entry = AuditEntry.objects.filter(action__startswith="consent.").get()
    assert (entry.object_ref, entry.detail["other_copies"]) == (patient.pseudonym,
                                                                [same.pseudonym])


def test_erasing_a_person_erases_them_from_every_stored_copy(two_copies, client, steward):
    first, second = two_copies
    patient = first.patients.order_by("pk").first()
    truth, clinical = _truth_key(patient), _clinical_key(patient)
    same = _by_values(second, _truth_key)[truth]
    client.force_login(steward)
    page = client.get(reverse("patient_erase", args=[patient.pseudonym])).content.decode()
    assert f"<code>{same.pseudonym}</code> in second copy" in page
    client.post(reverse("patient_erase", args=[patient.pseudonym]),
                {"confirmation": patient.pseudonym})
    for cohort in (first, second):
        assert truth not in _by_values(cohort, _truth_key)
        assert clinical not in _by_values(cohort, _clinical_key)
    assert set(Tombstone.objects.values_list("pseudonym", "cohort")) == {
        (patient.pseudonym, first.pk), (same.pseudonym, second.pk)}


def _blocked_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("act", ["erase", "withdraw"])
def test_an_erasure_or_withdrawal_during_a_recreation_reaches_the_new_copy(act, monkeypatch,
                                                                           make_user):
    """The worst interleaving, forced: the re-creation has read the tombstones and decisions
    when the erasure or withdrawal runs. It must either wait for the new copy and reach it, or
    be seen by it; never miss it."""
    educator, steward = make_user("educator"), make_user("data_steward")
    earlier = cohort_create(actor=educator, purpose=EDU, scenario=SCENARIO, n_patients=N,
                            seed=SEED, name="earlier")
    patient = _permitting(earlier, EDU, ConsentClass.GENETIC)
    truth = _truth_key(patient)
    has_read, go_on, pid = threading.Event(), threading.Event(), []
    errors = []
    carry_over = services.consent_carry_over

    def carry_over_then_pause(**kwargs):
        carried = carry_over(**kwargs)  # tombstones and decisions have been read
        has_read.set()
        go_on.wait()
        return carried

    monkeypatch.setattr(services, "consent_carry_over", carry_over_then_pause)

    def in_thread(work):
        def run():
            try:
                work()
            except Exception as error:  # reported below; a thread cannot fail the test itself
                errors.append(error)
            finally:
                connection.close()
        return threading.Thread(target=run)

    def decide():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid.append(cursor.fetchone()[0])
        if act == "erase":
            patient_erase(patient, actor=steward)
        else:
            consent_withdraw(patient=patient, data_class=ConsentClass.GENETIC, purpose=EDU,
                             actor=steward)

    recreation = in_thread(lambda: cohort_create(actor=educator, purpose=EDU, scenario=SCENARIO,
                                                 n_patients=N, seed=SEED, name="again"))
    decision = in_thread(decide)
    recreation.start()
    has_read.wait()
    decision.start()
    # Let the re-creation go on once the decision has finished or waits for a lock.
    while decision.is_alive() and not (pid and _blocked_on_a_lock(pid[0])):
        time.sleep(0.01)
    go_on.set()
    recreation.join()
    decision.join()
    assert errors == []
    again = Cohort.objects.get(name="again")
    copy = _by_values(again, _truth_key).get(truth)
    if act == "erase":
        assert copy is None
    else:
        assert ConsentClass.GENETIC not in consent_permitted_classes(copy, purpose=EDU)
