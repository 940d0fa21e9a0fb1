from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token for the JSON API, acting as its user (with the user's roles at each request).

    Only a SHA-256 digest of the token is stored: the token itself is shown once, when created.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # the token's first characters, to tell tokens apart
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class GuideDismissal(models.Model):
    """A user closed the first-visit guide: it stays closed, in every session."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="guide_dismissal")
    dismissed_at = models.DateTimeField(auto_now_add=True)
