"""MFA_REQUIRED: on in production, off for `make run`, and what the variable says otherwise."""

import pytest

from tests.config.test_settings import run_python

READ = "import config.settings as s; print(s.MFA_REQUIRED)"
SECRET = "tests-only-secret-key-never-used-in-production-0123456789"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "True"),
        ({"DEBUG": "1"}, "False"),
        ({"DEBUG": "1", "MFA_REQUIRED": "1"}, "True"),
        ({"MFA_REQUIRED": "0"}, "False"),
    ],
)
def test_mfa_is_required_in_production_by_default(env, expected):
    result = run_python(READ, SECRET_KEY=SECRET, **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_a_typo_stops_the_start():
    result = run_python(READ, SECRET_KEY=SECRET, MFA_REQUIRED="sometimes")

    assert result.returncode != 0
    assert "MFA_REQUIRED must be 1/0" in result.stderr
