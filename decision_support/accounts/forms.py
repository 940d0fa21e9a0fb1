from django import forms


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80, strip=True, error_messages={
        "required": "name is required: say what the token is for (e.g. 'seminar notebook')",
        "max_length": "name must be at most 80 characters",
        "null_characters_not_allowed": "name must not contain null characters"})


class ApiTokenRevokeForm(forms.Form):
    revoke = forms.IntegerField(min_value=1, max_value=2**63 - 1, error_messages={
        "required": "revoke must name one of your tokens",
        "invalid": "revoke must name one of your tokens",
        "min_value": "revoke must name one of your tokens",
        "max_value": "revoke must name one of your tokens"})
