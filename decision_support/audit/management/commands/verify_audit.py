from django.core.management.base import BaseCommand, CommandError

from ...verify import verify_chain


class Command(BaseCommand):
    help = ("Check the audit log's keyed hash chain and the latest signed checkpoint; exits 1 "
            "naming the first break (edited, missing, reordered, recomputed or truncated entries).")

    def handle(self, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(result.summary(), returncode=1)
        return result.summary()
