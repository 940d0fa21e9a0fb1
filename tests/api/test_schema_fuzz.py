"""schemathesis against the API's own OpenAPI schema: generated requests (valid and invalid) to
every operation, as an educator with a token, must never fail the server and must answer with a
status code, content type and body the schema documents."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from decision_support.wsgi import application

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 50  # per operation: the suite must stay fast


# Loaded when the module is collected: the schema is public and reads no database.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def test_transaction_kept_across_requests():
    """schemathesis calls the WSGI application itself, whose request signals close the database
    connection, and with it the test's transaction on PostgreSQL. Django's test client detaches
    ``close_old_connections`` from those signals; so does this, for the test's duration."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield
    for signal in signals:
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_schema(case, run, educator, test_transaction_kept_across_requests):
    # A valid token, unless the case is about the Authorization header itself (then as generated,
    # and the API must refuse it).
    if not case.meta.is_negative_at(ParameterLocation.HEADER):
        case.headers = {**(case.headers or {}), "Authorization": educator["HTTP_AUTHORIZATION"]}
    case.call_and_validate()
