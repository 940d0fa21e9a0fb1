import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import RequestFactory

from decision_support.accounts.roles import Role, user_roles
from decision_support.accounts.management.commands.seed_demo import DEMO_SEED, TRAVEL_SCENARIO
from decision_support.cohorts.models import Cohort
from synthetic_data import SITE_SCENARIOS

pytestmark = pytest.mark.django_db


def _seed(capsys):
    call_command("seed_demo", patients=150, travel_patients=40, verbosity=0)
    return capsys.readouterr().out


def test_it_creates_a_demo_cohort_and_one_account_per_role_with_working_passwords(capsys):
    out = _seed(capsys)
    cohort = Cohort.objects.get(is_demo=True, scenario="default")
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
    assert Cohort.objects.count() == 2
    assert "unchanged" in second and second.count("already there") == 2
    for password in re.findall(r"demo_\w+\s+(\S+)", first):
        assert password not in second


def test_every_installation_gets_a_multi_site_demo_to_show_external_validation(capsys):
    _seed(capsys)
    travel = Cohort.objects.get(is_demo=True, scenario=TRAVEL_SCENARIO)
    sites = [site.name for site in SITE_SCENARIOS[TRAVEL_SCENARIO].sites]
    assert travel.development_site == sites[0] and travel.seed == DEMO_SEED
    for site in sites:
        assert travel.patients.filter(site=site).count() == 40
    # The start page opens the default demo, created last.
    assert Cohort.objects.first().scenario == "default"


def test_an_installation_from_before_gets_the_multi_site_demo_and_keeps_its_demo(capsys):
    call_command("generate_cohort", patients=150, seed=DEMO_SEED, scenario="default", demo=True,
                 verbosity=0)
    before = Cohort.objects.get()
    _seed(capsys)
    assert Cohort.objects.get(is_demo=True, scenario="default") == before
    assert Cohort.objects.filter(is_demo=True, scenario=TRAVEL_SCENARIO).count() == 1


def test_it_makes_the_data_steward_group_if_a_flush_removed_it(capsys):
    """Transactional tests flush what the migrations made; the demo still sets up every role."""
    Group.objects.all().delete()
    _seed(capsys)
    steward = f"demo_{Role.DATA_STEWARD.value}"
    assert Role.DATA_STEWARD in user_roles(get_user_model().objects.get(username=steward))
