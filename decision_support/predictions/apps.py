from django.apps import AppConfig
from threadpoolctl import threadpool_limits


class PredictionsConfig(AppConfig):
    name = "decision_support.predictions"
    label = "predictions"
    verbose_name = "Models, predictions and explanations"

    def ready(self):
        # A page predicts for one patient: OpenMP and BLAS thread pools only add spin-waiting, and
        # on a busy machine they made single requests take seconds. Concurrency comes from the
        # server's worker processes instead.
        threadpool_limits(limits=1)
