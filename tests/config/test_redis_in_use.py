"""With REDIS_URL set, kiosk pushes and scheduled jobs go through Redis: a second server process
or the job runner reaches the screens and the queue only that way."""

import contextvars
import os
import time

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.test import AsyncClient
from huey import RedisHuey

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://…"
)


def test_a_push_to_a_kiosk_group_travels_through_redis():
    listener = redis.Redis.from_url(os.environ["REDIS_URL"]).pubsub()
    listener.psubscribe("*kiosk.station.4242.ja*")
    listener.get_message(timeout=1)  # the subscription's confirmation
    layer = get_channel_layer()

    async_to_sync(layer.group_send)("kiosk.station.4242.ja", {"type": "kiosk.update", "html": "x"})

    assert isinstance(layer, RedisPubSubChannelLayer)
    deadline = time.monotonic() + 5
    while (message := listener.get_message(timeout=0.5)) is None and time.monotonic() < deadline:
        pass
    assert message is not None and message["type"] == "pmessage"


def test_the_job_queue_is_kept_in_redis():
    expected = redis.ConnectionPool.from_url(os.environ["REDIS_URL"]).connection_kwargs
    pool = settings.HUEY.storage_kwargs["connection_pool"]

    assert isinstance(settings.HUEY, RedisHuey)
    assert {key: pool.connection_kwargs.get(key) for key in ("host", "port", "db")} == {
        key: expected.get(key) for key in ("host", "port", "db")
    }


TOKEN = "/api/v1/auth/token/"


def connections_received(client: redis.Redis) -> int:
    return client.info("stats")["total_connections_received"]


@pytest.mark.django_db
def test_api_requests_share_the_processs_redis_connections():
    """Each ASGI request is a context of its own, with its own cache object: they must not each
    connect to Redis again (a throttle asks the cache on every API request; an empty token
    request is counted, then refused before any login is tried)."""
    client, redis_client = AsyncClient(), redis.Redis.from_url(os.environ["REDIS_URL"])

    def ask() -> int:
        # As daphne serves each request: in a context of its own, made from one that never
        # used the cache.
        post = async_to_sync(client.post)
        return contextvars.Context().run(post, TOKEN, {}, "application/json").status_code

    ask()  # the first opens the pool's connection
    before = connections_received(redis_client)

    statuses = [ask() for _ in range(5)]

    assert statuses == [400] * 5
    assert connections_received(redis_client) == before
