"""The model pages' query: which of an arm's models to show, and at which threshold; and the
"Does it travel?" page's recalibration (the local sample's size and seed)."""

from decimal import Decimal

from django import forms

from decision_support.query_parameters import BoundedDecimalField
from models.algorithms import ALGORITHM_LABELS, ALGORITHMS
from models.external import RECALIBRATION_SIZES
from models.features import VARIANTS, VARIANT_LABELS
from models.ranking import RANKING_ALGORITHM




class ModelPageForm(forms.Form):
    """Which model to show: by default ``opening`` (a registry row: the model page opens on the
    arm's best model, ``models.ranking.best_model``), else logistic regression on all data."""

    algorithm = forms.ChoiceField(label="Algorithm", initial=RANKING_ALGORITHM,
                                  choices=[(a, ALGORITHM_LABELS[a]) for a in ALGORITHMS])
    variant = forms.ChoiceField(label="Feature variant", initial="full",
                                choices=[(v, VARIANT_LABELS[v]) for v in VARIANTS])
    threshold = BoundedDecimalField(label="Threshold", initial=Decimal("0.50"),
                                    min_value=Decimal("0.05"), max_value=Decimal("0.95"),
                                    step_size=Decimal("0.05"), decimal_places=2)

    def __init__(self, *args, opening=None, **kwargs):
        super().__init__(*args, **kwargs)
        if opening is not None:
            self.fields["algorithm"].initial = opening.algorithm
            self.fields["variant"].initial = opening.variant


class RecalibrationForm(forms.Form):
    """Recalibrate on a random local sample at each other site: its size and the seed of the
    draw (the same seed draws the same patients)."""

    n_local = forms.IntegerField(label="Local sample size", initial=200,
                                 min_value=RECALIBRATION_SIZES[0],
                                 max_value=RECALIBRATION_SIZES[1])
    seed = forms.IntegerField(label="Seed", initial=1, min_value=0, max_value=2**31 - 1)
