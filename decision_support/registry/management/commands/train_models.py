from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from decision_support.audit.services import command_line_actor
from decision_support.cohorts.models import Cohort
from decision_support.lib.vocabulary import Purpose

from ...jobs import training_job_start


class Command(BaseCommand):
    help = ("Train the model suite (every arm, three algorithms, three feature variants) on a "
            "cohort and store it in the model registry: here, in the foreground, or (--enqueue) "
            "as a job for a task worker.")

    def add_arguments(self, parser):
        parser.add_argument("--cohort", type=int, help="Cohort id; default: every demo cohort "
                            "(seed_demo), else the newest cohort.")
        parser.add_argument("--seed", type=int, default=None,
                            help="Random seed; drawn at random and recorded when omitted.")
        parser.add_argument("--if-missing", action="store_true",
                            help="Leave out a cohort that already has a training run.")
        parser.add_argument("--enqueue", action="store_true",
                            help="Queue the job for a task worker (`manage.py db_worker`, started "
                                 "by `make run`) and return at once.")

    def handle(self, *, cohort, seed, if_missing, enqueue, **options):
        if seed is not None and not 0 <= seed < 2**31:
            raise CommandError(f"--seed must be between 0 and 2**31 - 1, got {seed}")
        return "\n".join(self._train(chosen, seed=seed, if_missing=if_missing, enqueue=enqueue,
                                     verbosity=options["verbosity"])
                         for chosen in self._cohorts(cohort))

    def _train(self, chosen, *, seed, if_missing, enqueue, verbosity) -> str:
        if if_missing and chosen.training_runs.exists():
            return f"Cohort {chosen.pk} already has a training run; nothing to do."
        with tqdm(total=1, desc=f"Training models on cohort {chosen.pk}", unit="model",
                  disable=verbosity == 0 or enqueue) as bar:
            def progress(done, total, label):
                bar.total = total
                bar.set_postfix_str(label)
                bar.update(done - bar.n)

            job, started = training_job_start(
                cohort=chosen, actor=command_line_actor(), purpose=Purpose.MODEL_TRAINING,
                seed=seed, foreground=not enqueue, progress=progress)
        if not started:
            raise CommandError(f"Cohort {chosen.pk} is already being trained by job {job.pk} "
                               f"({job.get_status_display().lower()}); nothing was started.")
        if enqueue:
            return (f"Training job {job.pk} on cohort {chosen.pk} is queued; a task worker "
                    f"(`manage.py db_worker`) carries it out.")
        if job.status != job.Status.DONE:
            raise CommandError(f"Training job {job.pk} failed: {job.error}")
        run = job.run
        skipped = "".join(f"\n  skipped {arm}: {reason}" for arm, reason in run.skipped_arms.items())
        return (f"Training run {run.pk} on cohort {chosen.pk}: {run.models.count()} models, seed "
                f"{run.seed}, {run.duration_seconds:.1f} s.{skipped}")

    def _cohorts(self, cohort_id) -> list[Cohort]:
        if cohort_id is not None:
            try:
                return [Cohort.objects.get(pk=cohort_id)]
            except Cohort.DoesNotExist:
                raise CommandError(f"--cohort {cohort_id}: no such cohort") from None
        chosen = list(Cohort.objects.filter(is_demo=True)) or list(Cohort.objects.all()[:1])
        if not chosen:
            raise CommandError("There is no cohort yet: run generate_cohort or seed_demo first.")
        return chosen
