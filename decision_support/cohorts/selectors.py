"""Reads: cohort summaries and chart data for the overview page."""

import numpy as np
import pandas as pd

from synthetic_data import ARMS, DATA_DICTIONARY, TREATMENT_RESISTANT_ARMS
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from ..charts import Chart, bar_chart
from .models import RECORD_MODELS, Cohort, GroundTruth, Patient

def _observed_lookups() -> dict[str, str]:
    """ORM lookup of every observed dictionary column, starting from Patient."""
    lookups = {}
    for name, variable in DATA_DICTIONARY.items():
        model = RECORD_MODELS.get(variable.data_class)
        if model is Patient:
            lookups[name] = name
        elif model is not None:
            lookups[name] = f"{model._meta.get_field('patient').related_query_name()}__{name}"
    return lookups


OBSERVED_LOOKUPS = _observed_lookups()
LATENT_COLUMNS = ("inflammation_z", "illness_burden_z", "genetic_liability_z")


def patients_frame(patients) -> pd.DataFrame:
    """Observed data of a Patient queryset as the generator's frame (index: patient pk, plus a
    ``pseudonym`` column), with the dictionary's categories as categorical dtypes."""
    rows = patients.order_by("pk").values_list("pk", "pseudonym", *OBSERVED_LOOKUPS.values())
    frame = pd.DataFrame.from_records(list(rows), columns=["pk", "pseudonym", *OBSERVED_LOOKUPS])
    frame = frame.set_index("pk")
    for name in OBSERVED_LOOKUPS:
        variable = DATA_DICTIONARY[name]
        if variable.categories:
            frame[name] = pd.Categorical(frame[name], categories=variable.categories)
        elif variable.kind == "binary":
            frame[name] = frame[name].astype(np.int8)
    return frame


def truth_frame(patients) -> pd.DataFrame:
    """The ground truth of a Patient queryset (index: patient pk), in the generator's columns."""
    rows = GroundTruth.objects.filter(patient__in=patients).order_by("patient_id").values_list(
        "patient_id", *LATENT_COLUMNS, "p_response", "potential_response")
    frame = pd.DataFrame.from_records(
        list(rows), columns=["pk", *LATENT_COLUMNS, "p_response", "potential_response"])
    frame = frame.set_index("pk")
    for arm in ARMS:
        frame[f"p_response_{arm}"] = frame["p_response"].map(lambda d: d[arm])
        frame[f"response_{arm}"] = frame["potential_response"].map(lambda d: d[arm])
    return frame.drop(columns=["p_response", "potential_response"])


def cohort_frame(cohort: Cohort) -> pd.DataFrame:
    return patients_frame(Patient.objects.filter(cohort=cohort))


def cohort_summary(frame: pd.DataFrame) -> dict:
    resistant = frame["prior_failures"] >= TREATMENT_RESISTANT_MIN_FAILURES
    arms = []
    for arm in ARMS:
        group = frame[(frame["arm"] == arm) & (resistant if arm in TREATMENT_RESISTANT_ARMS else ~resistant)]
        arms.append({
            "arm": arm,
            "population": "treatment-resistant" if arm in TREATMENT_RESISTANT_ARMS else "first-line",
            "n": len(group),
            "response_rate": group["response"].mean() if len(group) else None,
            "remission_rate": group["remission"].mean() if len(group) else None,
        })
    return {
        "n_patients": len(frame),
        "n_first_line": int((~resistant).sum()),
        "n_resistant": int(resistant.sum()),
        "female_share": (frame["sex"] == "female").mean() if len(frame) else None,
        "response_rate": frame["response"].mean() if len(frame) else None,
        "arms": arms,
    }


def cohort_overview_charts(frame: pd.DataFrame) -> list[Chart]:
    resistant = frame["prior_failures"] >= TREATMENT_RESISTANT_MIN_FAILURES
    first_line, treatment_resistant = frame[~resistant], frame[resistant]

    response = bar_chart(
        "response-by-arm", "Observed response rate by arm", "Arm", "Responders", ARMS,
        {"First-line patients": [_rate(first_line, arm) for arm in ARMS],
         "Treatment-resistant patients": [_rate(treatment_resistant, arm) for arm in ARMS]},
        percent=True)
    ancestry = DATA_DICTIONARY["ancestry"].categories
    phenotypes = DATA_DICTIONARY["cyp2c19_phenotype"].categories
    cyp2c19 = bar_chart(
        "cyp2c19-by-ancestry", "CYP2C19 phenotype by ancestry group", "Phenotype",
        "Share of the group", phenotypes,
        {group: frame.loc[frame["ancestry"] == group, "cyp2c19_phenotype"]
         .value_counts(normalize=True).reindex(phenotypes, fill_value=0.0).tolist()
         for group in ancestry},
        percent=True)
    return [
        response,
        _histogram("age", frame["age"], range(15, 80, 5), "Age at baseline", "Age (years)"),
        _histogram("hamd17", frame["hamd17"], range(12, 48, 3), "Baseline depression severity",
                   "HAM-D17 (points)"),
        _histogram("crp", frame["crp_mg_l"], [0, 0.3, 1, 3, 10, 300], "hs-CRP (clinical bands)",
                   "hs-CRP (mg/L)"),
        _counts("ancestry", frame["ancestry"], ancestry, "Genetic ancestry group", "Group"),
        _counts("prior-failures", frame["prior_failures"], [0, 1, 2, 3], "Prior failed treatments",
                "Prior failures"),
        cyp2c19,
    ]


def _rate(frame: pd.DataFrame, arm: str):
    outcomes = frame.loc[frame["arm"] == arm, "response"]
    return outcomes.mean() if len(outcomes) else None


def _histogram(chart_id, values, edges, title, x_title) -> Chart:
    edges = list(edges)
    counts, _ = np.histogram(values, bins=edges)
    labels = [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])]
    return bar_chart(chart_id, title, x_title, "Patients", labels, {"Patients": counts})


def _counts(chart_id, values, categories, title, x_title) -> Chart:
    counts = values.value_counts()
    return bar_chart(chart_id, title, x_title, "Patients", categories,
                     {"Patients": [counts.get(c, 0) for c in categories]})
