"""How many batches a playing session trains between two frames (the rest of the workers is
exercised through the server in test_play_server.py)."""

from ladder.play.workers import MAX_GAP, MIN_GAP, Pace


def test_the_pace_trains_more_between_frames_that_come_fast_and_fewer_between_slow_ones():
    pace, now = Pace(), 0.0
    assert pace.next(now) == 1
    fast = []
    for _ in range(10):
        now += MIN_GAP / 2
        fast.append(pace.next(now))
    assert fast == sorted(fast) and fast[-1] > 10
    slow = []
    for _ in range(20):
        now += MAX_GAP * 2
        slow.append(pace.next(now))
    assert slow == sorted(slow, reverse=True) and slow[-1] == 1


def test_between_the_two_rates_the_pace_holds():
    pace, now = Pace(), 0.0
    for _ in range(5):
        now += MIN_GAP / 2
        pace.next(now)
    held = pace.batches
    for _ in range(5):
        now += (MIN_GAP + MAX_GAP) / 2
        assert pace.next(now) == held


def test_a_pause_is_not_taken_for_a_slow_frame():
    pace = Pace()
    pace.next(0.0)
    grown = pace.next(0.01)
    assert pace.next(60.0) == grown  # the first frame after a minute's pause


def test_a_server_limit_below_the_aim_moves_the_aim_rather_than_starving_the_session():
    from ladder.play.settings import Limits

    pace, now = Pace(Limits(max_steps_per_second=10)), 0.0
    pace.next(now)
    for _ in range(10):
        now += 0.1  # as fast as that server asks for frames
        pace.next(now)
    assert pace.batches > 1
