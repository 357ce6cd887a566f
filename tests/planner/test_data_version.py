"""The store's data version: one token that changes with the data, not with reads.

Caches of the HTTP API and of the month plans are keyed by it, so it must change
when the data or the road network changes (also a network file replaced in place
under the same name) and stay the same across person-level reads.
"""

from __future__ import annotations

import os
from pathlib import Path

from planner.networks import record_network_file
from planner.store.audit import record_access
from planner.store.core import Store, audit


def test_writes_and_the_network_file_change_the_version_reads_do_not(
    store: Store, tmp_path: Path
) -> None:
    v0 = store.data_version()
    assert store.data_version() == v0  # stable

    record_access(
        store, subject="u", role="admin", action="read", target="residents", purpose="p", count=3
    )
    assert store.data_version() == v0  # a person-level read is not a change of data

    with store.write() as s:
        audit(s, action="update", entity="facility", detail={"id": 1})
    v1 = store.data_version()
    assert v1 != v0

    roads = tmp_path / "roads.osm"
    roads.write_text("<osm/>")
    record_network_file(store, roads)
    v2 = store.data_version()
    assert v2 not in (v0, v1)

    roads.write_text("<osm version='0.6'/>")  # replaced in place: same name, new content
    os.utime(roads, ns=(1, 1))
    v3 = store.data_version()
    assert v3 != v2

    roads.unlink()
    assert store.data_version() not in (v2, v3)
