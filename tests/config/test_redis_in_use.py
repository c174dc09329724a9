"""With REDIS_URL set, kiosk pushes and scheduled jobs go through Redis: a second server process
or the job runner reaches the screens and the queue only that way."""

import os
import time

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
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
