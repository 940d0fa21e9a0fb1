from django.core.exceptions import ValidationError

from .roles import Role

# Passwords a demo or workshop might be set up with; never acceptable on a real deployment.
KNOWN_DEMO_PASSWORDS = frozenset(
    {"demo", "demo1234", "demopassword", "password", "changeme", "letmein", "precision", "psychiatry"}
    | {role.value for role in Role}
    | {f"{role.value}123" for role in Role}
    | {f"demo_{role.value}" for role in Role}
)


class NotADemoPasswordValidator:
    """Refuses well-known demo passwords (active in production mode)."""

    def validate(self, password, user=None):
        if password.strip().lower() in KNOWN_DEMO_PASSWORDS:
            raise ValidationError(
                "This is a known demo password and is refused in production mode.",
                code="demo_password",
            )

    def get_help_text(self):
        return "Your password can't be a known demo password."
