"""Saves taps into an outbox as fast as it can; prints each event id once its commit returned.

The durability test SIGKILLs this at random moments: every id printed was acknowledged to the
reader loop and must be in the outbox afterwards. Every tenth tap it also marks a few events
delivered, so kills land in updates as well as inserts.
"""

import sys
from pathlib import Path

from agent.outbox import DELIVERED, Outbox, Settlement, utc_now


def main() -> None:
    outbox = Outbox(Path(sys.argv[1]))
    print("ready", flush=True)
    count = 0
    while True:
        event = outbox.add(f"{count:08X}", utc_now())
        sys.stdout.write(f"{event.id}\n")
        sys.stdout.flush()
        count += 1
        if count % 10 == 0:
            outbox.settle(Settlement(e.id, DELIVERED) for e in outbox.pending(5))


if __name__ == "__main__":
    main()
