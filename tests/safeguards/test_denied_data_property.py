"""Property: under any consent state, denied data never reaches a model, an explanation, a page
or an export.

Each example clones one patient (so it starts without consent records), writes a random consent
state for education and for research export (per class: permit, deny, an expired permit, an
inactive permit, or no record), and follows the patient through the gate, the predictions, the
rendered page and every aggregate export.
"""

import datetime as dt
import json
import re

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import api_token_create
from decision_support.cohorts.models import BiomarkerRecord, ClinicalRecord, GeneticRecord, Patient
from decision_support.consent.constants import CONSENT_TEXT_VERSION
from decision_support.consent.gate import model_variant_for
from decision_support.consent.models import ConsentRecord
from decision_support.consent.reads import consented_patient
from decision_support.exercises.models import ExerciseCase
from decision_support.lib.vocabulary import (CONSENT_CLASS_OF, CONSENT_CLASSES, Purpose,
                                             dictionary_classes)
from decision_support.predictions.selectors import patient_predictions
from decision_support.privacy.aggregates import AGGREGATES
from decision_support.privacy.selectors import export_frame, needed_classes
from models.features import VARIANT_DATA_CLASSES
from synthetic_data import DATA_DICTIONARY

pytestmark = pytest.mark.django_db

STATES = ["permit", "deny", "expired", "inactive", "none"]
GRANTING = {"permit"}


def _clone(patient: Patient, n: int) -> Patient:
    clone = Patient.objects.create(cohort=patient.cohort, pseudonym=f"clone{n:06d}{patient.pseudonym}"[:64],
                                   place_key=f"clone{n:06d}{patient.place_key}"[:64],
                                   arm=patient.arm, response=patient.response,
                                   remission=patient.remission,
                                   number=patient.cohort.n_patients + n + 1)
    for model in (ClinicalRecord, BiomarkerRecord, GeneticRecord):
        row = model.objects.filter(patient=patient).first()
        if row is not None:
            model.objects.create(**{**model_to_dict(row, exclude=["patient"]), "patient": clone})
    return clone


def _write(patient: Patient, data_class: str, state: str, purpose: str) -> None:
    if state == "none":
        return
    now = timezone.now()
    start = now - dt.timedelta(days=30)
    ConsentRecord(
        patient=patient, data_class=data_class, purpose=purpose,
        status="inactive" if state == "inactive" else "active",
        provision="deny" if state == "deny" else "permit",
        period_start=start, period_end=start + dt.timedelta(days=1) if state == "expired" else None,
        consent_text_version=CONSENT_TEXT_VERSION, recorded_at=start, recorded_by="property test",
    ).save()


def _withheld_labels(permitted) -> list[str]:
    allowed = dictionary_classes(permitted)
    return [v.label for v in DATA_DICTIONARY.values()
            if v.data_class in CONSENT_CLASS_OF and v.data_class not in allowed]


counter = iter(range(10**6))
CONSENT_STATE = st.fixed_dictionaries({c: st.sampled_from(STATES) for c in CONSENT_CLASSES})


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(state=CONSENT_STATE, research=CONSENT_STATE)
def test_denied_data_reaches_no_model_explanation_page_or_export(client, make_user, objects, state,
                                                                research):
    expected = frozenset(c for c, s in state.items() if s in GRANTING)
    with transaction.atomic():
        patient = _clone(objects["patient"], next(counter))
        for data_class, s in state.items():
            _write(patient, data_class, s, Purpose.EDUCATION)
        for data_class, s in research.items():
            _write(patient, data_class, s, Purpose.RESEARCH_EXPORT)

        consented = consented_patient(patient, purpose=Purpose.EDUCATION)
        assert consented.permitted == expected
        allowed = dictionary_classes(expected)
        for column in consented.frame.columns.drop("pseudonym"):
            assert DATA_DICTIONARY[column].data_class in allowed, column

        predictions = patient_predictions(consented, objects["run"], algorithm="logistic_regression")
        assert consented.variant == model_variant_for(expected)
        if consented.variant is None:
            assert predictions is None
        else:
            features_allowed = {v.name for v in DATA_DICTIONARY.values()
                                if v.data_class in VARIANT_DATA_CLASSES[consented.variant]}
            for item in predictions.explanations:
                assert item.model.variant == consented.variant
                assert set(item.explanation.feature_values.index) <= features_allowed
                assert set(item.explanation.contributions.index) <= features_allowed

        client.force_login(make_user(Role.EDUCATOR, username=f"educator{next(counter)}"))
        page = client.get(reverse("patient_detail", args=[patient.pseudonym])).content.decode()
        values = page[page.index('id="values"'):page.index("</section>", page.index('id="values"'))]
        specs = re.search(r'<script id="chart-specs" type="application/json">(.*?)</script>', page, re.S)
        charts = json.dumps(json.loads(specs.group(1))) if specs else ""
        for label in _withheld_labels(expected):
            assert f">{label}<" not in values, label
            assert label not in charts, label

        # A case exercise shows the case as a student sees it: no withheld variable either.
        ExerciseCase.objects.create(exercise=objects["exercise"], patient=patient, position=4,
                                    model_top_arm="ssri")
        client.force_login(make_user(Role.STUDENT, username=f"student{next(counter)}"))
        page = client.get(reverse("exercise_answer", args=[objects["exercise"].pk]),
                          {"case": "4"}).content.decode()
        specs = re.search(r'<script id="chart-specs" type="application/json">(.*?)</script>', page, re.S)
        charts = json.dumps(json.loads(specs.group(1))) if specs else ""
        for label in _withheld_labels(expected):
            assert f">{label}<" not in page and label not in charts, label

        # The JSON API: no withheld variable among the values or the explanations' features.
        _, token = api_token_create(user=make_user(Role.EDUCATOR, username=f"api{next(counter)}"),
                                    name="property test")
        data, explained = (client.get(f"/api/patients/{patient.pseudonym}/{path}",
                                      HTTP_AUTHORIZATION=f"Bearer {token}").json()
                           for path in ("", "explanations/"))
        api_variables = {*data["values"], *data["values_not_shown"],
                         *(c["feature"] for e in explained["explanations"] for c in e["contributions"])}
        for name in api_variables - {"pseudonym"}:
            assert DATA_DICTIONARY[name].data_class in allowed, name
        assert sorted(data["withheld"]) == sorted(set(CONSENT_CLASSES) - expected)

        research_permitted = {c for c, s in research.items() if s in GRANTING}
        for aggregate in AGGREGATES:
            exported = export_frame(objects["cohort"], aggregate, purpose=Purpose.RESEARCH_EXPORT)
            assert (patient.pk in exported.index) == (needed_classes(aggregate) <= research_permitted)
        transaction.set_rollback(True)
