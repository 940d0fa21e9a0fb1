from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from synthetic_data import SCENARIOS, SITE_SCENARIOS
from synthetic_data.generator import MAX_PATIENTS

from decision_support.audit.services import command_line_actor
from decision_support.courses.models import Course
from decision_support.lib.vocabulary import Purpose

from ...services import bar_progress, cohort_create


class Command(BaseCommand):
    help = ("Generate a synthetic cohort from a scenario and store it (one transaction, audited as "
            "cohort.create by command-line:<user>).")

    def add_arguments(self, parser):
        parser.add_argument("--scenario", default="default", choices=sorted(SCENARIOS))
        parser.add_argument("--site-scenario", default=None, choices=sorted(SITE_SCENARIOS),
                            help="Draw the cohort at each site of a site scenario (--patients "
                                 "per site; --scenario is then not used).")
        parser.add_argument("--patients", type=int, default=5_000)
        parser.add_argument("--seed", type=int, default=None,
                            help="Random seed; drawn at random and recorded when omitted.")
        parser.add_argument("--name", default="")
        parser.add_argument("--demo", action="store_true", help="Mark it as the demo cohort.")
        parser.add_argument("--course", type=int, default=None,
                            help="The id of the course it belongs to (default: the demo course).")

    def handle(self, *, scenario, site_scenario, patients, seed, name, demo, course, **options):
        if not 1 <= patients <= MAX_PATIENTS:
            raise CommandError(f"--patients must be between 1 and {MAX_PATIENTS:,}, got {patients}")
        if seed is not None and not 0 <= seed < 2**63:
            raise CommandError(f"--seed must be between 0 and 2**63 - 1, got {seed}")
        course_id, course = course, None
        if course_id is not None:
            course = Course.objects.filter(pk=course_id).first()
            if course is None:
                raise CommandError(f"--course: there is no course {course_id}")
        with tqdm(unit="patient", disable=options["verbosity"] == 0) as bar:
            cohort = cohort_create(actor=command_line_actor(), purpose=Purpose.EDUCATION,
                                   n_patients=patients, scenario=scenario, seed=seed, name=name,
                                   is_demo=demo, course=course, progress=bar_progress(bar),
                                   site_scenario=site_scenario)
        return f"Cohort {cohort.pk} '{cohort.name}': {cohort.n_patients:,} patients, seed {cohort.seed}."
