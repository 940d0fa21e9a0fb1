"""schemathesis against the API's own OpenAPI schema: generated requests (valid and invalid) to
every operation, as an educator with a token, must never fail the server and must answer with a
status code, content type and body the schema documents."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from decision_support.wsgi import application

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25  # per operation: the suite must stay fast


# Loaded when the module is collected: the schema is public and reads no database.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_schema(case, run, educator):
    case.call_and_validate(headers={"Authorization": educator["HTTP_AUTHORIZATION"]})
