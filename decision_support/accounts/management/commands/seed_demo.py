from django.core.management import call_command
from django.core.management.base import BaseCommand

from decision_support.cohorts.models import Cohort

from ...services import demo_accounts_ensure

DEMO_SEED = 20_261_125
# The multi-site lesson every installation can show ("Does it travel?"); 10,000 patients per site
# make the trial's internal figures precise enough for the clinic's loss to show.
TRAVEL_SCENARIO = "trial_to_clinic"


class Command(BaseCommand):
    help = ("Set up the demo (idempotent): a demo cohort of the default scenario, a demo cohort "
            f"of the multi-site lesson {TRAVEL_SCENARIO}, and one account per role. New accounts "
            "get random passwords, printed once.")

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=5_000, help="Size of the demo cohort.")
        parser.add_argument("--travel-patients", type=int, default=10_000,
                            help=f"Patients per site of the {TRAVEL_SCENARIO} demo cohort.")

    def handle(self, *, patients, travel_patients, **options):
        # The multi-site lesson first: the default demo, newest, is the one the start page opens.
        self._ensure(TRAVEL_SCENARIO, options, patients=travel_patients,
                     site_scenario=TRAVEL_SCENARIO,
                     name=f"Demo: from trial to clinic ({travel_patients:,} patients per site)")
        self._ensure("default", options, patients=patients, scenario="default",
                     name=f"Demo cohort ({patients:,} patients)")
        self.stdout.write("Demo accounts (passwords are shown once; store them now):")
        for username, role, password in demo_accounts_ensure():
            shown = password if password else "(unchanged: account existed)"
            self.stdout.write(f"  {role.label:<16} {username:<22} {shown}")

    def _ensure(self, stored_as: str, options: dict, **arguments):
        """The demo cohort whose ``Cohort.scenario`` is ``stored_as``, generated if missing."""
        if Cohort.objects.filter(is_demo=True, scenario=stored_as).exists():
            self.stdout.write(f"Demo cohort of {stored_as}: already there.")
            return
        call_command("generate_cohort", seed=DEMO_SEED, demo=True,
                     verbosity=options["verbosity"], stdout=self.stdout, **arguments)
