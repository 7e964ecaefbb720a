"""server/ratelimit.py with a clock the test moves (time.monotonic patched), no sockets: a token
bucket refills at its rate up to its burst, ``take`` spends only what it has, ``charge`` goes
into debt bounded by one burst, and strikes count refusals in a sliding window."""

from __future__ import annotations

from server.ratelimit import Strikes, TokenBucket
from tests.fake_clock import Clock


def test_a_bucket_starts_full_and_refuses_past_its_burst(clock: Clock) -> None:
    bucket = TokenBucket(rate=2, burst=5)
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]


def test_a_refused_take_spends_nothing(clock: Clock) -> None:
    bucket = TokenBucket(rate=1, burst=10)
    assert bucket.take(7)
    assert not bucket.take(4)  # 3 left: refused whole, not partly taken
    assert bucket.take(3)


def test_a_bucket_refills_at_its_rate_and_never_beyond_its_burst(clock: Clock) -> None:
    bucket = TokenBucket(rate=2, burst=5)
    for _ in range(5):
        bucket.take()
    clock.now += 1.0  # two tokens back
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    clock.now += 3600  # an hour idle: still only one burst
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]


def test_a_cost_larger_than_the_burst_is_never_granted(clock: Clock) -> None:
    bucket = TokenBucket(rate=100, burst=10)
    clock.now += 60
    assert not bucket.take(11)
    assert bucket.take(10)


def test_charge_goes_into_debt_that_later_messages_wait_for(clock: Clock) -> None:
    bucket = TokenBucket(rate=10, burst=20)
    bucket.charge(30)  # a reply that cost more than was left: 10 tokens of debt
    assert bucket.tokens == -10
    assert not bucket.take()
    clock.now += 1.0  # 10 back: the debt is paid, nothing to spend yet
    assert not bucket.take()
    clock.now += 0.1
    assert bucket.take()


def test_debt_is_bounded_by_one_burst(clock: Clock) -> None:
    bucket = TokenBucket(rate=10, burst=20)
    bucket.charge(1_000_000)  # one huge reply
    assert bucket.tokens == -20
    clock.now += 2.0  # one burst's worth of time pays it all back
    assert not bucket.take()
    clock.now += 0.1
    assert bucket.take()


def test_strikes_reach_the_limit_within_the_window(clock: Clock) -> None:
    strikes = Strikes(limit=3, window=10.0)
    assert strikes.times is None  # nothing kept for a socket never refused
    assert not strikes.add()
    clock.now += 4
    assert not strikes.add()
    clock.now += 4
    assert strikes.add()  # three within 8 s


def test_strikes_older_than_the_window_are_forgotten(clock: Clock) -> None:
    strikes = Strikes(limit=3, window=10.0)
    strikes.add()
    clock.now += 6
    strikes.add()
    clock.now += 6  # the first is 12 s old now
    assert not strikes.add()
    assert strikes.times is not None and len(strikes.times) == 2
    clock.now += 3  # the second is 9 s old: still counted
    assert strikes.add()


def test_a_strike_exactly_one_window_old_still_counts(clock: Clock) -> None:
    strikes = Strikes(limit=2, window=10.0)
    strikes.add()
    clock.now += 10.0
    assert strikes.add()
