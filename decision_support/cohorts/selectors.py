"""Reads: plain cohort frames, and cohort summaries and chart data for the overview page.

The frames here know nothing of consent: every read for a purpose goes through
``consent.reads``, which builds on them (the overview reads ``consent.reads.consented_cohort``).
Every aggregate is shown through small-cell suppression (``decision_support.lib.suppression``).
"""

import numpy as np
import pandas as pd

from decision_support.lib.charts import Chart, bar_chart
from decision_support.lib.suppression import (SUPPRESSED, suppress_count, suppress_counts,
                                              suppress_statistic, suppress_table)
from synthetic_data import ARMS, DATA_DICTIONARY, TREATMENT_RESISTANT_ARMS, TRUTH_COLUMNS
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .models import (POTENTIAL_RESPONSES, RECORD_MODELS, TRUE_PROBABILITIES, Cohort, GroundTruth,
                     Patient)

def visible_cohorts(course_ids):
    """The cohorts of the given courses (``request.course_ids``: those the user may see)."""
    return Cohort.objects.filter(course_id__in=course_ids)


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


def patients_frame(patients) -> pd.DataFrame:
    """Observed data of a Patient queryset as the generator's frame (index: patient pk, plus a
    ``pseudonym`` column), with the dictionary's categories as categorical dtypes."""
    rows = list(patients.order_by("pk").values_list("pk", "pseudonym",
                                                     *OBSERVED_LOOKUPS.values()))
    pks, pseudonyms, *observed = (zip(*rows) if rows  # none: object columns, as pandas reads []
                                  else [np.empty(0, dtype=object)] * (2 + len(OBSERVED_LOOKUPS)))
    columns = {"pseudonym": pseudonyms}
    for name, values in zip(OBSERVED_LOOKUPS, observed):  # each column typed once, as it is made
        variable = DATA_DICTIONARY[name]
        if variable.categories:
            columns[name] = pd.Categorical(values, categories=variable.categories)
        elif variable.kind == "binary":
            columns[name] = np.array(values, dtype=np.int8)
        else:
            columns[name] = values
    return pd.DataFrame(columns, index=pd.Index(pks, name="pk"))


def patient_sites(patients) -> pd.Series:
    """Where each patient of a Patient queryset was collected (index: patient pk; None for a
    cohort without sites). Kept apart from ``patients_frame``: the site is no model input."""
    rows = patients.order_by("pk").values_list("pk", "site")
    return pd.Series(dict(rows), dtype=object).rename_axis("pk")


def truth_frame(patients) -> pd.DataFrame:
    """The ground truth of a Patient queryset (index: patient pk), in the generator's columns
    (``synthetic_data.TRUTH_COLUMNS``) and types."""
    names = TRUTH_COLUMNS[1:]
    rows = GroundTruth.objects.filter(patient__in=patients).order_by("patient_id").values_list(
        "patient_id", *names)
    frame = pd.DataFrame.from_records(list(rows), columns=["pk", *names]).set_index("pk")
    return frame.astype({name: "int8" for name in POTENTIAL_RESPONSES})


def true_probabilities(patient_ids) -> dict[int, dict[str, float]]:
    """Each patient's true probability of response by arm (patient pk -> arm -> probability),
    without building ``truth_frame``'s frame; a patient without a stored truth (an imported
    cohort's) is absent."""
    return {pk: dict(zip(ARMS, probabilities)) for pk, *probabilities
            in GroundTruth.objects.filter(patient_id__in=patient_ids)
            .values_list("patient_id", *TRUE_PROBABILITIES)}


def other_copies(cohort: Cohort):
    """The other cohorts holding the same data (same fingerprint), oldest first."""
    return (Cohort.objects.filter(fingerprint=cohort.fingerprint).exclude(pk=cohort.pk)
            .order_by("created_at", "pk"))


def _populations(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(first-line, treatment-resistant) masks; a patient without clinical data is in neither."""
    failures = frame["prior_failures"]
    return failures < TREATMENT_RESISTANT_MIN_FAILURES, failures >= TREATMENT_RESISTANT_MIN_FAILURES


def _two_way(frame: pd.DataFrame, flag: str, groups: list[str]) -> list[list[int]]:
    """Per arm in ``groups``: [patients with ``flag``, patients without], among those whose
    ``flag`` is known."""
    rows = []
    for arm in groups:
        values = frame.loc[frame["arm"] == arm, flag].dropna()
        rows.append([int((values == 1).sum()), int((values == 0).sum())])
    return rows


def cohort_summary(frame: pd.DataFrame) -> dict:
    """The overview's counts and rates, every count 1-10 suppressed (``lib.suppression``)."""
    first_line, resistant = _populations(frame)
    populations = suppress_counts([int(first_line.sum()), int(resistant.sum())])
    sexes = suppress_counts([int((frame["sex"] == "female").sum()),
                             int((frame["sex"] == "male").sum())])
    outcome = frame["response"].dropna()
    responders = suppress_counts([int((outcome == 1).sum()), int((outcome == 0).sum())])
    in_population = [frame[(frame["arm"] == arm)
                           & (resistant if arm in TREATMENT_RESISTANT_ARMS else first_line)]
                     for arm in ARMS]
    response = suppress_table([_two_way(group, "response", [arm])[0]
                               for arm, group in zip(ARMS, in_population)])
    remission = suppress_table([_two_way(group, "remission", [arm])[0]
                                for arm, group in zip(ARMS, in_population)])
    arms = []
    for i, arm in enumerate(ARMS):
        hidden = response.row_total_hidden[i] or remission.row_total_hidden[i]
        n = int(response.row_totals[i])
        arms.append({
            "arm": arm,
            "population": "treatment-resistant" if arm in TREATMENT_RESISTANT_ARMS else "first-line",
            "n": SUPPRESSED if hidden else n,
            "response_rate": response.share(i, 0),
            "remission_rate": remission.share(i, 0),
        })
    return {
        "n_patients": suppress_count(len(frame)),
        "n_first_line": populations.cell(0, 0),
        "n_resistant": populations.cell(0, 1),
        "female_share": sexes.share(0, 0),
        "response_rate": responders.share(0, 0),
        "arms": arms,
    }


def site_summary(frame: pd.DataFrame, sites: pd.Series, labels: dict[str, str]) -> list[dict]:
    """A multi-site cohort's sites side by side (``frame``: consented patients; ``sites``: each
    patient's site, ``patient_sites``): patients, women, psychiatric comorbidity, mean HAM-D17,
    median CRP and recorded response, each site a row of tables whose column totals the
    overview's counts imply, so complementary suppression spans the sites."""
    at = sites.reindex(frame.index)
    names = [name for name in labels if (at == name).any()]

    def split(flag, yes):
        values = [frame.loc[at == name, flag].dropna() for name in names]
        return suppress_table([[int((v == yes).sum()), int((v != yes).sum())] for v in values])

    patients_at = suppress_counts([int((at == name).sum()) for name in names])
    sexes = split("sex", "female")
    comorbid = split("psychiatric_comorbidity", 1)
    responders = split("response", 1)
    rows = []
    for i, name in enumerate(names):
        patients = frame[at == name]
        crp = patients["crp_mg_l"].dropna()
        rows.append({
            "site": name, "label": labels[name], "n": patients_at.cell(0, i),
            "female_share": sexes.share(i, 0),
            "comorbidity_share": comorbid.share(i, 0),
            "hamd17_mean": suppress_statistic(float(patients["hamd17"].mean()),
                                              int(patients["hamd17"].notna().sum())),
            "crp_median": suppress_statistic(float(crp.median()) if len(crp) else None, len(crp)),
            "response_rate": responders.share(i, 0),
        })
    return rows


def cohort_overview_charts(frame: pd.DataFrame) -> list[Chart]:
    """The overview's charts; counts of 1-10 (and what would reveal them) are not plotted and
    read "<11" in each chart's table."""
    first_line, resistant = _populations(frame)
    rates = {}
    for name, population in [("First-line patients", first_line),
                             ("Treatment-resistant patients", resistant)]:
        table = suppress_table(_two_way(frame[population], "response", list(ARMS)))
        rates[name] = [table.share(i, 0) for i in range(len(ARMS))]
    response = _bar_chart("response-by-arm", "Observed response rate by arm", "Arm", "Responders",
                          ARMS, rates, percent=True)

    ancestry = DATA_DICTIONARY["ancestry"].categories
    phenotypes = DATA_DICTIONARY["cyp2c19_phenotype"].categories
    known = frame.dropna(subset=["ancestry", "cyp2c19_phenotype"])
    counts = pd.crosstab(known["ancestry"], known["cyp2c19_phenotype"]).reindex(
        index=ancestry, columns=phenotypes, fill_value=0)
    by_ancestry = suppress_table(counts.to_numpy())
    cyp2c19 = _bar_chart(
        "cyp2c19-by-ancestry", "CYP2C19 phenotype by ancestry group", "Phenotype",
        "Share of the group", phenotypes,
        {group: [by_ancestry.share(i, j) for j in range(len(phenotypes))]
         for i, group in enumerate(ancestry)},
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


def _bar_chart(chart_id, title, x_title, y_title, categories, series: dict, *,
               percent=False) -> Chart:
    """A bar chart of suppressed values: a hidden value is not plotted and its table cell
    reads "<11"."""
    plotted = {name: [None if v == SUPPRESSED else v for v in values]
               for name, values in series.items()}
    chart = bar_chart(chart_id, title, x_title, y_title, categories, plotted, percent=percent)
    for i, row in enumerate(chart.table_rows):
        for k, values in enumerate(series.values(), start=1):
            if values[i] == SUPPRESSED:
                row[k] = SUPPRESSED
    return chart


def _histogram(chart_id, values, edges, title, x_title) -> Chart:
    edges = list(edges)
    counts, _ = np.histogram(values.dropna(), bins=edges)
    labels = [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])]
    return _bar_chart(chart_id, title, x_title, "Patients", labels,
                      {"Patients": suppress_counts(counts.tolist()).rows()[0]})


def _counts(chart_id, values, categories, title, x_title) -> Chart:
    counts = values.value_counts()
    table = suppress_counts([int(counts.get(c, 0)) for c in categories])
    return _bar_chart(chart_id, title, x_title, "Patients", categories,
                      {"Patients": table.rows()[0]})
