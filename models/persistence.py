"""Store fitted models as bytes in the skops format; load them only with an allowlist and a hash.

Why skops with an allowlist
---------------------------
``pickle`` (and ``joblib``, which is pickle underneath) is not a data format but a small program:
unpickling calls whatever callables the stream names, so loading a pickled model from a database
row or a file that someone else could have written runs arbitrary code. This module never loads
with pickle or joblib. The skops format (:mod:`skops.io`) is a zip archive holding a JSON schema
and NumPy arrays; ``skops.io.loads`` reads the schema, audits every type it names *before*
constructing anything, and refuses types that are neither in its built-in safe set (builtins,
NumPy, most scikit-learn estimators) nor in the ``trusted`` list it is given.

``TRUSTED_TYPES`` is that list, written out by hand: exactly the types skops does not trust by
itself and that our pipelines need (``tests/models/test_persistence.py`` recomputes them for every
algorithm and variant, so a scikit-learn upgrade that adds one fails the tests instead of being
trusted silently). It is never computed from the blob being loaded: trusting whatever
``skops.io.get_untrusted_types`` reports for a file would trust anything.

Why the SHA-256 as well
-----------------------
skops itself warns that the two tree types in ``TRUSTED_TYPES`` hold raw node indices that
scikit-learn follows without bounds checks: a crafted file with those types loads, and can then
crash the process or read out-of-bounds memory when it predicts. So the bytes must also be the
bytes we wrote. :func:`model_to_bytes` returns their SHA-256, to be stored where the model's
bytes cannot change it (e.g. the database row that records the training run), and
:func:`model_from_bytes` refuses bytes whose digest differs before skops parses anything. A
digest stored next to the bytes, writable by whoever can write the bytes, protects against
corruption, not against an attacker.

Determinism
-----------
skops 0.16 does not write the same bytes for the same fitted object twice: the archive holds the
wall-clock time of the dump (zip entry timestamps) and Python object ids (``__id__`` fields, and
array file names built from ``id()``), which differ for temporary objects. Two dumps of one
model therefore have different digests but load to equivalent models; a digest identifies a
blob, not a model.

Plain Python, no Django.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import zipfile
from typing import Any

import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException

__all__ = [
    "TRUSTED_TYPES",
    "TamperedModelError",
    "UntrustedModelError",
    "model_from_bytes",
    "model_to_bytes",
]

#: Types outside skops' built-in safe set that the pipelines of :mod:`models.algorithms` contain
#: (every algorithm and feature variant, alone or as a list of pipelines), by fully qualified
#: name, sorted. Written out, not computed: see the module docstring.
TRUSTED_TYPES: tuple[str, ...] = (
    # HistGradientBoostingClassifier (gradient_boosting): one per boosting iteration.
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    # RandomForestClassifier (random_forest): the node arrays of each DecisionTreeClassifier.
    "sklearn.tree._tree.Tree",
)

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class TamperedModelError(ValueError):
    """The model bytes do not have the SHA-256 digest they were stored with."""


class UntrustedModelError(ValueError):
    """The model bytes name types outside skops' safe set and :data:`TRUSTED_TYPES`."""


def model_to_bytes(obj: Any) -> tuple[bytes, str]:
    """Serialise a fitted model to the skops format.

    Parameters
    ----------
    obj : object
        A fitted scikit-learn estimator or pipeline, or a list of them (e.g. a bootstrap ensemble).

    Returns
    -------
    data : bytes
        The skops archive (a deflate-compressed zip: forests shrink about ninefold).
    sha256 : str
        The SHA-256 of ``data``, 64 lowercase hexadecimal digits. Store it where whoever can
        write ``data`` cannot change it, and give it to :func:`model_from_bytes`.

    Notes
    -----
    Not deterministic: dumping the same object twice gives different bytes, hence different
    digests, that load to equivalent models (skops writes timestamps and object ids into the
    archive; see the module docstring).

    Nothing checks here that ``obj`` will load with :data:`TRUSTED_TYPES`; an object holding
    other types dumps fine and is refused by :func:`model_from_bytes`.
    """
    data = sio.dumps(obj, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    return data, hashlib.sha256(data).hexdigest()


def model_from_bytes(data: bytes, *, sha256: str) -> Any:
    """Load a model written by :func:`model_to_bytes`, after checking its digest and its types.

    The digest is checked before skops reads a single byte; skops then audits every type the
    archive names before it constructs any object, trusting only its built-in safe set and
    :data:`TRUSTED_TYPES`. Never uses pickle or joblib.

    Parameters
    ----------
    data : bytes
        The skops archive.
    sha256 : str
        The SHA-256 that :func:`model_to_bytes` returned for these bytes, as 64 hexadecimal
        digits (either case).

    Returns
    -------
    object
        The model (estimator, pipeline, or list of them).

    Raises
    ------
    TamperedModelError
        If the SHA-256 of ``data`` is not ``sha256``; the message gives both digests.
    UntrustedModelError
        If the archive names types that are neither safe for skops nor in
        :data:`TRUSTED_TYPES`; the message names them. Nothing from the archive was constructed.
    TypeError
        If ``data`` is not bytes-like (e.g. ``str``).
    ValueError
        If ``sha256`` is not 64 hexadecimal digits.

    Notes
    -----
    Bytes with the right digest that are not a skops archive (which :func:`model_to_bytes`
    never produces) fail with skops' or :mod:`zipfile`'s own error.
    """
    if isinstance(data, str):
        raise TypeError("model bytes must be bytes, not str")
    if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256.lower()):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    expected = sha256.lower()
    actual = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(actual, expected):
        raise TamperedModelError(
            f"model bytes fail their integrity check: expected SHA-256 {expected}, "
            f"got {actual} ({len(data)} bytes); they were changed or truncated after they "
            "were written, or the digest belongs to another model. Refusing to load them."
        )
    try:
        return sio.loads(data, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
        named = ", ".join(untrusted) or str(exc)
        raise UntrustedModelError(
            f"model bytes name types that are not trusted: {named}. Only "
            "skops' safe types and models.persistence.TRUSTED_TYPES are loaded; add a type to "
            "TRUSTED_TYPES only after reviewing that loading it cannot run code."
        ) from exc
