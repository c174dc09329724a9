"""The API against its own OpenAPI schema: schemathesis generates requests for every operation
(a bounded number each, derandomised so CI is repeatable) and checks that none answers 5xx and
that every answer matches what the schema documents for its status."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.config import SchemathesisConfig

from tests.factories import BadgeFactory, EmployeeFactory, ItemFactory, LoanFactory

pytestmark = pytest.mark.django_db


def load_schema():
    from config.wsgi import application

    # Loaded at collection (schemathesis' lazy fixture loader does not run on pytest 9); the
    # schema view itself touches no database.
    # The coverage phase sends ~150 boundary cases per write operation whatever max_examples
    # says, which would take minutes here; the fuzzing phase below mixes valid and invalid data.
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)
    # The kiosk's agent-facing endpoints have their own tests and token scheme.
    return schema.exclude(path_regex=r"^/api/v1/kiosk/")


schema = load_schema()


@pytest.fixture
def one_connection():
    """Schemathesis calls the WSGI app directly, not through Django's test client, so Django
    would close the connection at the end of each request (CONN_MAX_AGE, pooling) and lose the
    test's transaction. Do what the test client does: keep it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def crib():
    """A few records so that detail routes and filters sometimes hit something real."""
    person = EmployeeFactory(code="E0001")
    BadgeFactory(employee=person, uid="04A1B2C3")
    LoanFactory(employee=person, item=ItemFactory(code="TO0001"))
    ItemFactory(code="TO0002")


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_fails_or_contradicts_the_schema(case, manager, crib, one_connection):
    token = RefreshToken.for_user(manager).access_token
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
        checks=[not_a_server_error, response_schema_conformance],
    )
