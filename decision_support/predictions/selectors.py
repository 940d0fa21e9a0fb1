"""Reads: the cohort's patient list and its filters, one patient's predictions and explanations,
the pause in force, and the decisions recorded for a patient that a reader may see
(``patient_decisions``: the one rule, for every surface that shows decisions).

A patient's truth reaches pages only through the readers below that take the reader's roles
(``patient_truth``, ``true_response_probabilities``): one rule (``_patient_truth_reader``)
applies the field rules of ``accounts.access`` (``PATIENT_TRUTH_ROLES``) to both, so a page,
export or API answer for another role never receives it; the model-level truth has its readers
in ``registry.selectors``.
"""

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache, reduce, wraps
from operator import itemgetter, or_
from types import MappingProxyType

import numpy as np
import pandas as pd
from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import F, Q

from decision_support.accounts.access import (ALL_DECISIONS_ROLES, PATIENT_TRUTH_ROLES, POLICIES,
                                              can, hidden_values)
from decision_support.cohorts.aggregates import cohort_permitted
from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import OBSERVED_LOOKUPS, true_probabilities, truth_frame
from decision_support.consent.reads import (ConsentedPatient, consent_classes_of,
                                            patients_permitting)
from decision_support.consent.selectors import (NO_PATIENT, classes_code,
                                                permitted_classes_by_patient, variants_of_codes)
from decision_support.lib.vocabulary import CONSENT_CLASSES, ConsentClass
from decision_support.registry.loading import fitted_model, refit_coefficients
from decision_support.registry.models import TrainedModel, TrainingRun
from decision_support.registry.selectors import latest_run, ranking_choice

from models.evaluation import AGE_BANDS
from models.explain import Explanation, narrative
from models.features import FeatureRows, prepare_rows
from models.pgx import Guidance, pgx_guidance
from models.ranking import AlgorithmChoice, eligible_arms, rank_treatments
from synthetic_data import ARM_LABELS
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .models import CaseRanking, PredictionPause, TreatmentDecision

PATIENTS_PER_PAGE = 50
# From this many patients found, their consent is read from the cohort's stored table
# (``cohort_permitted``) rather than from their records: at 300 the two reads took the same time
# before the table was stored, so a list that finds a handful does not depend on it being fresh.
TABLE_READ_FROM = 300


@dataclass
class ArmExplanation:
    arm: str
    model: TrainedModel
    explanation: Explanation
    narrative: str


@dataclass
class PatientPredictions:
    ranking: pd.DataFrame
    explanations: list[ArmExplanation]
    true_probability: dict | None
    variant: str
    choice: AlgorithmChoice  # the algorithm that ranked, and why


def patient_predictions(patient: ConsentedPatient, run: TrainingRun, *,
                        algorithm: str | None = None, truth_roles=frozenset(),
                        hidden: frozenset[str] = frozenset()) -> PatientPredictions | None:
    """Ranking of eligible arms (with intervals), a SHAP explanation per ranked arm by
    ``algorithm`` (by default the one that ranks), PGx rules, and, when ``truth_roles`` may see a
    patient's truth and the cohort is simulated, the true response probability under every arm.
    Narratives name the features in ``hidden`` without their values.

    Only the data the consent gate released is used, by the model variant that never saw the
    rest; without clinical consent nothing is predicted (None). While predictions are paused
    nothing is predicted either (None; see ``patient_ranking``).
    """
    scored = _scored(patient, run, explain=True, algorithm=algorithm)
    if scored is None:
        return None
    explanations = [ArmExplanation(
        arm=arm, model=row, explanation=explanation,
        narrative=narrative(explanation, arm_label=ARM_LABELS[arm],
                            medians=fitted_model(row).medians, hidden=hidden))
        for arm in scored.ranking["arm"] if arm in scored.explained
        for row, explanation in [scored.explained[arm]]]
    true_probability = true_response_probabilities(patient.frame.index[0], roles=truth_roles)
    return PatientPredictions(ranking=scored.ranking, explanations=explanations,
                              true_probability=true_probability, variant=patient.variant,
                              choice=scored.choice)


# --- The patient list and its filters ------------------------------------------------------------

FILTERS_NOT_OFFERED = "filters these roles may not use: {names}"
# Filters on a patient's observed values: filter -> the data-dictionary variable it reads. A filter
# finds only patients whose consent for the page's purpose covers that variable (else it would
# reveal the value), and is offered only to roles that see the value (``hidden_values``).
VALUE_FILTERS = {"arm": "arm", "ancestry": "ancestry", "sex": "sex", "age_band": "age",
                 "cyp2c19_phenotype": "cyp2c19_phenotype"}
# Filters on the ranking a patient page shows (``patient_ranking``): only patients it ranks.
RANKING_FILTERS = ("model_wrong", "algorithms_disagree", "small_sample")
# The small-sample filter reads the received arm too.
FILTER_VARIABLES = {**VALUE_FILTERS, "small_sample": "arm"}
AGE_BAND_RANGES = {label: (lower, upper - 1 if upper else None) for (lower, label), upper
                   in zip(AGE_BANDS, [b for b, _ in AGE_BANDS[1:]] + [None])}


@dataclass(frozen=True)
class CaseFilters:
    """What the patient list looks for; an empty value looks for nothing."""

    number: int | None = None  # a case number ("Case 14")
    prefix: str = ""  # the start of a pseudonym
    model_wrong: bool = False  # the ranking's first arm is not the truly best eligible arm
    algorithms_disagree: bool = False  # the run's algorithms put different arms first
    consent_withheld: bool = False  # the consent for the page's purpose withholds some class
    small_sample: bool = False  # the received arm's ranking model is flagged small-sample
    arm: str = ""  # the arm received
    ancestry: str = ""
    sex: str = ""
    age_band: str = ""  # a label of ``models.evaluation.AGE_BANDS``
    cyp2c19_phenotype: str = ""

    @property
    def active(self) -> frozenset[str]:
        """The filters in use, by name (``search`` for the number and the prefix)."""
        used = {f.name for f in fields(self) if f.name not in ("number", "prefix")
                and getattr(self, f.name)}
        return frozenset(used | ({"search"} if self.number is not None or self.prefix else set()))

    @property
    def needs(self) -> frozenset[str]:
        """The consent classes a patient must permit to be found by these filters."""
        return consent_classes_of(FILTER_VARIABLES[name] for name in self.active
                                  if name in FILTER_VARIABLES)


def offered_filters(roles) -> frozenset[str]:
    """The filters these roles may use: the search and the consent filter for every role that opens
    the list; filters on clinical data and predictions for the roles that see them (those of a
    patient's page); no filter on a value the roles may not see; the truth for educators."""
    offered = {"search", "consent_withheld"}
    if can(roles, POLICIES["patient_detail"].roles):
        hidden = hidden_values(roles)
        offered |= {name for name, variable in FILTER_VARIABLES.items() if variable not in hidden}
        offered.add("algorithms_disagree")
        if can(roles, PATIENT_TRUTH_ROLES):
            offered.add("model_wrong")
    return frozenset(offered)


NO_PAGE_AFTER = "there is no patient after case {after}"


@dataclass
class PatientListPage:
    page: Page | None  # Django's: its number, the paginator's count; None while ``unranked``
    patients: list[dict]  # pseudonym, case label, and clinical (arm, response, prior failures) or None
    shows_clinical: bool  # False: these roles see pseudonyms only
    withheld: int  # patients on the page whose consent withholds their clinical data
    # Why the ranking filters found nobody ("paused", "no_training_run"), or "".
    rankings_unavailable: str = ""
    # Patients the ranking filters could not judge yet: no stored ranking in the variant their
    # consent allows now (``services.case_rankings_store`` stores them).
    unranked: tuple[int, ...] = ()
    run: TrainingRun | None = None
    next_after: int | None = None  # the key of the next page (the last case here), if there is one


def patient_list_page(cohort, number=1, *, after: int | None = None, roles, purpose: str,
                      filters: CaseFilters = CaseFilters(),
                      until_ranked: bool = False) -> PatientListPage:
    """One page of a cohort's patients that ``filters`` find, in case order: every pseudonym and
    case label, and each patient's treatment, outcome and prior failures where the roles may see
    clinical data (those of a patient's page) and the patient's consent for ``purpose`` covers it.
    The page starts at the first patient after case number ``after`` (the key the list's Next
    link carries: the next page starts after the last patient seen, however the list changed
    meanwhile; numbered as the page after the patients before it), or else page ``number``.
    Raises ``InvalidPage`` for a page out of range or no patient after ``after``, and
    ``ValueError`` for a filter the roles may not use (``offered_filters``). With
    ``until_ranked``, no page (``unranked`` named instead) while some patients the ranking
    filters must judge have no stored ranking in the variant their consent allows now; without
    it, those patients are not found.

    A filter on a value finds only patients whose consent covers it; a filter on the ranking only
    patients ranked (clinical consent, a training run, predictions not paused), by the stored
    summary of the ranking the patient page shows (``CaseRanking``) in the variant their consent
    allows now. Without a filter the count is the cohort's stored patients (``n_patients`` less
    the erased), not a count of rows.
    """
    refused = filters.active - offered_filters(roles)
    if refused:
        raise ValueError(FILTERS_NOT_OFFERED.format(names=", ".join(sorted(refused))))
    found = _value_filtered(Patient.objects.filter(cohort=cohort), filters)
    shows_clinical = can(roles, POLICIES["patient_detail"].roles)
    unavailable, unranked, run = "", (), None
    if filters.active - {"search"}:
        kept, unavailable, unranked, run = _consent_filtered(cohort, found, filters,
                                                             purpose=purpose)
        if unranked and until_ranked:  # no page until they are stored: it could still grow
            return PatientListPage(page=None, patients=[], shows_clinical=shows_clinical,
                                   withheld=0, unranked=unranked, run=run)
        page = _page(kept, len(kept), number, after)
    else:
        count = (found.count() if filters.active
                 else cohort.n_patients - cohort.tombstones.count())
        page = _page(found.values_list("pk", "number"), count, number, after)
    ids = [pk for pk, _ in page]
    rows = Patient.objects.filter(pk__in=ids).only("pseudonym", "number", "arm", "response") \
        .annotate(prior_failures=F("clinical__prior_failures")).in_bulk()
    clinical = (patients_permitting(ids, needs={ConsentClass.CLINICAL}, purpose=purpose)
                if shows_clinical else frozenset())
    patients = [{"pseudonym": p.pseudonym, "case_label": p.case_label,
                 "clinical": ({"arm": p.arm, "response": p.response,
                               "prior_failures": p.prior_failures} if p.pk in clinical else None)}
                for p in (rows[pk] for pk in ids)]
    withheld = sum(p["clinical"] is None for p in patients) if shows_clinical else 0
    return PatientListPage(page=page, patients=patients, shows_clinical=shows_clinical,
                           withheld=withheld, rankings_unavailable=unavailable,
                           unranked=unranked, run=run,
                           next_after=page[-1][1] if page.has_next() else None)


def _page(found, count: int, number, after: int | None) -> Page:
    """The page of ``found`` ((pk, case number) pairs in case order: a list, or a queryset whose
    ``count`` is known) that starts at the first patient after case ``after``, or else page
    ``number``, checked as Django's paginator checks it."""
    paginator = Paginator(found, PATIENTS_PER_PAGE)
    paginator.count = count  # known already (a cached property): no COUNT(*) over the rows
    if after is None:
        return paginator.page(number)
    if isinstance(found, list):
        before = bisect_right([n for _, n in found], after)
        rows = found[before:before + PATIENTS_PER_PAGE + 1]
    else:  # by key: the rows after the case, not an OFFSET that grows with the page
        before = found.filter(number__lte=after).count()  # index only, for the page's number
        rows = list(found.filter(number__gt=after)[:PATIENTS_PER_PAGE + 1])
    if not rows and (count or after):
        raise EmptyPage(NO_PAGE_AFTER.format(after=after))
    return _PageAfterKey(rows[:PATIENTS_PER_PAGE], paginator, before=before,
                         more=len(rows) > PATIENTS_PER_PAGE)


class _PageAfterKey(Page):
    """A page that starts after a key, wherever that falls since the list changed: numbered as
    the page that follows the ``before`` patients, with a next page while rows are left."""

    def __init__(self, rows, paginator, *, before: int, more: bool):
        number = min(-(-before // paginator.per_page) + 1, paginator.num_pages)
        super().__init__(rows, number, paginator)
        self.more = more

    def has_next(self):
        return self.more


def _value_filtered(patients, filters: CaseFilters):
    """The patients (pks, in case order) whose stored values match; consent is not asked yet."""
    searched = ([Q(number=filters.number)] if filters.number is not None else []) + (
        [Q(pseudonym__istartswith=filters.prefix)] if filters.prefix else [])
    if searched:
        patients = patients.filter(reduce(or_, searched))
    for name in ("arm", "ancestry", "sex", "cyp2c19_phenotype"):
        if getattr(filters, name):
            lookup = OBSERVED_LOOKUPS[VALUE_FILTERS[name]]
            patients = patients.filter(**{lookup: getattr(filters, name)})
    if filters.age_band:
        low, high = AGE_BAND_RANGES[filters.age_band]
        patients = patients.filter(clinical__age__gte=low,
                                   **({"clinical__age__lte": high} if high is not None else {}))
    return patients.order_by("number", "pk")


def _consent_filtered(cohort, found, filters: CaseFilters, *, purpose: str):
    """The patients among ``found`` whose consent lets the filters find them and who match the
    consent and ranking filters ((pk, case number), in case order); with why the ranking filters
    found nobody, the patients whose stored ranking is missing or stale, and the run ranked by.
    Each patient's permitted classes are a byte (``consent.selectors.classes_code``), so the
    filters are array operations over the patients found."""
    pks, arms, numbers = _columns(found.values_list("pk", "arm", "number"), np.int64, object,
                                  np.int64)
    if len(pks) >= TABLE_READ_FROM:
        codes = cohort_permitted(cohort, purpose=purpose).codes_of(numbers)
    else:
        permitted = permitted_classes_by_patient(pks.tolist(), purpose=purpose)
        codes = np.array([classes_code(permitted[pk]) for pk in pks.tolist()], dtype=np.uint8)
    needs = classes_code(filters.needs)
    kept = (codes != NO_PATIENT) & (codes & needs == needs)  # NO_PATIENT: erased meanwhile
    if filters.consent_withheld:
        kept &= codes != classes_code(CONSENT_CLASSES)
    unavailable, unranked, run = "", (), None
    if set(RANKING_FILTERS) & filters.active:
        run = latest_run(cohort)
        unavailable = ("paused" if prediction_pause() is not None
                       else "no_training_run" if run is None else "")
        variants = variants_of_codes(codes)
        kept &= (variants != "") & (not unavailable)
        if kept.any():
            kept, unranked = _ranking_filtered(run, pks, arms, variants, kept, filters)
    return (list(zip(pks[kept].tolist(), numbers[kept].tolist())), unavailable, unranked, run)


def _columns(rows, *dtypes) -> list[np.ndarray]:
    """The columns of ``rows`` (tuples of ``len(dtypes)`` values) as arrays of ``dtypes``."""
    rows = list(rows)
    return [np.fromiter(map(itemgetter(i), rows), dtype, len(rows))
            for i, dtype in enumerate(dtypes)]


def _ranking_filtered(run, pks, arms, variants, kept, filters: CaseFilters):
    """The ranking filters over the patients ``kept`` (a mask over ``pks``, with the arm each
    received and the variant consent allows): the mask of those matching; and the patients whose
    stored ranking is missing or stale (they match nothing yet)."""
    if filters.small_sample:
        flagged = [(m.arm, m.variant) for m in run.models.filter(
            algorithm=ranking_choice(run).algorithm).only("arm", "variant", "metrics")
            if m.metrics.get("small_sample")]
        kept &= pd.MultiIndex.from_arrays([arms, variants]).isin(flagged)
    if not (filters.model_wrong or filters.algorithms_disagree):
        return kept, ()
    rankings = CaseRanking.objects.filter(run=run)
    ranked, stored_variants = _columns(rankings.values_list("patient_id", "variant"), np.int64,
                                       object)
    fresh = pd.Series(stored_variants, index=ranked).reindex(pks).to_numpy() == variants
    matching = rankings.exclude(top_arm="")
    if filters.algorithms_disagree:
        matching = matching.filter(algorithms_disagree=True)
    if filters.model_wrong:
        matching = matching.exclude(true_best_arm="").exclude(top_arm=F("true_best_arm"))
    matched = np.isin(pks, np.fromiter(matching.values_list("patient_id", flat=True), np.int64))
    return kept & fresh & matched, tuple(pks[kept & ~fresh].tolist())


def _patient_truth_reader(read):
    """The one rule of a patient's truth: a reader decorated with it takes the reader's
    ``roles`` and answers None, reading nothing, to roles that may not see a patient's truth
    (``accounts.access.PATIENT_TRUTH_ROLES``)."""
    @wraps(read)
    def gated(patient_id: int, *, roles):
        return read(patient_id) if can(roles, PATIENT_TRUTH_ROLES) else None
    return gated


@_patient_truth_reader
def patient_truth(patient_id: int) -> pd.DataFrame:
    """One patient's ground truth (latent drivers, true response probability and potential
    outcome under every arm; one row, none for an imported cohort)."""
    return truth_frame(Patient.objects.filter(pk=patient_id))


@_patient_truth_reader
def true_response_probabilities(patient_id: int) -> dict[str, float]:
    """The simulation's probability of response under every arm ({} for an imported cohort).
    One stored value, read without building ``patient_truth``'s frame (a patient page reads it
    every time)."""
    return true_probabilities([patient_id]).get(patient_id, {})


def patient_guidance(patient: ConsentedPatient) -> list[Guidance]:
    """PGx rules from the genotypes the consent gate released (none if genetic use is withheld)."""
    values = patient.values
    return pgx_guidance(*(str(values[gene]) if gene in values.index else None
                          for gene in ("cyp2c19_phenotype", "cyp2d6_phenotype")))


# --- Human oversight: the pause switch, recorded decisions ----------------------------------------


def prediction_pause() -> PredictionPause | None:
    """The pause in force (who paused, when, why), or None while predictions run."""
    latest = PredictionPause.objects.order_by("-at", "-id").first()
    return latest if latest is not None and latest.paused else None


def patient_ranking(patient: ConsentedPatient, run: TrainingRun | None) -> pd.DataFrame | None:
    """The eligible arms by predicted response, best first (``arm``, ``probability``, ``low``,
    ``high``; ``small_sample`` and ``n_test`` of the model that ranked the arm), from the models
    of the run's ranking algorithm (``registry.selectors.ranking_choice``) in the variant the
    consent gate chose.

    The one gate of every prediction of a patient: nothing (None) while predictions are paused,
    without a training run, or without consent to use clinical data. ``patient_predictions`` and
    the recorded decision's recommendation both go through here (``_scored``), and so must any
    future API.
    """
    scored = _scored(patient, run)
    return None if scored is None else scored.ranking


@dataclass
class _Scored:
    ranking: pd.DataFrame  # as ``patient_ranking`` answers
    choice: AlgorithmChoice
    explained: dict[str, tuple[TrainedModel, Explanation]]  # arm -> (registry row, explanation)


def _scored(patient: ConsentedPatient, run: TrainingRun | None, *, explain: bool = False,
            algorithm: str | None = None) -> _Scored | None:
    """``patient_ranking``'s gate and ranking; with ``explain``, also ``algorithm``'s (by default
    the ranking one's) explanation of every arm the patient is eligible for.

    Only the arms the patient is eligible for are scored. Each model's row is prepared once, for
    its ranking, its interval and its explanation; where the explaining models are the ranking
    ones, the predicted responses are the explanations' (their SHAP values add up to the model's
    output exactly), so no model is called beside them.
    """
    if prediction_pause() is not None or run is None or patient.variant is None:
        return None
    choice = ranking_choice(run)
    rows = FeatureRows(patient.frame)
    eligible = eligible_arms(int(rows["prior_failures"][0]) >= TREATMENT_RESISTANT_MIN_FAILURES)
    ranking_rows = ranking_models(run, patient.variant, choice.algorithm)
    models = {arm: fitted_model(m) for arm, m in ranking_rows.items() if arm in eligible}
    prepared = {arm: prepare_rows(model.pipeline, rows) for arm, model in models.items()}
    explained, point = {}, None
    if explain:
        algorithm = algorithm or choice.algorithm
        same = algorithm == choice.algorithm
        explaining = (ranking_rows if same
                      else ranking_models(run, patient.variant, algorithm))
        explained = {arm: (row, fitted_model(row).explainer.explain(
                               rows, prepared=prepared[arm] if same else None)[0])
                     for arm, row in explaining.items() if arm in eligible}
        if same:
            point = {arm: np.array([e.probability]) for arm, (_, e) in explained.items()}
    ranking = rank_treatments(rows, {arm: m.pipeline for arm, m in models.items()},
                              {arm: refit_coefficients(ranking_rows[arm]) for arm in models},
                              prepared=prepared, point=point)[0]
    ranked = [ranking_rows[arm].metrics for arm in ranking["arm"]]
    ranking["small_sample"] = [bool(m.get("small_sample")) for m in ranked]
    ranking["n_test"] = [int(m["n_test"]) for m in ranked]
    return _Scored(ranking=ranking, choice=choice, explained=explained)


def ranking_models(run: TrainingRun, variant: str, algorithm: str) -> Mapping[str, TrainedModel]:
    """The run's models of one variant and algorithm by arm (what a ranking or an explanation
    needs of each row). Read once per run and process, as ``registry.selectors.ranking_choice``
    is, and for the same reason: a stored run's models never change. The rows are shared
    between requests: read them, never change them."""
    return _ranking_models(run.pk, run.created_at, variant, algorithm)


@lru_cache(maxsize=512)
def _ranking_models(run_pk: int, created_at, variant: str,
                    algorithm: str) -> Mapping[str, TrainedModel]:
    return MappingProxyType({m.arm: m for m in TrainedModel.objects.filter(
        run_id=run_pk, variant=variant, algorithm=algorithm)
        .only("pk", "run", "arm", "algorithm", "variant", "artifact", "metrics")})


@dataclass(frozen=True)
class DecisionOptions:
    arms: tuple[str, ...]  # the arms this patient is eligible for
    recommended: str | None  # the model's top arm, None when no ranking is shown
    eligibility_known: bool  # False: prior failures withheld, so only first-line arms are offered


def decision_options(patient: ConsentedPatient, ranking: pd.DataFrame | None) -> DecisionOptions:
    """The arms a person may choose for this patient and the recommendation shown beside them.

    Eligibility is clinical, not the model's: every active arm the patient may receive, ranked or
    not. Without the prior failures (clinical data withheld), only first-line arms are offered:
    rTMS and esketamine need two or more documented failures.
    """
    values = patient.values
    known = "prior_failures" in values.index
    resistant = known and int(values["prior_failures"]) >= TREATMENT_RESISTANT_MIN_FAILURES
    recommended = str(ranking["arm"].iloc[0]) if ranking is not None and len(ranking) else None
    return DecisionOptions(arms=eligible_arms(resistant), recommended=recommended,
                           eligibility_known=known)


def patient_decisions(patient, *, reader, roles) -> list[TreatmentDecision]:
    """The treatment decisions recorded for a patient that ``reader`` may see, newest first:
    everyone's for ``roles`` that see them all (``access.ALL_DECISIONS_ROLES``: the educators of
    the patient's course), otherwise only the reader's own."""
    decisions = TreatmentDecision.objects.filter(patient=patient)
    if not can(roles, ALL_DECISIONS_ROLES):
        decisions = decisions.filter(actor_id=reader.pk)
    return list(decisions.order_by("-decided_at", "-id"))

