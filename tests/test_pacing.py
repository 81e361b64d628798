"""The broadcast schedule, on a simulated clock (no real time is measured)."""

from __future__ import annotations

import random

import pytest

from bot.pacing import Pacer


def simulate(pacer: Pacer, messages: int, work: list[float]) -> list[float]:
    """Send times when each send takes `work[i]` seconds after its wait."""
    now, times = 0.0, []
    for index in range(messages):
        now += pacer.wait(now)
        times.append(now)
        now += work[index % len(work)]
    return times


def busiest_second(times: list[float]) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_the_first_message_goes_at_once_and_the_next_on_the_grid() -> None:
    pacer = Pacer(20.0, tolerance=0.0)
    assert pacer.wait(100.0) == 0.0
    assert pacer.wait(100.0) == pytest.approx(0.05)
    assert pacer.wait(100.05) == pytest.approx(0.05)


def test_small_delays_are_made_up_so_the_rate_holds() -> None:
    rng = random.Random(7)
    work = [rng.uniform(0.0, 0.045) for _ in range(500)]  # up to 1.26 intervals at 28/s
    times = simulate(Pacer(28.0), 2000, work)
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate >= 27.5


def test_the_old_sleep_after_each_message_fell_behind() -> None:
    """What the pacing replaced: a fixed pause after each send loses every delay."""
    now, times = 0.0, []
    for _ in range(1000):
        times.append(now)
        now += 0.004 + 1.0 / 28.0  # a 4 ms send, then the pause
    assert (len(times) - 1) / (times[-1] - times[0]) < 25.5


@pytest.mark.parametrize("seed", range(5))
def test_no_one_second_window_holds_more_than_the_bound(seed: int) -> None:
    rng = random.Random(seed)
    pacer = Pacer(28.0)
    # Mostly quick sends, now and then a stall (a slow fsync, a busy event loop).
    work = [rng.choice([0.0, 0.001, 0.01, 0.02, 0.3]) for _ in range(300)]
    times = simulate(pacer, 3000, work)
    assert pacer.most_in_one_second() == 29
    assert busiest_second(times) <= 29


def test_after_an_idle_pause_there_is_no_burst() -> None:
    pacer = Pacer(28.0)
    times = simulate(pacer, 10, [0.0])
    later = times[-1] + 60.0
    assert pacer.wait(later) == 0.0
    assert pacer.wait(later) == pytest.approx(0.5 / 28.0)  # its slot, less the tolerance


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Pacer(0.0)
