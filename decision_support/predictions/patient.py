"""This patient, for this request: the one preamble of every patient view and API endpoint.

``patient_for_request`` finds the patient by pseudonym (404 alike for a pseudonym never stored
and for an erased patient, whose rows are gone), and gathers what each patient page and API
answer needs: the cohort's latest training run, the patient's data through the consent gate for
the request's purpose (``consent.reads.consented_patient``), the values the request's roles may
not see (``accounts.access.hidden_values``) and the withheld consent classes. ``audit_read``
declares the read for the one audit entry the access gate writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from decision_support.accounts.access import audit_context, hidden_values
from decision_support.cohorts.models import Cohort, Patient
from decision_support.consent.reads import ConsentedPatient, consented_patient
from decision_support.lib.vocabulary import ConsentClass
from decision_support.registry.models import TrainingRun
from decision_support.registry.selectors import latest_run

PATIENT_NOT_FOUND = "no patient {pseudonym}"


@dataclass(frozen=True)
class RequestedPatient:
    """One patient as a request may read it."""

    patient: Patient
    run: TrainingRun | None  # the cohort's latest training run
    consented: ConsentedPatient  # the data the request's purpose may use
    hidden: frozenset[str]  # variables whose values the request's roles may not see

    @property
    def cohort(self) -> Cohort:
        return self.patient.cohort

    @property
    def withheld(self) -> list[str]:
        """The consent classes the patient's consent withholds from this purpose, sorted."""
        return sorted(self.consented.withheld)

    @property
    def withheld_labels(self) -> list[str]:
        return [ConsentClass(c).label for c in self.withheld]

    @property
    def values_hidden(self) -> bool:
        """Whether some of the released values are not shown to these roles."""
        return bool(self.hidden & set(self.consented.values.index))

    def audit_read(self, request, **detail) -> None:
        """Declare this patient's read (with the withheld classes) for the gate's audit entry."""
        audit_context(request, object_type="patient", object_ref=self.patient.pseudonym,
                      withheld=self.withheld, **detail)


def patient_for(patient: Patient, *, purpose: str, roles) -> RequestedPatient:
    """``patient`` as a reader with ``roles`` may read it for ``purpose``."""
    return RequestedPatient(patient=patient, run=latest_run(patient.cohort),
                            consented=consented_patient(patient, purpose=purpose),
                            hidden=hidden_values(roles))


def patient_for_request(request, pseudonym: str) -> RequestedPatient:
    """The patient behind ``pseudonym`` for this request's purpose and roles (set by the access
    gate). Raises ``Http404`` (``PATIENT_NOT_FOUND``) when no stored patient has it."""
    try:
        patient = Patient.objects.select_related("cohort").get(pseudonym=pseudonym)
    except Patient.DoesNotExist:
        raise Http404(PATIENT_NOT_FOUND.format(pseudonym=pseudonym)) from None
    return patient_for(patient, purpose=request.purpose, roles=request.roles)
