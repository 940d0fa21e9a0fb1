"""Shared by the consent tests: a data steward, and a test client signed in as one."""

import pytest


@pytest.fixture
def steward(make_user):
    return make_user("data_steward")


@pytest.fixture
def steward_client(client, steward):
    client.force_login(steward)
    return client
