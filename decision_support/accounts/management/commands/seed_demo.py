from django.core.management import call_command
from django.core.management.base import BaseCommand

from decision_support.cohorts.models import Cohort

from ...services import demo_accounts_ensure

DEMO_SEED = 20_261_125


class Command(BaseCommand):
    help = ("Set up the demo (idempotent): a demo cohort and one account per role. New accounts get "
            "random passwords, printed once.")

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=5_000, help="Size of the demo cohort.")

    def handle(self, *, patients, **options):
        if Cohort.objects.filter(is_demo=True).exists():
            self.stdout.write("Demo cohort: already there.")
        else:
            call_command("generate_cohort", patients=patients, seed=DEMO_SEED, scenario="default",
                         name=f"Demo cohort ({patients:,} patients)", demo=True,
                         verbosity=options["verbosity"], stdout=self.stdout)
        self.stdout.write("Demo accounts (passwords are shown once; store them now):")
        for username, role, password in demo_accounts_ensure():
            shown = password if password else "(unchanged: account existed)"
            self.stdout.write(f"  {role.label:<16} {username:<22} {shown}")
