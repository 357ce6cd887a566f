"""The deliberately bad rows of residents.csv (see ``BAD_ROWS``)."""

from __future__ import annotations

from datetime import date

import numpy as np

from data.demo._geometry import Village
from data.demo._identity import IdNumbers, person_name
from data.demo._records import RESIDENTS_HEADER
from planner.ingest.idnumber import check_char

# Deliberately bad rows of residents.csv, by kind. All but the two "valid_*" kinds
# are extra rows that an importer must reject (or, for an unknown village, flag);
# legacy_15_digit and lowercase_x are rows of valid persons whose ID is written
# the old way, which an importer must accept and normalise.
BAD_ROWS: dict[str, int] = {
    "bad_check_digit": 5,
    "impossible_birth_date": 4,
    "blank_id": 3,
    "unknown_village": 4,
    "unknown_category": 3,
    "unknown_grade": 3,
    "legacy_15_digit": 2,
    "lowercase_x": 2,
}
VALID_BAD_KINDS = ("legacy_15_digit", "lowercase_x")
UNKNOWN_CATEGORY = "其他"
UNKNOWN_GRADE = "五级"
UNKNOWN_VILLAGE_STEMS = ("跃进", "红星", "解放", "幸福", "向阳", "胜利", "光辉", "丰收")


def write_quirks(rows: list[list[str]], rng: np.random.Generator) -> None:
    """Write a few valid IDs the old way: 15 digits, lowercase ``x``."""
    col = RESIDENTS_HEADER.index("公民身份号码")
    legacy = [k for k, r in enumerate(rows) if r[col][6:8] == "19" and r[col][-1] != "X"]
    for k in np.sort(rng.choice(legacy, size=BAD_ROWS["legacy_15_digit"], replace=False)).tolist():
        number = rows[k][col]
        rows[k][col] = number[:6] + number[8:17]
    ends_x = [k for k, r in enumerate(rows) if r[col].endswith("X")]
    for k in np.sort(rng.choice(ends_x, size=BAD_ROWS["lowercase_x"], replace=False)).tolist():
        rows[k][col] = rows[k][col][:-1] + "x"


def insert_bad_rows(
    rows: list[list[str]],
    villages: list[Village],
    ids: IdNumbers,
    today: date,
    rng: np.random.Generator,
) -> list[list[str]]:
    """Insert the rejected kinds of BAD_ROWS at spread-out random positions."""
    col = {name: k for k, name in enumerate(RESIDENTS_HEADER)}
    aliases = [v.alias for v in villages if v.alias]
    sources = [k for k, r in enumerate(rows) if r[col["村（社区）"]] not in aliases]
    bad: list[list[str]] = []
    for kind, count in BAD_ROWS.items():
        if kind in VALID_BAD_KINDS:
            continue
        for _ in range(count):
            row = list(rows[int(rng.choice(sources))])
            birth = date.fromisoformat(row[col["出生日期"]])
            male = row[col["性别"]] == "男"
            row[col["姓名"]] = person_name(row[col["性别"]], birth.year, rng)
            number = ids.new(birth, male, rng)
            if kind == "bad_check_digit":
                wrong = [c for c in "0123456789X" if c != number[-1]]
                number = number[:-1] + wrong[int(rng.integers(len(wrong)))]
            elif kind == "impossible_birth_date":
                first17 = number[:10] + "13" + number[12:17]
                number = first17 + check_char(first17)
            elif kind == "blank_id":
                number = ""
            elif kind == "unknown_village":
                town = row[col["乡镇（街道）"]]
                fake = _unknown_village(town, villages, rng)
                old = row[col["村（社区）"]]
                row[col["村（社区）"]] = fake
                row[col["现住址"]] = row[col["现住址"]].replace(f"{town}{old}", f"{town}{fake}", 1)
            elif kind == "unknown_category":
                row[col["残疾类别"]] = UNKNOWN_CATEGORY
            elif kind == "unknown_grade":
                row[col["残疾等级"]] = UNKNOWN_GRADE
            row[col["公民身份号码"]] = number
            row[col["户号"]] = ""  # not the family of the row it was copied from
            bad.append(row)
    bad = [bad[k] for k in rng.permutation(len(bad)).tolist()]
    margin = len(rows) // 50
    spots = np.sort(rng.choice(np.arange(margin, len(rows) - margin), size=len(bad), replace=False))
    out: list[list[str]] = []
    prev = 0
    for spot, row in zip(spots.tolist(), bad, strict=True):
        out.extend(rows[prev:spot])
        out.append(row)
        prev = spot
    out.extend(rows[prev:])
    return out


def _unknown_village(town: str, villages: list[Village], rng: np.random.Generator) -> str:
    """A village name that shares no character with any name or alias in ``town``."""
    chars = "".join(v.name + v.alias for v in villages if v.town == town)
    stems = [s for s in UNKNOWN_VILLAGE_STEMS if not any(c in chars for c in s)]
    return stems[int(rng.integers(len(stems)))] + "村"
