import pytest
from django.core.management import CommandError, call_command

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Cohort
from decision_support.cohorts.services import cohort_generate
from decision_support.registry.models import TrainedModel, TrainingRun
from models.ranking import RANKING_ALGORITHM
from tests.trained_runs import narrow_training

pytestmark = pytest.mark.django_db


def test_train_models_command_trains_each_demo_cohort_once_with_if_missing(capsys, monkeypatch):
    narrow_training(monkeypatch, algorithms=(RANKING_ALGORITHM,))  # the command is under test
    call_command("seed_demo", patients=300, travel_patients=300, verbosity=0)
    call_command("train_models", "--if-missing", "--seed", "4", verbosity=0)
    call_command("train_models", "--if-missing", verbosity=0)
    demos = Cohort.objects.filter(is_demo=True)
    assert sorted(TrainingRun.objects.values_list("cohort", flat=True)) == sorted(
        demos.values_list("pk", flat=True))
    assert capsys.readouterr().out.count("already has a training run") == 2
    # Once each: the second call did nothing.
    started = AuditEntry.objects.filter(action="training.start")
    assert started.count() == 2
    assert all(e.actor.startswith("command-line:") and e.purpose == "MLTRAIN" for e in started)
    travel = demos.get(scenario="trial_to_clinic").training_runs.get()
    assert travel.development_site == "trial"
    assert list(travel.external_validations.values_list("site", flat=True)) == ["clinic"]


@pytest.mark.parametrize("arguments, message", [(["--cohort", "999"], "no such cohort"),
                                                (["--seed", "-3"], "--seed must be between")])
def test_train_models_refuses_bad_arguments(arguments, message):
    cohort_generate(n_patients=50, seed=1)
    with pytest.raises(CommandError, match=message):
        call_command("train_models", *arguments, verbosity=0)
    assert not TrainedModel.objects.exists()


def test_train_models_without_any_cohort_says_what_to_do():
    with pytest.raises(CommandError, match="no cohort yet"):
        call_command("train_models", verbosity=0)
