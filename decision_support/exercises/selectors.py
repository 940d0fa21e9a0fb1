"""Reads of case exercises: the exercises a person may see, the live counts, and, once an exercise
is revealed, its scores against the simulation's truth.

The truth of an exercise's cases is released by one rule, here: ``scored_cases`` answers only for
a revealed exercise. The access gate lets only the course's educators open the class results and
the export, and a student only their own result page: that page shows the truth of the
exercise's cases (true response probabilities of the arms), a deliberate release scoped to the
exercise and to the time after its reveal. Every other page keeps a patient's truth for
``accounts.access.PATIENT_TRUTH_ROLES``.
"""

from __future__ import annotations

from django.db.models import Count

from decision_support.accounts.roles import Role
from decision_support.cohorts.models import ClinicalRecord, Cohort
from decision_support.cohorts.selectors import true_probabilities
from decision_support.courses.models import Membership
from models.exercise_scoring import Choice, ScoredCase, summary
from models.ranking import eligible_arms
from synthetic_data import ARM_LABELS
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .models import Exercise, ExerciseAnswer, ExerciseAssignment

CSV_COLUMNS = ["username", "display name", "case", "pseudonym", "arm", "confidence", "reason",
               "shows model", "model top arm", "best arm", "true p_response of the chosen arm"]


def case_eligible_arms(patient) -> tuple[str, ...]:
    """The arms a case's patient may receive, from the stored prior failures (as the patient page
    and a recorded decision define eligibility)."""
    failures = ClinicalRecord.objects.values_list("prior_failures", flat=True).get(patient=patient)
    return eligible_arms(failures >= TREATMENT_RESISTANT_MIN_FAILURES)


def exercises_for(user) -> list[dict]:
    """The exercises of the user's courses, built from their memberships: every exercise where
    they teach, the open and revealed ones where they study; with their course role."""
    roles = dict(Membership.objects.filter(user=user).values_list("course_id", "role"))
    shown = [course for course, role in roles.items() if role in (Role.EDUCATOR, Role.STUDENT)]
    rows = []
    for exercise in (Exercise.objects.filter(course_id__in=shown).select_related("course")
                     .annotate(n_cases=Count("cases"))):
        role = roles[exercise.course_id]
        if role == Role.STUDENT and exercise.state == Exercise.State.DRAFT:
            continue
        rows.append({"exercise": exercise, "role": role})
    return rows


def exercise_cohorts(user) -> list[Cohort]:
    """The cohorts an exercise can be made on by ``user``: those with a training run, in the
    courses where they teach."""
    teaching = Membership.objects.filter(user=user, role=Role.EDUCATOR).values("course_id")
    return list(Cohort.objects.filter(course_id__in=teaching, training_runs__isnull=False)
                .distinct().order_by("name", "pk"))


def display_names(exercise: Exercise) -> dict[int, str]:
    """User id -> the name the course knows them by (roster name, else full name, else username)."""
    rows = Membership.objects.filter(course_id=exercise.course_id).select_related("user")
    return {m.user_id: m.display_name or m.user.get_full_name() or m.user.get_username()
            for m in rows}


def live_counts(exercise: Exercise) -> dict:
    """What the educator's live view shows: the state, students enrolled, opened and answered, and
    answers per case. No names, no choices."""
    per_case = dict(ExerciseAnswer.objects.filter(exercise=exercise).values_list("case_id")
                    .annotate(n=Count("id")).values_list("case_id", "n"))
    cases = exercise.ordered_cases()
    return {
        "state": exercise.state,
        "students": Membership.objects.filter(course_id=exercise.course_id,
                                              role=Role.STUDENT).count(),
        "opened": ExerciseAssignment.objects.filter(exercise=exercise).count(),
        "answered": ExerciseAnswer.objects.filter(exercise=exercise)
                                          .values("user_id").distinct().count(),
        "complete": (ExerciseAnswer.objects.filter(exercise=exercise).values("user_id")
                     .annotate(n=Count("id")).filter(n=len(cases)).count()),
        "cases": [{"position": c.position, "label": c.patient.case_label,
                   "answers": per_case.get(c.pk, 0)} for c in cases],
    }


def student_answers(exercise: Exercise, user) -> dict[int, ExerciseAnswer]:
    """One student's answers by case position (only theirs)."""
    return {a.case.position: a for a in ExerciseAnswer.objects.filter(exercise=exercise, user=user)
            .select_related("case")}


def scored_cases(exercise: Exercise) -> dict[int, ScoredCase] | None:
    """Each case (by position) with its eligible arms, true response probabilities and the model's
    top arm; None before the reveal (the one rule releasing an exercise's truth)."""
    if not exercise.revealed:
        return None
    cases = exercise.ordered_cases()
    truth = true_probabilities([c.patient_id for c in cases])
    failures = dict(ClinicalRecord.objects.filter(patient__in=[c.patient for c in cases])
                    .values_list("patient_id", "prior_failures"))
    return {c.position: ScoredCase(
        key=str(c.position),
        eligible=eligible_arms(failures[c.patient_id] >= TREATMENT_RESISTANT_MIN_FAILURES),
        p_response=truth[c.patient_id],
        model_top=c.model_top_arm) for c in cases}


def _answers(exercise: Exercise, user=None) -> list[tuple[ExerciseAnswer, bool]]:
    """The answers (one student's, or all) with whether their author was shown the model."""
    shows = dict(ExerciseAssignment.objects.filter(exercise=exercise)
                 .values_list("user_id", "shows_model"))
    rows = ExerciseAnswer.objects.filter(exercise=exercise).select_related("case__patient", "user")
    if user is not None:
        rows = rows.filter(user=user)
    return [(a, shows.get(a.user_id, exercise.mode == Exercise.Mode.WITH_MODEL))
            for a in rows.order_by("user__username", "case__position")]


def _choices(answers) -> list[Choice]:
    return [Choice(student=str(a.user_id), case=str(a.case.position), arm=a.arm,
                   confidence=a.confidence, shows_model=shows) for a, shows in answers]


def class_results(exercise: Exercise, *, random_state=None) -> dict | None:
    """The reveal: per case the class's choices (counts per arm, no names) beside the model's top
    arm and the truly best one; the scores of ``models.exercise_scoring.summary``. None before
    the reveal."""
    cases = scored_cases(exercise)
    if cases is None:
        return None
    answers = _answers(exercise)
    keyed = {str(p): case for p, case in cases.items()}
    rows = []
    for case in exercise.ordered_cases():
        scored = cases[case.position]
        counts = {arm: 0 for arm in scored.eligible}
        for answer, _ in answers:
            if answer.case_id == case.pk:
                counts[answer.arm] = counts.get(answer.arm, 0) + 1
        rows.append({"case": case, "label": case.patient.case_label,
                     "best": scored.best_arm, "best_label": ARM_LABELS[scored.best_arm],
                     "model": scored.model_top, "model_label": ARM_LABELS[scored.model_top],
                     "model_wrong": scored.model_wrong, "answers": sum(counts.values()),
                     "arms": [{"arm": arm, "label": ARM_LABELS[arm], "count": n,
                               "p": scored.p_response[arm], "best": arm == scored.best_arm,
                               "model": arm == scored.model_top} for arm, n in counts.items()]})
    return {"cases": rows,
            "scores": summary(keyed, _choices(answers), random_state=random_state)}


def student_result(exercise: Exercise, user) -> dict | None:
    """One student's own result: per case their choice beside the best arm and the model's, and
    the expected response of their choices against the model's on the same cases. None before
    the reveal."""
    cases = scored_cases(exercise)
    if cases is None:
        return None
    answers = _answers(exercise, user)
    rows = [{"label": a.case.patient.case_label, "answer": a, "arm_label": ARM_LABELS[a.arm],
             "p": cases[a.case.position].p_response[a.arm],
             "best_label": ARM_LABELS[cases[a.case.position].best_arm],
             "best_p": cases[a.case.position].oracle,
             "model_label": ARM_LABELS[cases[a.case.position].model_top],
             "model_p": cases[a.case.position].model,
             "is_best": a.arm == cases[a.case.position].best_arm} for a, _ in answers]

    def mean(key):
        return sum(r[key] for r in rows) / len(rows) if rows else None

    return {"rows": rows, "shows_model": answers[0][1] if answers else None,
            "mine": mean("p"), "model": mean("model_p"), "oracle": mean("best_p"),
            "unanswered": len(cases) - len(rows)}


def results_csv_rows(exercise: Exercise) -> list[list] | None:
    """One row per student and answered case, for grading (``CSV_COLUMNS``); None before the
    reveal."""
    cases = scored_cases(exercise)
    if cases is None:
        return None
    names = display_names(exercise)
    return [CSV_COLUMNS] + [
        [a.user.get_username(), names.get(a.user_id, a.user.get_username()),
         a.case.patient.case_label, a.case.patient.pseudonym, a.arm, a.confidence, a.reason,
         "yes" if shows else "no", cases[a.case.position].model_top,
         cases[a.case.position].best_arm, f"{cases[a.case.position].p_response[a.arm]:.4f}"]
        for a, shows in _answers(exercise)]
