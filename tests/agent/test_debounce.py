from agent.reader import Debouncer


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_accepts_the_first_read_of_a_uid():
    assert Debouncer(2.0, Clock()).accept("04A1B2C3")


def test_drops_a_repeat_within_the_debounce_window():
    clock = Clock()
    debouncer = Debouncer(2.0, clock)
    debouncer.accept("04A1B2C3")

    clock.now += 1.9

    assert not debouncer.accept("04A1B2C3")


def test_accepts_the_same_uid_again_after_the_window():
    clock = Clock()
    debouncer = Debouncer(2.0, clock)
    debouncer.accept("04A1B2C3")

    clock.now += 2.0

    assert debouncer.accept("04A1B2C3")


def test_a_fluttering_tag_counts_once_while_it_keeps_fluttering():
    clock = Clock()
    debouncer = Debouncer(2.0, clock)
    accepted = []
    for _ in range(10):  # in and out of the field every second for ten seconds
        accepted.append(debouncer.accept("04A1B2C3"))
        clock.now += 1.0

    assert accepted == [True] + [False] * 9


def test_a_different_uid_is_never_debounced():
    debouncer = Debouncer(2.0, Clock())

    assert [debouncer.accept(uid) for uid in ("BADGE01", "TOOL01", "BADGE01")] == [True] * 3


def test_a_zero_window_accepts_every_read():
    debouncer = Debouncer(0.0, Clock())

    assert [debouncer.accept("04A1B2C3") for _ in range(3)] == [True] * 3
