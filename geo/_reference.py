"""The reference districts packaged under ``data/reference`` (``districts.toml``).

Each entry names a district's admin-units CSV, its former codes, aliases and
parents, and the Disabled Persons' Federation office.
:func:`geo.gazetteer.load_reference` turns an entry into a
:class:`~geo.gazetteer.Gazetteer`; :mod:`geo.gazetteer` re-exports the public
names defined here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["PACKAGE", "Place", "ReferenceDistrict", "reference_district", "reference_districts"]

PACKAGE = "data.reference"
_DISTRICTS_FILE = "districts.toml"


@dataclass(frozen=True)
class Place:
    """A named point, WGS-84 lon/lat in degrees (e.g. the federation's office)."""

    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class ReferenceDistrict:
    """A district packaged under ``data/reference`` (listed in ``districts.toml``).

    Attributes
    ----------
    code, name
        6-digit district code and current name.
    units
        File name of its admin-units CSV (``code,name,level,parent_code,parent_name``).
    former_codes, aliases, parents
        As in :class:`Gazetteer` (``former_codes``, ``district_aliases``, ``parents``).
    office
        The Disabled Persons' Federation office (start and end of outreach
        routes), or None.
    """

    code: str
    name: str
    units: str
    former_codes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    office: Place | None = None


@lru_cache(maxsize=1)
def reference_districts() -> dict[str, ReferenceDistrict]:
    """The packaged reference districts by code (``data/reference/districts.toml``)."""
    text = resources.files(PACKAGE).joinpath(_DISTRICTS_FILE).read_text(encoding="utf-8")
    out: dict[str, ReferenceDistrict] = {}
    for code, entry in tomllib.loads(text).items():
        office = entry.get("office")
        out[code] = ReferenceDistrict(
            code=code,
            name=entry["name"],
            units=entry["units"],
            former_codes=tuple(entry.get("former_codes", ())),
            aliases=tuple(entry.get("aliases", ())),
            parents=tuple(entry.get("parents", ())),
            office=(
                Place(name=office["name"], lon=float(office["lon"]), lat=float(office["lat"]))
                if office
                else None
            ),
        )
    return out


def reference_district(code: str) -> ReferenceDistrict | None:
    """The packaged district with this 6-digit code, or None."""
    return reference_districts().get(code)
