from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from decision_support.lib.redirects import safe_next

from .forms import ApiTokenCreateForm, ApiTokenRevokeForm
from .models import ApiToken
from .services import guide_dismiss as guide_dismiss_service
from .tokens import MAX_ACTIVE_TOKENS, api_token_create, api_token_revoke

NOT_YOUR_TOKEN = "revoke must name one of your active tokens"


def api_tokens(request):
    """The signed-in user's JSON API tokens: create one (shown once), revoke one."""
    form, new_token, errors = ApiTokenCreateForm(), None, []
    if request.method == "POST" and "revoke" in request.POST:
        revoke = ApiTokenRevokeForm(request.POST)
        try:
            if not revoke.is_valid():
                raise ApiToken.DoesNotExist
            api_token_revoke(user=request.user, token_id=revoke.cleaned_data["revoke"])
        except ApiToken.DoesNotExist:
            errors = [("revoke", NOT_YOUR_TOKEN)]
        else:
            return redirect("api_tokens")
    elif request.method == "POST":
        form = ApiTokenCreateForm(request.POST)
        if form.is_valid():
            try:
                _, new_token = api_token_create(user=request.user, name=form.cleaned_data["name"])
            except ValidationError as error:
                form.add_error("name", error.message_dict["name"])
            else:
                form = ApiTokenCreateForm()
        errors = [(name, message) for name, messages in form.errors.items() for message in messages]
    response = render(request, "accounts/api_tokens.html", {
        "form": form, "errors": errors, "new_token": new_token, "max_tokens": MAX_ACTIVE_TOKENS,
        "lifetime_days": settings.API_TOKEN_LIFETIME_DAYS, "now": timezone.now(),
        "tokens": ApiToken.objects.filter(user=request.user)}, status=400 if errors else 200)
    if new_token:
        response["Cache-Control"] = "no-store"  # the token is shown once and never cached
    return response


def guide_dismiss(request):
    """Close the first-visit guide for good, then back to the page it was closed on."""
    guide_dismiss_service(user=request.user)
    return redirect(safe_next(request, reverse("home")))
