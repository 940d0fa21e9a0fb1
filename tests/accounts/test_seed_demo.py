import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from decision_support.accounts.roles import Role, user_roles
from decision_support.cohorts.models import Cohort

pytestmark = pytest.mark.django_db


def _seed(capsys):
    call_command("seed_demo", patients=150, verbosity=0)
    return capsys.readouterr().out


def test_it_creates_a_demo_cohort_and_one_account_per_role_with_working_passwords(capsys):
    out = _seed(capsys)
    cohort = Cohort.objects.get(is_demo=True)
    assert cohort.n_patients == 150
    for role in Role:
        match = re.search(rf"demo_{role.value}\s+(\S+)", out)
        assert match, out
        # django-axes (the lockout) needs the sign-in request.
        user = authenticate(RequestFactory().post("/accounts/login/"),
                            username=f"demo_{role.value}", password=match.group(1))
        assert user is not None and user_roles(user) == [role]


def test_passwords_are_random(capsys):
    passwords = re.findall(r"demo_\w+\s+(\S+)", _seed(capsys))
    assert len(set(passwords)) == len(Role)
    assert not {"demo", "password", "educator"} & set(passwords)


def test_running_it_again_changes_nothing_and_shows_no_password(capsys):
    first = _seed(capsys)
    second = _seed(capsys)
    assert Cohort.objects.count() == 1
    assert "unchanged" in second
    for password in re.findall(r"demo_\w+\s+(\S+)", first):
        assert password not in second
