"""A database made by the previous main (ee37c55, the registry's models still in ``predictions``)
migrates forward with every row intact, and the moved models work as before.

The old code is taken from git history into a temporary folder and run in subprocesses, as a
deployment would have run it: ``migrate``, ``seed_demo`` (a 300-patient demo cohort, one account
per role), ``train_models``, then, through the old services, a consent withdrawal, a treatment
decision, a pause and a resume, a seminar annotation, a queued training job and an admin history
entry. The new code then runs ``migrate`` on the same database. Every row of every table is
fingerprinted before and after (the moved models under their new app), content types keep their
ids, ``verify_audit`` passes, and the database still enforces the moved tables' keys and
constraints. Runs on the suite's database engine: SQLite by default, PostgreSQL under
``scripts/with-postgres`` (a database of its own on the same server).
"""

import json
import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]
PREVIOUS_MAIN = "ee37c55"
MOVED = ("modelartifact", "trainingrun", "trainedmodel", "trainingjob")
# Each kind of row the upgrade must carry; the old database must hold at least one of each.
CARRIED = ("cohorts.Cohort", "cohorts.Patient", "registry.TrainingRun", "registry.TrainedModel",
           "registry.ModelArtifact", "registry.TrainingJob", "consent.ConsentRecord",
           "predictions.TreatmentDecision", "predictions.PredictionPause", "audit.AuditEntry",
           "seminar.Annotation", "admin.LogEntry")

# Both codes: every row of every model as a digest of its values, keyed by pk; the moved models
# under "registry." whichever app holds them. Content types as {app.model: id}.
SNAPSHOT = """
import hashlib, json
from django.apps import apps
from django.contrib.contenttypes.models import ContentType

MOVED = {"ModelArtifact", "TrainingRun", "TrainedModel", "TrainingJob"}
# The ground truth's JSON by arm (before cohorts 0012) as its columns per arm (after).
BY_ARM = {"p_response": "p_response_", "potential_response": "response_"}

def by_arm(row):
    for name, prefix in BY_ARM.items():
        row.update({prefix + arm: value for arm, value in (row.pop(name, None) or {}).items()})
    return row

def plain(value):
    if isinstance(value, (bytes, memoryview)):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, bool):  # a potential response: 0/1 in JSON, a boolean column after
        return int(value)
    return value

rows = {}
for model in apps.get_models():
    meta = model._meta
    if meta.label in ("contenttypes.ContentType", "sessions.Session"):
        continue
    label = f"registry.{meta.object_name}" if meta.object_name in MOVED else meta.label
    rows[label] = {
        str(row[meta.pk.attname]): {k: hashlib.sha256(json.dumps(plain(v), default=str).encode())
                                    .hexdigest()[:16] for k, v in by_arm(row).items()}
        for row in model._base_manager.order_by("pk").values()}
types = {f"{c.app_label}.{c.model}": c.pk for c in ContentType.objects.all()}
print("RESULT " + json.dumps({"rows": rows, "content_types": types}))
"""

# The old code, after train_models: one of each kind of write, through its own services.
OLD_WRITES = """
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from decision_support.accounts.roles import Role
from decision_support.cohorts.models import Cohort, Patient
from decision_support.consent.constants import ConsentClass, Purpose
from decision_support.consent.services import consent_withdraw
from decision_support.predictions import jobs
from decision_support.predictions.models import TrainedModel, TrainingJob, TrainingRun
from decision_support.predictions.services import (decision_record, predictions_pause,
                                                   predictions_resume, training_job_start)
from decision_support.seminar.services import annotation_create

users = get_user_model().objects
educator = users.filter(groups__name=Role.EDUCATOR.value).get()
steward = users.filter(groups__name=Role.DATA_STEWARD.value).get()
reviewer = users.filter(groups__name=Role.ETHICS_REVIEWER.value).get()
cohort = Cohort.objects.get(is_demo=True)
run = TrainingRun.objects.get(cohort=cohort)
patients = Patient.objects.filter(cohort=cohort).order_by("pk")

consent_withdraw(patient=patients[0], data_class=ConsentClass.GENETIC,
                 purpose=Purpose.MODEL_TRAINING, actor=steward)
decision_record(patient=patients[1], actor=educator, arm="ssri", reason="upgrade check",
                purpose=Purpose.EDUCATION)
predictions_pause(actor=educator, reason="upgrade check", purpose=Purpose.EDUCATION)
predictions_resume(actor=educator, reason="", purpose=Purpose.EDUCATION)
annotation_create(actor=reviewer, purpose=Purpose.EDUCATION, model=TrainedModel.objects.first(),
                  plausibility=3, actionability=2, fairness_concern=1, comment="upgrade check")
TrainingJob.objects.create(cohort=cohort, status="done", progress=1.0, run=run,
                           started_by=educator.username, actor_id=educator.pk, message="Done")
jobs.start_in_background = lambda job_id: None  # the job stays queued: no thread is started
training_job_start(cohort=cohort, actor=educator, purpose=Purpose.EDUCATION, inline=False)
LogEntry.objects.create(user=educator, content_type=ContentType.objects.get_for_model(TrainingRun),
                        object_id=str(run.pk), object_repr=str(run), action_flag=CHANGE,
                        change_message="upgrade check")
educator.user_permissions.add(Permission.objects.get(codename="view_trainingrun"))
"""

# The new code, after its migrate: the moved tables still hold their keys and constraints, and
# the rows work through the new apps (models load, pages answer, history points at the run).
NEW_CHECKS = """
import json
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from decision_support.accounts.roles import Role
from django.contrib.auth.models import Group

from decision_support.cohorts.models import Cohort, Patient
from decision_support.courses.models import Course, Membership
from decision_support.predictions.models import TreatmentDecision
from decision_support.registry.loading import fitted_model
from decision_support.registry.models import (ModelArtifact, TrainedModel, TrainingJob,
                                              TrainingRun)

def refused(write):
    try:
        with transaction.atomic():
            write()
    except IntegrityError:
        return True
    return False

educator = get_user_model().objects.filter(memberships__role=Role.EDUCATOR.value).get()
cohort = Cohort.objects.get(is_demo=True)
run = TrainingRun.objects.get(cohort=cohort)
model = run.models.first()
patient = Patient.objects.filter(cohort=cohort).order_by("pk")[1]
job = dict(cohort=cohort, started_by="check", status="queued")
decision = dict(patient=patient, arm="ssri", decided_by="check")
old_max = max(TrainingRun.objects.values_list("pk", flat=True))
new_run = TrainingRun.objects.create(cohort=cohort, scenario=run.scenario, seed=1, n_patients=1,
                                     library_versions={}, duration_seconds=0.0)
TreatmentDecision.objects.create(run=run, **decision)
checks = {
    "second active job refused": refused(lambda: TrainingJob.objects.create(**job)),
    "progress out of range refused": refused(lambda: TrainingJob.objects.create(
        cohort=cohort, started_by="check", status="done", progress=2.0)),
    "duplicate model refused": refused(lambda: TrainedModel.objects.create(
        run=run, arm=model.arm, algorithm=model.algorithm, variant=model.variant,
        artifact=model.artifact, features=[], metrics={}, evaluation={}, explanation={})),
    "model without artifact refused": refused(lambda: TrainedModel.objects.create(
        run=new_run, arm=model.arm, algorithm=model.algorithm, variant=model.variant,
        artifact_id="0" * 64, features=[], metrics={}, evaluation={}, explanation={})),
    "decision on a missing run refused": refused(lambda: TreatmentDecision.objects.create(
        run_id=new_run.pk + 1000, **decision)),
    "new run numbered after the old ones": new_run.pk > old_max,
    "artifact bytes load and verify": fitted_model(model).pipeline is not None,
    "artifacts count": ModelArtifact.objects.count(),
    "history names the run": LogEntry.objects.get(change_message="upgrade check")
                                     .get_edited_object() == run,
    "permission kept": get_user_model().objects.get(pk=educator.pk)
                                       .has_perm("registry.view_trainingrun"),
    "course roles became memberships of the default course": sorted(
        (m.user.username, m.role, m.course.is_default) for m in Membership.objects.all()),
    "groups left": sorted(Group.objects.values_list("name", flat=True)),
    "every cohort in the default course": set(Cohort.objects.values_list("course_id", flat=True))
                                          == {Course.objects.get(is_default=True).pk},
}
client = Client(HTTP_HOST="localhost")
client.force_login(educator)
pages = [reverse("run_overview", args=[cohort.pk]),
         reverse("model_detail", args=[run.pk, model.arm]),
         reverse("patient_detail", args=[patient.pseudonym]),
         *(reverse("training_job", args=[pk]) for pk in
           TrainingJob.objects.filter(cohort=cohort).values_list("pk", flat=True))]
checks["pages"] = {page: client.get(page).status_code for page in pages}
print("RESULT " + json.dumps(checks))
"""


def _has_previous_main() -> bool:
    found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{PREVIOUS_MAIN}^{{commit}}"],
                           capture_output=True)
    return found.returncode == 0


@contextmanager
def _database():
    """The environment that points both codes at an empty database on the suite's engine: on
    SQLite none (the default file in DATA_DIR, as ``make run`` uses); on PostgreSQL a database of
    its own on the suite's server, dropped afterwards."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        yield {}
        return
    name = f"upgrade_{secrets.token_hex(4)}"
    server = dict(dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                  port=db["PORT"])
    with psycopg.connect(**server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:"
                               f"{db['PORT']}/{name}"}
    finally:
        with psycopg.connect(**server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _manage(code: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=code, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, (f"manage.py {args[0]} ({code.name}) exited {done.returncode}:\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def _result(done: subprocess.CompletedProcess) -> dict:
    line = next(line for line in reversed(done.stdout.splitlines()) if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


@pytest.mark.slow
@pytest.mark.uses_database  # runs manage.py on a database of the suite's engine
def test_a_database_of_the_previous_main_migrates_with_every_row_intact(tmp_path):
    if not _has_previous_main():
        pytest.skip(f"git history without {PREVIOUS_MAIN} (a shallow clone?): no old code to "
                    "make the old database with")
    old = tmp_path / "previous-main"
    old.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", PREVIOUS_MAIN],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PG", "AUDIT_"))
           and name not in ("DATABASE_URL", "DJANGO_PRODUCTION", "DJANGO_SETTINGS_MODULE")}
    env.update(DATA_DIR=str(tmp_path / "data"), DJANGO_SETTINGS_MODULE="decision_support.settings",
               DJANGO_SECRET_KEY=secrets.token_hex(32), PSEUDONYM_KEY=secrets.token_hex(32),
               AUDIT_KEY=secrets.token_hex(32), PYTHONDONTWRITEBYTECODE="1")

    with _database() as database:
        env.update(database)
        for args in (["migrate", "--noinput"], ["seed_demo", "--patients", "300"],
                     ["train_models", "--seed", "7", "--verbosity", "0"],
                     ["shell", "-c", OLD_WRITES]):
            _manage(old, env, *args)
        before = _result(_manage(old, env, "shell", "-c", SNAPSHOT))

        _manage(REPO, env, "migrate", "--noinput")
        after = _result(_manage(REPO, env, "shell", "-c", SNAPSHOT))
        _manage(REPO, env, "verify_audit")
        checks = _result(_manage(REPO, env, "shell", "-c", NEW_CHECKS))
        _manage(REPO, env, "verify_audit")  # the chain goes on over the migration

    empty = [label for label in CARRIED if not before["rows"].get(label)]
    assert not empty, f"the old database holds no {empty}: the upgrade would not be tested"
    assert before["rows"].keys() <= after["rows"].keys()
    added = {label: len(rows) for label, rows in after["rows"].items()
             if label not in before["rows"] and rows}
    # The one new course holds the existing data; each holder of a course role (then a group)
    # became a member of it.
    assert added == {"courses.Course": 1, "courses.Membership": 3}, (
        f"models new in this version hold unexpected rows after the upgrade: {added}")
    # Every old row keeps every old column's value (new columns may be added); no row is added,
    # but for the permissions migrate creates for the new models; the three course-role groups
    # went (their members are the memberships above; the data steward's group stays).
    groups_before, groups_after = before["rows"]["auth.Group"], after["rows"]["auth.Group"]
    assert len(groups_before) == 4 and len(groups_after) == 1
    assert all(groups_before[pk] == row for pk, row in groups_after.items())
    changed = {label: sorted(pk for pk, row in rows.items()
                             if {k: after["rows"][label].get(pk, {}).get(k) for k in row} != row)[:5]
               for label, rows in before["rows"].items() if label != "auth.Group"}
    assert not any(changed.values()), f"rows not carried unchanged (label: pks): {changed}"
    grown = [label for label, rows in before["rows"].items()
             if after["rows"][label].keys() != rows.keys()
             and label not in ("auth.Permission", "auth.Group")]
    assert not grown, f"rows added by the upgrade: {grown}"

    # Content types follow the models (same ids), so permissions and admin history follow.
    moved = {f"predictions.{name}": f"registry.{name}" for name in MOVED}
    assert set(moved) <= before["content_types"].keys()
    assert {label: pk for label, pk in after["content_types"].items()
            if pk in before["content_types"].values()} == {
        moved.get(label, label): pk for label, pk in before["content_types"].items()}

    pages = checks.pop("pages")
    assert pages and set(pages.values()) == {200}, pages
    assert checks == {
        "second active job refused": True, "progress out of range refused": True,
        "duplicate model refused": True, "model without artifact refused": True,
        "decision on a missing run refused": True, "new run numbered after the old ones": True,
        "artifact bytes load and verify": True,
        "artifacts count": len(before["rows"]["registry.ModelArtifact"]),
        "history names the run": True, "permission kept": True,
        "course roles became memberships of the default course": [
            ["demo_educator", "educator", True], ["demo_ethics_reviewer", "ethics_reviewer", True],
            ["demo_student", "student", True]],
        "groups left": ["data_steward"],
        "every cohort in the default course": True,
    }
