"""Small factories shared by tests (no store imports, so they load fast)."""

from __future__ import annotations

from datetime import date

from planner.ingest.idnumber import check_char


def make_id(birth: date, seq: int, *, region: str = "330213") -> str:
    """A valid 18-character ID number (seq odd = male)."""
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)
