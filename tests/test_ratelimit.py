"""The send-rate limiter, driven by a fake clock."""
from __future__ import annotations

import pytest

from services.notify.ratelimit import RateLimiter


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(clock: FakeClock, **kw) -> RateLimiter:
    kw.setdefault("rate_per_second", 25)
    kw.setdefault("per_chat_seconds", 1.0)
    return RateLimiter(clock=clock, sleep=clock.sleep, **kw)


def test_global_rate_respected_over_a_window():
    clock = FakeClock()
    lim = limiter(clock, burst=5)
    sent_at: list[float] = []
    chat = 0
    # Try every millisecond for 10 s, each time to a fresh chat.
    for _ in range(10_000):
        if lim.try_acquire(chat) == 0:
            sent_at.append(clock.now)
            chat += 1
        clock.advance(0.001)
    assert 25 * 10 <= len(sent_at) <= 25 * 10 + 5
    # In any 1-second window: at most rate + burst.
    j = 0
    for i, t in enumerate(sent_at):
        while sent_at[j] <= t - 1.0:
            j += 1
        assert i - j + 1 <= 30


def test_burst_then_steady_rate():
    clock = FakeClock()
    lim = limiter(clock, burst=5)
    assert [lim.try_acquire(c) for c in range(5)] == [0.0] * 5
    wait = lim.try_acquire(99)
    assert wait == pytest.approx(1 / 25)
    clock.advance(wait)
    assert lim.try_acquire(99) == 0


def test_default_burst_is_small():
    lim = RateLimiter(25, 1)
    assert 1 <= lim.burst <= 5


def test_per_chat_spacing():
    clock = FakeClock()
    lim = limiter(clock, rate_per_second=1000, burst=100)
    assert lim.try_acquire(7) == 0
    assert lim.try_acquire(7) == pytest.approx(1.0)
    clock.advance(0.6)
    assert lim.delay_for(7) == pytest.approx(0.4)
    assert 7 in lim.busy_chats()
    clock.advance(0.4)
    assert lim.try_acquire(7) == 0


async def test_acquire_keeps_spacing_for_queued_messages_of_one_chat():
    clock = FakeClock()
    lim = limiter(clock, rate_per_second=1000, burst=100)
    times = []
    for _ in range(5):
        await lim.acquire(42)
        times.append(clock.now)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= 1.0 - 1e-9 for g in gaps)


def test_busy_chat_does_not_block_others():
    clock = FakeClock()
    lim = limiter(clock, burst=5)
    assert lim.try_acquire(1) == 0
    assert lim.try_acquire(1) > 0  # chat 1 must wait ~1 s
    # meanwhile other chats go at the global rate
    assert lim.try_acquire(2) == 0
    assert lim.try_acquire(3) == 0
    assert lim.busy_chats() == {1, 2, 3}
    assert lim.next_chat_ready_in() == pytest.approx(1.0)
    clock.advance(1.0)
    assert lim.busy_chats() == set()
    assert lim.next_chat_ready_in() is None


def test_pause_stops_everything_and_restarts_without_burst():
    clock = FakeClock()
    lim = limiter(clock, burst=5)
    lim.pause(5)
    assert lim.paused_for() == pytest.approx(5)
    assert lim.try_acquire(1) == pytest.approx(5)
    assert lim.delay_for(2) == pytest.approx(5)
    clock.advance(4.99)
    assert lim.try_acquire(1) > 0
    clock.advance(0.01)
    assert lim.paused_for() == 0
    # the bucket restarts empty: the first slot comes one token-time after the pause
    assert lim.try_acquire(1) == pytest.approx(1 / 25)
    clock.advance(1 / 25)
    assert lim.try_acquire(1) == 0


def test_shorter_pause_does_not_shorten_a_longer_one():
    clock = FakeClock()
    lim = limiter(clock)
    lim.pause(10)
    lim.pause(2)
    assert lim.paused_for() == pytest.approx(10)


async def test_acquire_waits_out_a_pause():
    clock = FakeClock()
    lim = limiter(clock)
    lim.pause(3)
    start = clock.now
    await lim.acquire(1)
    assert clock.now - start >= 3


def test_memory_of_chats_is_bounded():
    clock = FakeClock()
    lim = limiter(clock, rate_per_second=1e6, burst=1e6)
    for chat in range(10_000):
        lim.try_acquire(chat)
    clock.advance(1.1)
    lim.try_acquire(-1)
    assert len(lim.busy_chats()) == 1


def test_from_settings():
    class S:
        send_rate_per_second = 10.0
        send_rate_per_chat_seconds = 2.0

    lim = RateLimiter.from_settings(S())
    assert lim.rate == 10 and lim.per_chat_seconds == 2


def test_invalid_arguments():
    with pytest.raises(ValueError):
        RateLimiter(0, 1)
    with pytest.raises(ValueError):
        RateLimiter(1, -1)
