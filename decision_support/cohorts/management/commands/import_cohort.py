from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from decision_support.audit.services import command_line_actor
from decision_support.lib.vocabulary import Purpose
from synthetic_data import CohortImportError

from ...models import Cohort
from ...services import bar_progress, cohort_import


class Command(BaseCommand):
    help = ("Import a CSV file of patients with the data dictionary's columns as a cohort. Every "
            "row is validated first; a file with any problem is rejected whole.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV file, UTF-8, with a header row.")
        parser.add_argument("--name", default="", help="Cohort name; defaults to the file name.")

    def handle(self, *, file, name, **options):
        name = name or f"Imported from {file.name}"
        max_length = Cohort._meta.get_field("name").max_length
        if len(name) > max_length:
            raise CommandError(f"The cohort name must be at most {max_length} characters; "
                               "pass a shorter --name.")
        try:
            with file.open("rb") as f:
                # A file over the limit is rejected anyway: never read more than one byte past it.
                data = f.read(settings.COHORT_IMPORT_MAX_BYTES + 1)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        try:
            with tqdm(unit="patient", disable=options["verbosity"] == 0) as bar:
                cohort = cohort_import(actor=command_line_actor(), purpose=Purpose.EDUCATION,
                                       data=data, name=name, progress=bar_progress(bar))
        except CohortImportError as error:
            raise CommandError(f"{file} was rejected; nothing was imported.\n{error}") from None
        return f"Cohort {cohort.pk} '{cohort.name}': {cohort.n_patients:,} patients imported."
