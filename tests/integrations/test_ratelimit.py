from integrations.ratelimit import RateLimiter


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_calls_within_the_burst_do_not_wait():
    clock = FakeClock()
    limiter = RateLimiter(10, burst=3, clock=clock, sleep=clock.sleep)

    assert [limiter.wait() for _ in range(3)] == [0.0, 0.0, 0.0]


def test_beyond_the_burst_calls_are_spaced_at_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(4, burst=1, clock=clock, sleep=clock.sleep)

    for _ in range(5):
        limiter.wait()

    assert clock.slept == [0.25, 0.25, 0.25, 0.25]


def test_idle_time_refills_up_to_the_burst_only():
    clock = FakeClock()
    limiter = RateLimiter(1, burst=2, clock=clock, sleep=clock.sleep)
    limiter.wait()
    limiter.wait()
    clock.now += 60  # a long pause refills two tokens, not sixty

    assert [limiter.wait() for _ in range(3)] == [0.0, 0.0, 1.0]
