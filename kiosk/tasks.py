"""Background jobs of the tap path (huey)."""

from huey.contrib.djhuey import db_task

from kiosk import replays


@db_task()
def apply_replay() -> None:
    """The held taps of a replay whose last kiosk has answered: applied here, not in that
    kiosk's heartbeat, which must be answered within the agent's timeout."""
    replays.apply_ready()
