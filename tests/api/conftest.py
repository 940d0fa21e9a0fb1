"""A trained run shared by the API tests, and tokens for each role."""

import pytest

from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import api_token_create
from models.ranking import RANKING_ALGORITHM
from tests.trained_runs import committed_run


@pytest.fixture(scope="package")
def run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300,
                       algorithms=(RANKING_ALGORITHM, "random_forest")) as run:
        yield run


@pytest.fixture
def token_for(make_user):
    """Factory: ``token_for(role)`` -> (user, the headers that authenticate as them)."""
    def make(role=Role.EDUCATOR):
        user = make_user(role, username=f"api_{Role(role).value}")
        _, token = api_token_create(user=user, name="tests")
        return user, {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return make


@pytest.fixture
def educator(token_for):
    return token_for(Role.EDUCATOR)[1]


@pytest.fixture
def student(token_for):
    return token_for(Role.STUDENT)[1]
