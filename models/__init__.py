"""Treatment-response models: features, training, persistence, evaluation, SHAP and external
validation.

Plain Python, no Django import, usable from a notebook. Import it absolutely
(``from models.training import train_suite``): Django apps beside it have their own ``models.py``.
"""

from .algorithms import ALGORITHMS
from .explain import Explanation
from .external import (ExternalValidation, external_validation, importance_by_site,
                       leave_one_site_out, recalibrate)
from .features import VARIANT_LABELS, VARIANTS, variant_features
from .persistence import TamperedModelError, model_from_bytes, model_to_bytes
from .pgx import pgx_guidance
from .training import ModelSuite, TrainedModel, train_suite

__all__ = [
    "ALGORITHMS",
    "Explanation",
    "ExternalValidation",
    "ModelSuite",
    "TamperedModelError",
    "TrainedModel",
    "VARIANT_LABELS",
    "VARIANTS",
    "external_validation",
    "importance_by_site",
    "leave_one_site_out",
    "model_from_bytes",
    "model_to_bytes",
    "pgx_guidance",
    "recalibrate",
    "train_suite",
    "variant_features",
]
