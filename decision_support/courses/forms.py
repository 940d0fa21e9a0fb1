"""Forms of the course pages: a new course, join codes, members' roles, joining, the roster."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import COURSE_ROLES, JOIN_CODE_ROLES, Course
from .roster import DISPLAY_NAME_MAX_CHARS, ROSTER_MAX_BYTES
from .services import JOIN_CODE_DEFAULT_DAYS, JOIN_CODE_MAX_DAYS

BIGINT = 2**63 - 1
NO_SUCH_MEMBER = "member must name a member of this course"
NO_SUCH_CODE = "revoke must name an active code of this course"


def _display_name(**kwargs) -> forms.CharField:
    return forms.CharField(label="Display name (what the class sees)",
                           max_length=DISPLAY_NAME_MAX_CHARS, **kwargs)


class CourseForm(forms.Form):
    name = forms.CharField(label="Course name", max_length=Course.NAME_MAX_CHARS)


class JoinCodeForm(forms.Form):
    role = forms.ChoiceField(label="Joins as", initial=JOIN_CODE_ROLES[0].value,
                             choices=[(r.value, r.label) for r in JOIN_CODE_ROLES])
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=JOIN_CODE_MAX_DAYS,
                              initial=JOIN_CODE_DEFAULT_DAYS)


class JoinCodeRevokeForm(forms.Form):
    revoke = forms.IntegerField(min_value=1, max_value=BIGINT, error_messages={
        key: NO_SUCH_CODE for key in ("required", "invalid", "min_value", "max_value")})


class MemberForm(forms.Form):
    """Change a member's role, or (``remove``) take them out of the course."""

    member = forms.IntegerField(min_value=1, max_value=BIGINT, widget=forms.HiddenInput,
                                error_messages={key: NO_SUCH_MEMBER for key in
                                                ("required", "invalid", "min_value", "max_value")})
    role = forms.ChoiceField(label="Role", required=False,
                             choices=[(r.value, r.label) for r in COURSE_ROLES])
    remove = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if not data.get("remove") and not data.get("role") and "role" not in self.errors:
            self.add_error("role", "role is required to change a member's role")
        return data


class JoinForm(forms.Form):
    """A signed-in person joins: how the class should see them."""

    display_name = _display_name()


class JoinCodeEntryForm(forms.Form):
    code = forms.CharField(label="Course code", max_length=64)


class SignUpForm(UserCreationForm):
    """A new account made on the join page: username, display name, the password twice (Django's
    password validators)."""

    display_name = _display_name()

    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class RosterForm(forms.Form):
    roster = forms.FileField(label="Roster (CSV: username,display_name)",
                             max_length=255, allow_empty_file=False)

    def clean_roster(self) -> bytes:
        """The file's bytes; one byte more than the limit is enough for the parser to refuse it."""
        return self.cleaned_data["roster"].read(ROSTER_MAX_BYTES + 1)
