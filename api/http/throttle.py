"""A per-address limit on sign-in attempts (``[auth] login_per_minute``).

The account lockout (kept in the database) stops guessing one account's password;
this stops one client from spraying passwords over many accounts, and from
keeping the server busy with Argon2 hashes. A sliding window of the last minute's
attempts per client address, in memory (one server process): the answer beyond
the limit is 429 with ``Retry-After`` in whole seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from planner.errors import TooManyRequestsError

__all__ = ["WINDOW_SECONDS", "LoginThrottle"]

#: The window the limit counts attempts in (seconds).
WINDOW_SECONDS = 60.0
#: Addresses remembered at most (the oldest idle ones are dropped first).
MAX_ADDRESSES = 10_000


class LoginThrottle:
    """Count sign-in attempts per client address over the last minute.

    Parameters
    ----------
    per_minute
        Attempts allowed per address within :data:`WINDOW_SECONDS`.
    clock
        Monotonic seconds (tests pass their own).
    """

    def __init__(self, *, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Count one attempt from ``address``.

        Raises
        ------
        TooManyRequestsError
            When the address has used up its attempts; ``retry_after`` says when
            the oldest one leaves the window (seconds, at least 1).
        """
        now = self._clock()
        with self._lock:
            times = self._seen.pop(address, None) or deque()
            while times and now - times[0] >= WINDOW_SECONDS:
                times.popleft()
            self._seen[address] = times  # re-inserted: most recent last
            if len(times) >= self.per_minute:
                wait = max(1, math.ceil(WINDOW_SECONDS - (now - times[0])))
                raise TooManyRequestsError(
                    f"登录尝试过于频繁（每分钟最多 {self.per_minute} 次）；请 {wait} 秒后再试",
                    retry_after=wait,
                )
            times.append(now)
            while len(self._seen) > MAX_ADDRESSES:
                del self._seen[next(iter(self._seen))]
