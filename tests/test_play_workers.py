"""How many batches a playing session trains between two frames (the rest of the workers is
exercised through the server in test_play_server.py)."""

from ladder.play.workers import FASTEST, SLOWEST, Pace


def test_the_pace_trains_more_between_frames_that_come_fast_and_fewer_between_slow_ones():
    pace, now = Pace(), 0.0
    assert pace.next(now) == 1
    fast = []
    for _ in range(10):
        now += FASTEST / 2
        fast.append(pace.next(now))
    assert fast == sorted(fast) and fast[-1] > 10
    slow = []
    for _ in range(20):
        now += SLOWEST * 2
        slow.append(pace.next(now))
    assert slow == sorted(slow, reverse=True) and slow[-1] == 1


def test_between_the_two_rates_the_pace_holds():
    pace, now = Pace(), 0.0
    for _ in range(5):
        now += FASTEST / 2
        pace.next(now)
    held = pace.batches
    for _ in range(5):
        now += (FASTEST + SLOWEST) / 2
        assert pace.next(now) == held


def test_a_pause_is_not_taken_for_a_slow_frame():
    pace = Pace()
    pace.next(0.0)
    grown = pace.next(0.01)
    assert pace.next(60.0) == grown  # the first frame after a minute's pause
