"""Point-in-time recovery as deploy/README.md describes it, with the pgBackRest and PostgreSQL
settings of deploy/, on a scratch cluster of its own: loans written, a moment noted, more loans,
the disk lost, the database restored to that moment: exactly the loans committed before it."""

import json

import pytest

from tests.deploy.scratch_cluster import Missing, ScratchCluster
from tests.processes import manage

BORROW = """
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door
person = Employee.objects.get(code="E0001")
for code in {codes!r}:
    services.borrow(item=Item.objects.get(code=code), employee=person, door=Door.API)
"""
LOANS = """
import json
from inventory.loans.models import Loan
print(json.dumps(list(Loan.objects.order_by("pk").values_list("item__code", flat=True))))
"""
REPLAY = """
from inventory.ops.models import RestoreRun
print(RestoreRun.objects.get().replay.state)
"""


@pytest.fixture
def cluster():
    try:
        scratch = ScratchCluster()
    except Missing as missing:
        pytest.skip(str(missing))
    try:
        yield scratch.create()
    finally:
        scratch.remove()


def test_a_restore_to_a_moment_gives_back_exactly_the_loans_committed_before_it(cluster):
    env = cluster.django_env()
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "seed_demo")
    cluster.backup("full")

    def borrow(*codes):
        manage(env, "shell", "--no-imports", "-c", BORROW.format(codes=codes))

    def loans():
        return json.loads(manage(env, "shell", "--no-imports", "-c", LOANS))

    borrow("TO0001", "TO0002", "TO0004")
    moment = cluster.sql("SELECT clock_timestamp()")
    borrow("TO0005", "TO0007", "TO0008")
    # The segment with the last loans reaches the archive (archive_timeout would within a
    # minute; `check` switches segments and waits for it).
    cluster.run("pgbackrest", "--stanza=toolcrib", "check")
    assert loans() == ["TO0001", "TO0002", "TO0004", "TO0005", "TO0007", "TO0008"]

    cluster.lose_the_disk()
    cluster.restore("--type=time", f"--target={moment}")

    assert loans() == ["TO0001", "TO0002", "TO0004"]
    manage(env, "record_restore", "--to", moment)  # the procedure's last step: the kiosks
    assert manage(env, "shell", "--no-imports", "-c", REPLAY).strip() == "gathering"
