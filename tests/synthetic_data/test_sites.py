"""Sites: declarative shifts of case mix, measurement, outcome and assignment.

The true response model is the same at every site; a shift changes who is sampled, what is
measured, how the outcome is recorded or who gets which treatment, and it shows in the data.
"""

import hashlib

import pandas as pd
import pytest

from synthetic_data import make_cohort


def _digest(frame: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(repr([(c, str(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()[:16]


# Computed from main at fd33e4c, before sites existed: a cohort without a site must not change.
DEFAULT_OUTPUT_DIGESTS = [
    ("default", 1, 0, "d1ab15083c9ffaf9", "75b0419d6787b428", "9654df044ce5dd17"),
    ("default", 57, 2026, "d243891403a92a6a", "83d3cb02794d2d64", "3aa2d319a92ac835"),
    ("default", 400, 7, "35f188d536b20ee1", "a3d8dff3d1559618", "bf63b25ebf8df1ff"),
    ("prs_portability", 250, 11, "af41638a64a9fddb", "2a6aa98b684cbf8a", "aa1c3161afba1f47"),
    ("underrepresented", 250, 11, "5eedefe80d8013c4", "e6b5360f24d54c38", "aa1c3161afba1f47"),
    ("decoy_biomarker", 250, 11, "31a0d37d429f7efe", "1227335717da06af", "aa1c3161afba1f47"),
    ("consent_selection", 250, 11, "f0db289e38456cf2", "e6b5360f24d54c38", "7b165f13fee6397b"),
    ("confounding_by_indication", 250, 11, "aae016bfd7ee1eac", "e6b5360f24d54c38",
     "aa1c3161afba1f47"),
    ("candidate_gene", 250, 11, "2bf41015312936dc", "0fe61c7621b05e15", "aa1c3161afba1f47"),
    ("label_bias", 250, 11, "32a71722e34f0410", "e6b5360f24d54c38", "aa1c3161afba1f47"),
    ("random_labels", 250, 11, "072b3ca141bce62c", "123ca44fcd938d61", "aa1c3161afba1f47"),
]


@pytest.mark.parametrize("scenario, n, seed, patients, truth, consent", DEFAULT_OUTPUT_DIGESTS)
def test_a_cohort_without_a_site_is_exactly_what_it_was(scenario, n, seed, patients, truth,
                                                         consent):
    cohort = make_cohort(n, scenario=scenario, random_state=seed)
    assert (_digest(cohort.patients), _digest(cohort.truth), _digest(cohort.consent)) == (
        patients, truth, consent)
