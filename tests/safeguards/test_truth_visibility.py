"""Field-level least privilege for the simulation's truth, over every page, export and API answer.

Students may see no truth at all; ethics reviewers the model-level truth check but no patient's
truth; educators both (``accounts.access``: ``PATIENT_TRUTH_ROLES``, ``MODEL_TRUTH_ROLES``).

The walk: a role opens every URL name that ``POLICIES`` admits it to (so a new page is walked
without a change here; a name without a way to build its requests fails), in every query mode
that changes what is shown, the JSON API with a bearer token and the PDFs as text. Then the
truth the role may not see is replaced by other values (the walked patient's latent drivers,
true probabilities and potential outcomes; for students also every model's truth check and the
run's policy value) and the walk is repeated. A page may show none of the labels the pages use
for that truth, and not one number on it may change with the truth, in whatever format (rounded,
as a percentage, in chart data or JSON). The same walk as an educator must show the labels and
the replaced values, so the test cannot pass by looking at pages without them.
"""

import html
import io
import re
from collections import Counter

import pytest
from django.urls import reverse
from pypdf import PdfReader

from decision_support.accounts.access import API_PAGES, POLICIES
from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import api_token_create
from decision_support.cohorts.models import GroundTruth
from decision_support.consent.reads import consented_patient
from decision_support.lib.vocabulary import Purpose
from decision_support.registry.models import TrainedModel
from models.algorithms import ALGORITHMS
from models.features import VARIANTS
from synthetic_data import ARMS, DATA_DICTIONARY, LESSON_PLANS

pytestmark = pytest.mark.django_db

E, S, R = Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER
TRUTH_VARIABLES = [v for v in DATA_DICTIONARY.values() if v.data_class == "ground_truth"]

# The labels pages use for one patient's truth, and for anything computed from the truth about a
# model (the truth check, the calibration series against the true probabilities, the policy value).
PATIENT_TRUTH_LABELS = (
    "Truth beside prediction",  # patient page
    "Prediction minus truth",  # patient page
    "True response probability (the simulation's truth",  # what-if, explanation comparison
    "Educator's key",  # case packets
)
MODEL_TRUTH_LABELS = (
    "Truth check",
    "True share",
    "Oracle ROC AUC",
    "Mean absolute error vs true probability",
    "True response probability",  # the calibration chart's series against the truth
    "Oracle (truly best arm)",  # the policy value
    "Best single treatment for everyone",  # the policy value
)
# The dictionary labels of the truth variables: per patient (true probability and potential
# outcome under each arm) and the latent drivers (the truth check names them with their share).
PATIENT_VARIABLE_LABELS = tuple(v.label for v in TRUTH_VARIABLES
                                if v.name.startswith(("p_response_", "response_")))
LATENT_LABELS = tuple(v.label for v in TRUTH_VARIABLES if v.name.endswith("_z"))
# The data dictionary documents every variable, the truth variables included (name, label,
# definition), and shows no values: the labels may appear there, nothing else may change.
DOCUMENTS_THE_VARIABLES = {"data_dictionary"}
# The audit log lists the walk's own reads, so its numbers change between walks; it is still
# searched for the labels.
GROWS_WITH_THE_WALK = {"audit_log"}

# Replacement truth: values no generated cohort stores.
PATIENT_SENTINELS = {arm: round(0.0613 + 0.1321 * i, 4) for i, arm in enumerate(ARMS)}
POLICY_SENTINELS = {"model": 0.8137, "random": 0.6241, "oracle": 0.9173, "best_single": 0.7069,
                    "intervals": {"model": [0.7913, 0.8351], "random": [0.6017, 0.6459],
                                  "oracle": [0.8947, 0.9389], "best_single": [0.6829, 0.7283]}}
POLICY_NEEDLES = [f"{v * 100:.1f}%" for name, v in POLICY_SENTINELS.items() if name != "intervals"]
POLICY_NEEDLES += [f"{v * 100:.1f}%" for bounds in POLICY_SENTINELS["intervals"].values()
                   for v in bounds]


def _sentinel(value: float) -> float:
    return round(0.3719 + value / 3, 6)


def _patient_path(name, o, **query):
    return ("get", reverse(name, args=[o["patient"].pseudonym]), query)


def _model_path(name, o, **query):
    return ("get", reverse(name, args=[o["run"].pk, o["arm"]]), query)


EVERY_MODEL = [{"algorithm": a, "variant": v} for a in ALGORITHMS for v in VARIANTS]

# URL name -> the requests that show everything the page can show: (method, path, query or data).
WALK = {
    "home": lambda o: [("get", reverse("home"), {})],
    "cohort_list": lambda o: [("get", reverse("cohort_list"), {})],
    "cohort_overview": lambda o: [("get", reverse("cohort_overview", args=[o["cohort"].pk]), {})],
    "data_dictionary": lambda o: [("get", reverse("data_dictionary"), {})],
    "primer": lambda o: [("get", reverse("primer"), {})],
    "guide_dismiss": lambda o: [("post", reverse("guide_dismiss"), {})],
    "glossary": lambda o: [("get", reverse("glossary"), {})],
    # Every plan, its steps linked to the fixture's cohort and run.
    "lesson_list": lambda o: [("get", reverse("lesson_list"), {})],
    "lesson_detail": lambda o: [("get", reverse("lesson_detail", args=[name]), {})
                                for name in LESSON_PLANS],
    "lesson_pdf": lambda o: [("get", reverse("lesson_pdf", args=[name]), {}) for name in LESSON_PLANS],
    "cohort_compare": lambda o: [("get", reverse("cohort_compare"), {"a": o["cohort"].pk}),
                                 ("get", reverse("cohort_compare"),
                                  {"a": o["cohort"].pk, "b": o["cohort"].pk})],
    "models_home": lambda o: [("get", reverse("models_home"), {})],
    "run_overview": lambda o: [("get", reverse("run_overview", args=[o["cohort"].pk]), {})],
    "model_detail": lambda o: [_model_path("model_detail", o, **m) for m in EVERY_MODEL]
                              + [_model_path("model_detail", o, threshold="0.30")],
    "model_fairness": lambda o: [_model_path("model_fairness", o),
                                 _model_path("model_fairness", o, threshold="0.30")],
    # The fixture's run has one site: the page says it has no external validation.
    "run_travel": lambda o: [("get", reverse("run_travel", args=[o["run"].pk]), {}),
                             ("get", reverse("run_travel", args=[o["run"].pk]), {"n_local": "50"})],
    "model_card": lambda o: [_model_path("model_card", o, **m) for m in EVERY_MODEL]
                            + [_model_path("model_card", o, threshold="0.30")],
    # With each filter on the ranking that students and reviewers may use (the truth filter is
    # educators' only and refused to them).
    "patient_list": lambda o: [("get", reverse("patient_list", args=[o["cohort"].pk]), query)
                               for query in ({}, {"algorithms_disagree": "on"},
                                             {"small_sample": "on"}, {"consent_withheld": "on"})],
    "patient_detail": lambda o: [_patient_path("patient_detail", o, algorithm=a)
                                 for a in ALGORITHMS],
    "patient_explanations": lambda o: [_patient_path("patient_explanations", o, arm=arm)
                                       for arm in ARMS]
                                      + [_patient_path("patient_explanations", o, stability="1")],
    "patient_what_if": lambda o: [_patient_path("patient_what_if", o),
                                  _patient_path("patient_what_if", o, crp_mg_l=_other_crp(o)),
                                  _patient_path("patient_what_if", o, hamd17="30",
                                                prior_failures="3")],
    # POST only: the form's errors (an empty form), nothing else.
    "decision_record": lambda o: [("post", reverse("decision_record",
                                                   args=[o["patient"].pseudonym]), {})],
    "model_review": lambda o: [("post", reverse("model_review", args=[o["run"].pk, o["arm"]]), {})],
    "case_review": lambda o: [("post", reverse("case_review", args=[o["patient"].pseudonym]), {})],
    "review_list": lambda o: [("get", reverse("review_list"), {})],
    "case_packet": lambda o: [_patient_path("case_packet", o), _patient_path("case_packet", o, key="on")],
    "case_packet_pdf": lambda o: [_patient_path("case_packet_pdf", o, key="on")],
    "seminar_pack_list": lambda o: [("get", reverse("seminar_pack_list"), {})],
    "seminar_pack_detail": lambda o: [("get", reverse("seminar_pack_detail", args=[o["pack"].pk]), {})],
    "seminar_pack_pdf": lambda o: [("get", reverse("seminar_pack_pdf", args=[o["pack"].pk]), {})],
    "audit_log": lambda o: [("get", reverse("audit_log"), {})],
    # The export's form (its CSV is noisy by design, and counts observed variables only).
    "aggregate_export": lambda o: [("get", reverse("aggregate_export", args=[o["cohort"].pk]), {})],
    "api_tokens": lambda o: [("get", reverse("api_tokens"), {})],
    "course_list": lambda o: [("get", reverse("course_list"), {})],
    "course_detail": lambda o: [("get", reverse("course_detail", args=[o["cohort"].course_id]), {})],
    # The fixture's exercise is open: before the reveal no page of it shows truth. (After the
    # reveal a student's own result shows the truth of its cases: tests/exercises checks that
    # deliberate release.)
    "exercise_list": lambda o: [("get", reverse("exercise_list"), {})],
    "exercise_answer": lambda o: [("get", reverse("exercise_answer", args=[o["exercise"].pk]),
                                   {"case": str(case.position)})
                                  for case in o["exercise"].ordered_cases()]
                                 + [("post", reverse("exercise_answer", args=[o["exercise"].pk]),
                                     {"case": "1"})],
    "exercise_my_result": lambda o: [("get", reverse("exercise_my_result",
                                                     args=[o["exercise"].pk]), {})],
    "api_cohort_list": lambda o: [("get", reverse("api:api_cohort_list"), {})],
    "api_cohort": lambda o: [("get", reverse("api:api_cohort", args=[o["cohort"].pk]), {})],
    "api_patient_list": lambda o: [("get", reverse("api:api_patient_list", args=[o["cohort"].pk]), {})],
    "api_patient": lambda o: [("get", reverse("api:api_patient", args=[o["patient"].pseudonym]), {})],
    "api_patient_predictions": lambda o: [("get", reverse("api:api_patient_predictions",
                                                          args=[o["patient"].pseudonym]), {})],
    "api_patient_explanations": lambda o: [("get", reverse("api:api_patient_explanations",
                                                           args=[o["patient"].pseudonym]),
                                            {"algorithm": a}) for a in ALGORITHMS],
    "api_run_models": lambda o: [("get", reverse("api:api_run_models", args=[o["run"].pk]), {})],
    # One site, as the travel page above (tests/api/test_travel.py walks a multi-site run).
    "api_run_travel": lambda o: [("get", reverse("api:api_run_travel", args=[o["run"].pk]), {})],
}


def _reachable(role) -> list[str]:
    return sorted(name for name, policy in POLICIES.items() if policy and role in policy.roles)


def _other_crp(o) -> str:
    crp = consented_patient(o["patient"], purpose=Purpose.EDUCATION).values["crp_mg_l"]
    return "0.05" if crp > 5 else "60"


def _text(response) -> str:
    if response.get("Content-Type") == "application/pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return html.unescape(response.content.decode())


def _walk(client, user, objects, names) -> dict[tuple, str]:
    """Every request of every page in ``names`` as ``user``: {(name, path, query): text}."""
    client.force_login(user)
    if not hasattr(user, "walk_token"):  # one token, so the token page is the same each walk
        user.walk_token = api_token_create(user=user, name="walk")[1]
    token = {"HTTP_AUTHORIZATION": f"Bearer {user.walk_token}"}
    bodies = {}
    for name in names:
        for method, path, query in WALK[name](objects):
            response = getattr(client, method)(path, query, **(token if name in API_PAGES else {}))
            assert response.status_code < 500, (name, query)
            bodies[(name, path, str(query))] = _text(response)
    return bodies


def _replace_patient_truth(patient):
    truth = GroundTruth.objects.get(patient=patient)
    for name in ("inflammation_z", "illness_burden_z", "genetic_liability_z"):
        setattr(truth, name, getattr(truth, name) + 1.7)
    for arm, sentinel in PATIENT_SENTINELS.items():
        setattr(truth, f"p_response_{arm}", sentinel)
        setattr(truth, f"response_{arm}", not getattr(truth, f"response_{arm}"))
    truth.save()


def _replace_model_truth(run):
    for model in TrainedModel.objects.filter(run=run):
        model.truth_check = _replaced(model.truth_check)
        model.save(update_fields=["truth_check"])
    run.policy_value = {**run.policy_value, **POLICY_SENTINELS}
    run.save(update_fields=["policy_value"])


def _replaced(value):
    """Every number in a stored truth check replaced (flags and labels kept)."""
    if isinstance(value, dict):
        return {k: _replaced(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v) for v in value]
    return _sentinel(value) if isinstance(value, float) else value


NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?%?")
# Per-request tokens (CSRF, CSP nonces) and identifiers: digits in them are not numbers shown.
TOKEN = re.compile(r"[A-Za-z0-9+/_=-]{20,}")


def _numbers(text: str) -> Counter:
    return Counter(NUMBER.findall(TOKEN.sub(" ", text)))


def _patient_needles() -> dict[str, str]:
    return {f"{p * 100:.1f}%": arm for arm, p in PATIENT_SENTINELS.items()} | {
        repr(p): arm for arm, p in PATIENT_SENTINELS.items()}


def _changes(before: dict, after: dict) -> list[str]:
    problems = []
    for key, text in after.items():
        if key[0] in GROWS_WITH_THE_WALK:
            continue
        changed = (_numbers(text) - _numbers(before[key])) + (_numbers(before[key]) - _numbers(text))
        if changed:
            problems.append(f"{key}: numbers change with the truth: {sorted(changed)[:12]}")
    return problems


def _labels(bodies: dict, labels) -> list[str]:
    return [f"{key}: shows {label!r}" for key, text in bodies.items() for label in labels
            if label in text and key[0] not in DOCUMENTS_THE_VARIABLES]


def test_every_page_a_student_or_ethics_reviewer_opens_is_walked():
    missing = (set(_reachable(S)) | set(_reachable(R))) - set(WALK)
    assert not missing, f"add these URL names to WALK: {sorted(missing)}"


@pytest.mark.parametrize("name", _reachable(S))
def test_students_see_no_truth_on_any_page(client, make_user, objects, name):
    user = make_user(S)
    before = _walk(client, user, objects, [name])
    _replace_patient_truth(objects["patient"])
    _replace_model_truth(objects["run"])
    after = _walk(client, user, objects, [name])
    labels = PATIENT_TRUTH_LABELS + PATIENT_VARIABLE_LABELS + MODEL_TRUTH_LABELS + LATENT_LABELS
    problems = _labels(after, labels) + _changes(before, after)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", _reachable(R))
def test_ethics_reviewers_see_no_patients_truth_on_any_page(client, make_user, objects, name):
    user = make_user(R)
    before = _walk(client, user, objects, [name])
    _replace_patient_truth(objects["patient"])
    after = _walk(client, user, objects, [name])
    problems = _labels(after, PATIENT_TRUTH_LABELS + PATIENT_VARIABLE_LABELS) + _changes(before, after)
    assert not problems, "\n".join(problems)


def test_educators_see_every_truth_label_and_value(client, make_user, objects):
    """The positive: the walk finds the truth where it may be shown, in the formats searched."""
    shown_model = TrainedModel.objects.get(run=objects["run"], arm=objects["arm"],
                                           algorithm=ALGORITHMS[0], variant=VARIANTS[0])
    true_shares = {f"{_sentinel(row['true_share']) * 100:.1f}%"
                   for row in shown_model.truth_check["features"]}
    _replace_patient_truth(objects["patient"])
    _replace_model_truth(objects["run"])
    bodies = _walk(client, make_user(E), objects, sorted(set(WALK) & set(_reachable(E))))
    shown = {key: text for key, text in bodies.items() if key[0] not in DOCUMENTS_THE_VARIABLES}
    everything = "\n".join(shown.values())
    missing = [label for label in PATIENT_TRUTH_LABELS + MODEL_TRUTH_LABELS if label not in everything]
    assert not missing, f"labels no educator page shows: {missing}"
    dictionary = next(text for key, text in bodies.items() if key[0] == "data_dictionary")
    assert all(label in dictionary for label in PATIENT_VARIABLE_LABELS + LATENT_LABELS)
    numbers = Counter()
    for text in shown.values():
        numbers += _numbers(text)
    assert {arm for needle, arm in _patient_needles().items() if needle in numbers} == set(ARMS)
    assert all(needle in numbers for needle in POLICY_NEEDLES)
    assert true_shares <= set(numbers)


def test_ethics_reviewers_see_the_model_truth_check(client, make_user, objects):
    _replace_model_truth(objects["run"])
    bodies = _walk(client, make_user(R), objects, ["model_detail", "run_overview"])
    everything = "\n".join(bodies.values())
    assert "Truth check" in everything and "Oracle (truly best arm)" in everything

