"""The API's throttles: per address without a user, per user with one, counted in the shared
cache; a throttled request is a 429 with Retry-After and a message that says how long to wait;
a cache that cannot be reached throttles nothing rather than failing requests."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


def test_the_default_rates(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "anon": "60/minute",
        "user": "600/minute",
        "station": "600/minute",
    }


def test_requests_without_a_user_are_counted_per_address(api, rates, english):
    rates(anon="3/minute")
    # Refused before any password is checked (no failed login is counted), throttled all the same.
    tries = [api.post("/api/v1/auth/token/", {}, REMOTE_ADDR="10.0.0.7") for _ in range(4)]

    assert [t.status_code for t in tries] == [400, 400, 400, 429]
    throttled = tries[-1]
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json() == {
        "code": "THROTTLED",
        "message": f"Too many requests. Wait {throttled['Retry-After']} seconds, then try again.",
    }
    # Another address has its own count.
    assert api.post("/api/v1/auth/token/", {}, REMOTE_ADDR="10.0.0.8").status_code == 400


def test_a_user_is_counted_on_their_own(api, rates, manager, viewer):
    rates(user="3/minute")
    tries = [api.as_user(manager).get("/api/v1/loans/") for _ in range(4)]

    assert [t.status_code for t in tries] == [200, 200, 200, 429]
    assert "Retry-After" in tries[-1]
    assert tries[-1].json()["message"].startswith("要求が多すぎます。")
    assert api.as_user(viewer).get("/api/v1/loans/").status_code == 200


def test_nothing_is_throttled_while_the_cache_cannot_be_reached(api, rates, manager, settings):
    rates(user="2/minute")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: refused at once
        }
    }

    tries = [api.as_user(manager).get("/api/v1/loans/") for _ in range(4)]

    assert [t.status_code for t in tries] == [200] * 4
