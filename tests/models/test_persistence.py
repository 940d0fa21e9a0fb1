import hashlib

import numpy as np
import pytest
import skops.io as sio
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from threadpoolctl import threadpool_limits

from models.algorithms import ALGORITHMS, make_pipeline
from models.features import VARIANTS
from models.persistence import (
    TRUSTED_TYPES,
    TamperedModelError,
    UntrustedModelError,
    model_from_bytes,
    model_to_bytes,
)
from synthetic_data import make_cohort

TRAINING_ARM = "ssri"
N_BOOTSTRAP = 3
COMBINATIONS = [(a, v) for a in ALGORITHMS for v in VARIANTS]


@pytest.fixture(scope="module", autouse=True)
def one_openmp_thread():
    """HistGradientBoosting fits and predicts with OpenMP threads. On this 2-core machine, while
    another process keeps one core busy, its threads wait on each other and this file takes 15 to
    45 s instead of 6; one thread is ample for about 120 patients."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def cohort():
    """600 patients: fit on the SSRI arm (about 120), hold out everyone else."""
    patients = make_cohort(600, random_state=3).patients
    in_arm = (patients["arm"] == TRAINING_ARM).to_numpy()
    return patients[in_arm], patients[~in_arm]


@pytest.fixture(scope="module")
def fitted(cohort):
    """Every algorithm x variant pipeline, fitted on the training arm."""
    train, _ = cohort
    return {(a, v): make_pipeline(a, v, random_state=0).fit(train, train["response"])
            for a, v in COMBINATIONS}


@pytest.fixture(scope="module")
def ensembles(cohort):
    """Per variant, a bootstrap ensemble of logistic-regression pipelines stored as one list."""
    train, _ = cohort
    rng = np.random.default_rng(0)
    result = {}
    for v in VARIANTS:
        members = []
        for _ in range(N_BOOTSTRAP):
            sample = train.iloc[rng.integers(0, len(train), len(train))]
            members.append(make_pipeline("logistic_regression", v, random_state=0)
                           .fit(sample, sample["response"]))
        result[v] = members
    return result


@pytest.fixture(scope="module")
def blob(fitted):
    """A valid blob and its digest (the smallest model: the hash check comes before parsing)."""
    return model_to_bytes(fitted["logistic_regression", "clinical_only"])


# --- The allowlist ---------------------------------------------------------------------------


def test_trusted_types_are_exactly_what_the_pipelines_and_ensembles_need(fitted, ensembles):
    """Fails loudly when a scikit-learn or skops upgrade changes the types a pipeline holds: a
    new type must be reviewed and written into TRUSTED_TYPES, and a type no longer needed must
    be removed from it."""
    needed = {}
    for key, pipeline in fitted.items():
        needed[key] = set(sio.get_untrusted_types(data=sio.dumps(pipeline)))
    for v, members in ensembles.items():
        needed["ensemble", v] = set(sio.get_untrusted_types(data=sio.dumps(members)))
    missing = {key: types - set(TRUSTED_TYPES) for key, types in needed.items()
               if types - set(TRUSTED_TYPES)}
    assert not missing, f"types to review and add to TRUSTED_TYPES: {missing}"
    unneeded = set(TRUSTED_TYPES) - set().union(*needed.values())
    assert not unneeded, f"types no pipeline needs any more, remove from TRUSTED_TYPES: {unneeded}"


def test_trusted_types_are_a_sorted_tuple_of_unique_qualified_names():
    assert isinstance(TRUSTED_TYPES, tuple)
    assert list(TRUSTED_TYPES) == sorted(set(TRUSTED_TYPES))
    assert all(isinstance(t, str) and "." in t for t in TRUSTED_TYPES)


# --- Round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "variant"), COMBINATIONS)
def test_round_trip_gives_identical_predictions_on_held_out_patients(
        fitted, cohort, algorithm, variant):
    _, held_out = cohort
    original = fitted[algorithm, variant]
    data, digest = model_to_bytes(original)
    loaded = model_from_bytes(data, sha256=digest)
    assert type(loaded) is Pipeline
    assert loaded is not original
    np.testing.assert_array_equal(loaded.predict_proba(held_out), original.predict_proba(held_out))


def test_a_list_of_pipelines_round_trips(ensembles, cohort):
    _, held_out = cohort
    members = ensembles["full"]
    data, digest = model_to_bytes(members)
    loaded = model_from_bytes(data, sha256=digest)
    assert type(loaded) is list and len(loaded) == len(members)
    for original, restored in zip(members, loaded):
        np.testing.assert_array_equal(restored.predict_proba(held_out),
                                      original.predict_proba(held_out))


def test_digest_is_the_lowercase_sha256_of_the_bytes(blob):
    data, digest = blob
    assert isinstance(data, bytes)
    assert digest == hashlib.sha256(data).hexdigest()
    assert len(digest) == 64 and digest == digest.lower()


def test_an_uppercase_digest_is_accepted(blob):
    data, digest = blob
    assert isinstance(model_from_bytes(data, sha256=digest.upper()), Pipeline)


def test_dumping_twice_gives_blobs_that_load_to_the_same_model(fitted, cohort):
    """What holds for determinism. skops 0.16 does not write identical bytes for the same object
    (zip timestamps, and Python object ids in the schema and in array file names), so the two
    digests may differ; each blob verifies under its own digest, and both load to models with
    identical predictions. Dumping the loaded model again gives a blob that loads the same too."""
    _, held_out = cohort
    original = fitted["random_forest", "full"]
    expected = original.predict_proba(held_out)
    first, second = model_to_bytes(original), model_to_bytes(original)
    for data, digest in (first, second):
        np.testing.assert_array_equal(
            model_from_bytes(data, sha256=digest).predict_proba(held_out), expected)
    again = model_to_bytes(model_from_bytes(first[0], sha256=first[1]))
    np.testing.assert_array_equal(
        model_from_bytes(again[0], sha256=again[1]).predict_proba(held_out), expected)


# --- Tampering -------------------------------------------------------------------------------


def test_one_flipped_byte_is_refused_with_both_digests_in_the_message(blob):
    data, digest = blob
    tampered = bytearray(data)
    tampered[len(data) // 2] ^= 0x01
    actual = hashlib.sha256(tampered).hexdigest()
    with pytest.raises(TamperedModelError) as raised:
        model_from_bytes(bytes(tampered), sha256=digest)
    assert isinstance(raised.value, ValueError)
    assert digest in str(raised.value) and actual in str(raised.value)


def test_a_digest_of_other_bytes_is_refused(blob, fitted):
    data, _ = blob
    _, other_digest = model_to_bytes(fitted["gradient_boosting", "full"])
    with pytest.raises(TamperedModelError):
        model_from_bytes(data, sha256=other_digest)


@pytest.mark.parametrize("digest", ["", "abc", "g" * 64, "0" * 63, None])
def test_a_malformed_digest_is_a_value_error_not_a_pass(blob, digest):
    data, _ = blob
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        model_from_bytes(data, sha256=digest)


def test_text_instead_of_bytes_is_a_type_error(blob):
    data, digest = blob
    with pytest.raises(TypeError):
        model_from_bytes(data.decode("latin-1"), sha256=digest)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_single_flipped_byte_is_refused(blob, data):
    valid, digest = blob
    position = data.draw(st.integers(0, len(valid) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor mask")
    tampered = bytearray(valid)
    tampered[position] ^= mask
    with pytest.raises(TamperedModelError):
        model_from_bytes(bytes(tampered), sha256=digest)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_truncation_is_refused(blob, data):
    valid, digest = blob
    length = data.draw(st.integers(0, len(valid) - 1), label="kept bytes")
    with pytest.raises(TamperedModelError):
        model_from_bytes(valid[:length], sha256=digest)


# --- Types outside the allowlist -------------------------------------------------------------

CONSTRUCTED = []


def double(x):
    return 2 * x


class Recorder:
    """A custom class that records whenever skops would construct it."""

    def __init__(self):
        self.weights = np.arange(3.0)

    def __setstate__(self, state):
        CONSTRUCTED.append(self)
        self.__dict__.update(state)


def test_a_pipeline_with_a_custom_function_is_refused_even_with_the_right_hash(cohort):
    train, _ = cohort
    numeric = train[["age", "hamd17"]]
    pipeline = Pipeline([
        ("double", FunctionTransformer(func=double)),
        ("classify", make_pipeline("logistic_regression", "full", random_state=0)[-1]),
    ]).fit(numeric, train["response"])
    data, digest = model_to_bytes(pipeline)
    with pytest.raises(UntrustedModelError, match=f"{__name__}.double") as raised:
        model_from_bytes(data, sha256=digest)
    assert isinstance(raised.value, ValueError)


def test_a_custom_class_is_refused_before_anything_is_constructed(fitted):
    data, digest = model_to_bytes([fitted["logistic_regression", "full"], Recorder()])
    CONSTRUCTED.clear()
    with pytest.raises(UntrustedModelError, match=f"{__name__}.Recorder"):
        model_from_bytes(data, sha256=digest)
    assert CONSTRUCTED == []
