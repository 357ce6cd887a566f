"""Synthetic people of the demo district: residents, assistive devices and leads.

Every person is made up: names are drawn from common surname and given-name
characters, ID numbers are generated to be valid under GB 11643 but belong to
nobody on purpose, and addresses and phones are random. The aggregate figures
are calibrated to the published 奉化 figures in the project's domain brief
(``shared/DOMAIN.md``; see :mod:`data.demo._calibration`).

This module writes the rows of residents.csv (:func:`make_residents`) from the
persons' demographics (:mod:`data.demo._demographics`), flags and dates
(:mod:`data.demo._flags`), identities (:mod:`data.demo._identity`) and bad rows
(:mod:`data.demo._bad_rows`); devices and leads are made in
:mod:`data.demo._devices` and :mod:`data.demo._leads`. The names the generator
and the tests use are re-exported here.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from numpy.typing import NDArray

from data.demo._bad_rows import BAD_ROWS, VALID_BAD_KINDS, insert_bad_rows, write_quirks
from data.demo._calibration import (
    ALIAS_ROWS,
    CATEGORIES,
    CATEGORY_SHARES,
    DEVICE_LIFE_YEARS,
    FLAG_BLANK_SHARE,
    GRADES,
    OFFICIAL_NAME_SHARE,
    VALID_PERSONS,
)
from data.demo._demographics import Demographics, make_demographics
from data.demo._devices import make_devices
from data.demo._flags import Flags, make_flags
from data.demo._geometry import Village
from data.demo._households import assign_households
from data.demo._identity import (
    IdNumbers,
    birth_date,
    home_address,
    household_point,
    person_name,
    phone_number,
)
from data.demo._leads import make_leads
from data.demo._records import (
    DEVICES_HEADER,
    LEADS_HEADER,
    RESIDENTS_HEADER,
    RESIDENTS_TITLE,
    SYNTHETIC_NOTE,
    Roster,
)
from data.demo._sampling import add_years

__all__ = [
    "ALIAS_ROWS",
    "BAD_ROWS",
    "CATEGORIES",
    "CATEGORY_SHARES",
    "DEVICES_HEADER",
    "DEVICE_LIFE_YEARS",
    "GRADES",
    "LEADS_HEADER",
    "RESIDENTS_HEADER",
    "RESIDENTS_TITLE",
    "SYNTHETIC_NOTE",
    "VALID_BAD_KINDS",
    "VALID_PERSONS",
    "Roster",
    "add_years",
    "make_devices",
    "make_leads",
    "make_residents",
]


def make_residents(
    villages: list[Village], today: date, rng: np.random.Generator
) -> tuple[list[list[str]], Roster]:
    """Residents rows (header order, bad rows included) and the roster of valid persons."""
    d = make_demographics(villages, rng)
    f = make_flags(d, today, rng)

    # People: sex, birth, ID, name; rows in village order, shuffled within each village.
    n = len(d.village)
    ids = IdNumbers()
    male = rng.random(n) < 0.52
    births = [birth_date(today, int(d.age[i]), rng) for i in range(n)]
    numbers = [ids.new(births[i], bool(male[i]), rng) for i in range(n)]
    order = np.lexsort((rng.random(n), d.village))
    alias_rows = _alias_rows(villages, d.village, rng)
    rows: list[list[str]] = []
    for i in order.tolist():
        v = villages[d.village[i]]
        written = v.written
        if i in alias_rows:
            written = v.alias
        elif rng.random() < OFFICIAL_NAME_SHARE:
            written = v.name
        rows.append(_resident_row(i, v, written, bool(male[i]), births[i], numbers[i], d, f, rng))
    roster = Roster(
        ids=[numbers[i] for i in order.tolist()],
        village=d.village[order],
        category=d.category[order],
        grade=d.grade[order],
        age=d.age[order],
        wheelchair=f.wheelchair[order],
        bedridden=f.bedridden[order],
        gap_villages=[villages[g].code for g in d.gaps],
        taken_ids=ids.used,
    )
    assign_households(rows, [villages[k].code for k in d.village[order]])
    write_quirks(rows, rng)
    rows = insert_bad_rows(rows, villages, ids, today, rng)
    return rows, roster


def _resident_row(
    i: int,
    v: Village,
    written: str,
    male: bool,
    birth: date,
    number: str,
    d: Demographics,
    f: Flags,
    rng: np.random.Generator,
) -> list[str]:
    """The residents.csv row of valid person ``i``, living in ``v`` (written ``written``)."""
    sex = "男" if male else "女"
    lon, lat = household_point(v, rng) if f.gps[i] else ("", "")
    blank = rng.random(4) < FLAG_BLANK_SHARE
    emp = f.employment(i)
    return [
        person_name(sex, birth.year, rng),
        sex,
        number,
        birth.isoformat(),
        d.cat[i],
        GRADES[d.grade[i] - 1],
        v.town,
        written,
        home_address(v, written, rng),
        "",  # 户号: assign_households
        phone_number(rng),
        _flag(d.living[i]),
        _flag(d.care[i]),
        "低保" if d.dibao[i] else "低边" if d.dibian[i] else "",
        "" if blank[0] else _flag(d.alone[i]),
        "" if blank[1] else _flag(d.elder_carer[i]),
        "" if blank[2] else _flag(f.bedridden[i]),
        "" if blank[3] else _flag(f.wheelchair[i]),
        _flag(f.supervised[i]),
        _flag(f.stroke[i]),
        emp,
        str(f.retro_year[i]) if f.retro_year[i] else "",
        _fmt(f.reassess[i]),
        _fmt(f.visits[i]),
        lon,
        lat,
    ]


def _fmt(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def _flag(value: bool) -> str:
    return "是" if value else "否"


def _alias_rows(
    villages: list[Village], village: NDArray[np.int64], rng: np.random.Generator
) -> set[int]:
    """Exactly ALIAS_ROWS persons of the alias villages, who write the alias name."""
    with_alias = [k for k, v in enumerate(villages) if v.alias]
    pool = np.flatnonzero(np.isin(village, with_alias))
    return set(np.sort(rng.choice(pool, size=ALIAS_ROWS, replace=False)).tolist())
