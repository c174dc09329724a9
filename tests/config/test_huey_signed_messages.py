"""huey's queue holds pickles; whoever can write to Redis (passwordless on many installs) must
not be able to make the job runner unpickle, that is run, what they like: messages are signed
with a key derived from SECRET_KEY, and an unsigned or forged one is dropped unread."""

import os
import pickle
import uuid

import pytest
from django.conf import settings
from huey import RedisHuey, SqliteHuey
from huey.serializer import SignedSerializer


class Planted:
    """A payload that creates a file when it is unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def queue(tmp_path):
    """A queue like the server's (same serializer and storage kind), under a name of its own."""
    name = f"signed-test-{uuid.uuid4().hex[:8]}"
    serializer = settings.HUEY.serializer
    if os.environ.get("REDIS_URL"):
        huey = RedisHuey(name, url=os.environ["REDIS_URL"], serializer=serializer)
    else:
        huey = SqliteHuey(name, filename=str(tmp_path / "huey.sqlite3"), serializer=serializer)

    @huey.task()
    def add(a, b):
        return a + b

    huey.add = add
    yield huey
    huey.storage.flush_all()


def test_the_server_signs_its_job_messages():
    assert isinstance(settings.HUEY.serializer, SignedSerializer)
    assert settings.HUEY_SIGNING_KEY != settings.SECRET_KEY


def test_a_signed_job_is_run(queue):
    queue.add(2, 3)

    task = queue.dequeue()

    assert queue.execute(task) == 5


@pytest.mark.parametrize("signed_with", [None, "an-attackers-guess-of-the-key-0123456789"])
def test_an_unsigned_or_forged_pickle_is_refused_and_never_unpickled(queue, tmp_path, signed_with):
    marker = tmp_path / "ran"
    payload = pickle.dumps(Planted(marker))
    if signed_with:
        payload = SignedSerializer(secret=signed_with, salt="toolcrib-huey")._sign(payload)
    queue.storage.enqueue(payload)

    with pytest.raises(ValueError, match=r"Separator|Signature"):
        queue.dequeue()  # the consumer logs this and goes on (huey.consumer.Worker.loop)

    assert not marker.exists()
    assert queue.storage.queue_size() == 0  # dropped, not retried forever
