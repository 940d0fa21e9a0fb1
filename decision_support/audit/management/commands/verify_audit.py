from django.core.management.base import BaseCommand, CommandError

from ...verify import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exits 1 naming the first broken entry."

    def handle(self, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(f"BROKEN at entry #{result.broken_at}: {result.reason}", returncode=1)
        return f"OK: {result.checked} {'entry' if result.checked == 1 else 'entries'}, chain intact"
