from agent.sender import Backoff


def delays(rng_value: float, count: int) -> list[float]:
    backoff = Backoff(rng=lambda: rng_value)
    return [backoff.next_delay() for _ in range(count)]


def test_doubles_the_delay_on_each_failure():
    assert delays(1.0, 5) == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_jitter_keeps_each_delay_between_half_and_all_of_its_step():
    assert delays(0.0, 5) == [0.25, 0.5, 1.0, 2.0, 4.0]
    assert delays(0.5, 3) == [0.375, 0.75, 1.5]


def test_never_waits_more_than_thirty_seconds():
    assert max(delays(1.0, 50)) == 30.0
    assert delays(1.0, 12)[-3:] == [30.0, 30.0, 30.0]
    assert delays(0.0, 12)[-1] == 15.0


def test_a_random_jitter_stays_within_its_bounds():
    backoff = Backoff()
    for attempt in range(20):
        step = min(30.0, 0.5 * 2**attempt)
        assert step / 2 <= backoff.next_delay() <= step


def test_starts_over_after_a_reset():
    backoff = Backoff(rng=lambda: 1.0)
    for _ in range(4):
        backoff.next_delay()

    backoff.reset()

    assert backoff.next_delay() == 0.5
