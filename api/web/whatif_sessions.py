"""The what-if sessions of the web UI, kept in the app's memory (``app.state.whatifs``).

One :class:`~planner.services.whatif.WhatIf` per signed-in browser, facility type
and starting scenario; opening the first of a type reads the store and computes
the OD pairs (seconds) into a base kept untouched, every browser works on a
cheap :meth:`WhatIf.copy` of it, and every click only applies the change
(milliseconds). The
registry is bounded (the least recently used session is dropped first) and a
session opened on an older :meth:`Store.data_version` is dropped and opened
again. Each session has an opaque random id (the map frame
``/maps/whatif.html?session=ID`` names it; never the browser's cookie token) and
a lock: two clicks of the same browser run one after the other.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from planner.services.whatif import WhatIf

__all__ = ["MAX_SESSIONS", "WhatIfEntry", "WhatIfRegistry"]

#: What-if sessions kept in memory per app (each holds one type's OD pairs: a few MB
#: on the demo); the least recently used is dropped first.
MAX_SESSIONS = 32


@dataclass
class WhatIfEntry:
    """One browser's what-if: its session, the data version it was opened on, its
    public id and who owns it."""

    id: str
    subject: str
    version: str
    whatif: WhatIf
    lock: threading.Lock = field(default_factory=threading.Lock)


Key = tuple[str, str, str]


def _owner(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class WhatIfRegistry:
    """What-if sessions by (browser session, type, scenario); thread-safe."""

    def __init__(self, *, max_sessions: int = MAX_SESSIONS) -> None:
        self._entries: OrderedDict[Key, WhatIfEntry] = OrderedDict()
        self._bases: OrderedDict[tuple[str, str], tuple[str, WhatIf]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_sessions

    def get(
        self,
        *,
        token: str,
        subject: str,
        type_key: str,
        scenario: str | None,
        version: str,
        open_: Callable[[], WhatIf],
    ) -> WhatIfEntry:
        """The session of this browser for ``type_key`` (and ``scenario``), opened by
        ``open_`` when there is none or it was opened on another data version.
        ``token`` identifies the browser (its session cookie; kept only hashed)."""
        key = (_owner(token), type_key, scenario or "")
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version == version:
                self._entries.move_to_end(key)
                return entry
            self._entries.pop(key, None)
        whatif = self._base(type_key, scenario or "", version, open_).copy()
        entry = WhatIfEntry(
            id=secrets.token_hex(16), subject=subject, version=version, whatif=whatif
        )
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return entry

    def _base(
        self, type_key: str, scenario: str, version: str, open_: Callable[[], WhatIf]
    ) -> WhatIf:
        """The untouched session of a type and scenario on ``version`` (opened once)."""
        key = (type_key, scenario)
        with self._lock:
            found = self._bases.get(key)
        if found is not None and found[0] == version:
            return found[1]
        base = open_()  # seconds: outside the registry's lock
        with self._lock:
            self._bases[key] = (version, base)
            self._bases.move_to_end(key)
            while len(self._bases) > self._max:
                self._bases.popitem(last=False)
        return base

    def peek(self, *, token: str, type_key: str, scenario: str | None) -> WhatIfEntry | None:
        """The session if open (whatever its data version), else None."""
        with self._lock:
            return self._entries.get((_owner(token), type_key, scenario or ""))

    def by_id(self, session_id: str) -> WhatIfEntry | None:
        """The session with public id ``session_id`` (for the map frame; the caller
        checks that the entry's ``subject`` is the signed-in user)."""
        with self._lock:
            for entry in self._entries.values():
                if secrets.compare_digest(entry.id, session_id):
                    return entry
        return None

    def drop_stale(self, version: str) -> int:
        """Drop every session opened on another data version; how many were dropped."""
        with self._lock:
            stale = [k for k, e in self._entries.items() if e.version != version]
            for k in stale:
                del self._entries[k]
            for b in [k for k, (v, _) in self._bases.items() if v != version]:
                del self._bases[b]
        return len(stale)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
