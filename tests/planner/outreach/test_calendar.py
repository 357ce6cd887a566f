"""The outreach calendar with known answers: hand-built need tables and a 10-village store.

- no-repeat counted in calendar months (visited in 2026-03 → back from 2027-03);
- a second village only within ``pair_max_drive_min`` of the service point;
- months per town in proportion to need, with ``town_min_months``;
- a rule set that cannot hold names the setting to relax;
- a 10-village district with the defaults, before and after a recorded visit,
  and a 1,000-village district.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from api.cli import main
from planner.errors import CalendarError
from planner.outreach.calendar import (
    PairDrive,
    first_month,
    month_window,
    months_between,
    plan_year,
    town_months,
)
from planner.outreach.needs import SCORE_PARTS
from planner.services.outreach import YearOptions, month_calendar
from planner.settings import Config, load_config
from tests.factories import make_id

Row = tuple[str, str, float, int, date | None]  # code, town code, score, home visits, last visit


def needs_frame(rows: Sequence[Row]) -> pd.DataFrame:
    """A need table as :func:`planner.outreach.needs.village_needs` returns it."""
    return pd.DataFrame(
        [
            {
                "code": code,
                "village_name": f"村{code}",
                "town_code": town,
                "town_name": f"镇{town}",
                **dict.fromkeys(SCORE_PARTS, 0.0),
                "home_visits": visits,
                "last_outreach": last,
                "score": score,
            }
            for code, town, score, visits, last in rows
        ]
    ).set_index("code")


def with_outreach(config: Config, **update: Any) -> Config:
    return config.model_copy(update={"outreach": config.outreach.model_copy(update=update)})


def table_drive(minutes: Callable[[str, str], float]) -> PairDrive:
    """Drive minutes given by a function of (service point village, village)."""
    return PairDrive(
        minutes=lambda host, codes: np.array([minutes(host, c) for c in codes], float),
        basis="network",
    )


def by_month(cal: Any) -> dict[str, list[str]]:
    return {m["month"]: [v["code"] for v in m["villages"]] for m in cal.to_json()["months"]}


# ----------------------------------------------------------------------- month arithmetic


def test_months_are_counted_as_calendar_months() -> None:
    assert months_between(date(2026, 3, 31), (2027, 3)) == 12
    assert months_between(date(2026, 12, 1), date(2027, 1, 31)) == 1
    assert months_between((2027, 5), (2027, 5)) == 0
    window = month_window((2026, 11))
    assert window[:3] == [(2026, 11), (2026, 12), (2027, 1)] and window[-1] == (2027, 10)
    assert len(window) == 12
    # the default calendar starts the month after today's, also on a month's first day
    assert first_month(date(2026, 12, 1)) == (2027, 1)
    assert first_month(date(2026, 1, 31)) == (2026, 2)


@pytest.mark.parametrize(
    ("month", "start", "counted_from"),
    [
        ((2027, 1), (2027, 1), date(2027, 1, 1)),  # next month: the calendar `outreach year` shows
        ((2027, 12), (2027, 1), date(2027, 1, 1)),  # its last month, across the year boundary
        ((2026, 12), (2026, 12), date(2026, 12, 1)),  # this month: the calendar from it
        ((2028, 1), (2028, 1), date(2028, 1, 1)),  # beyond the 12 months
    ],
)
def test_a_month_plan_reads_the_calendar_shown_today(
    month: tuple[int, int], start: tuple[int, int], counted_from: date
) -> None:
    options = month_calendar(*month, today=date(2026, 12, 1))
    assert (options.first(), options.today) == (start, counted_from)
    default = YearOptions(today=date(2026, 12, 1))
    assert default.first() == (2027, 1)


@pytest.mark.parametrize(
    ("last", "no_repeat", "month"),
    [
        (date(2026, 3, 31), 12, "2027-03"),  # visited in 2026-03: back from 2027-03
        (date(2026, 3, 1), 12, "2027-03"),  # the day of the month does not matter
        (date(2026, 3, 15), 13, "2027-04"),
        (date(2026, 12, 20), 1, "2027-01"),  # the month after
        (date(2025, 1, 5), 12, "2027-01"),  # long ago: the first month, highest need first
    ],
)
def test_no_repeat_counts_months_between_visits(
    config: Config, last: date, no_repeat: int, month: str
) -> None:
    # A has the higher need: it takes the first month its no-repeat window allows
    needs = needs_frame([("A", "T1", 20.0, 1, last), ("B", "T1", 10.0, 1, None)])
    cal = plan_year(needs, config=with_outreach(config, no_repeat_months=no_repeat), year=2027)
    months = by_month(cal)
    assert months[month] == ["A"]
    assert months["2027-01" if month != "2027-01" else "2027-02"] == ["B"]
    assert sum(len(v) for v in months.values()) == 2
    empty = [m for m in cal.schedule if not m.villages]
    assert len(empty) == 10 and all("no_repeat_months" in (m.note or "") for m in empty)


def test_a_village_visited_this_year_comes_back_after_twelve_months(config: Config) -> None:
    """The calendar after a recorded visit still plans (the old day count barred the month)."""
    rows: list[Row] = [(f"V{i:02d}", f"T{i % 2}", 10.0 + i, 2, None) for i in range(10)]
    first = plan_year(needs_frame(rows), config=config, start=(2027, 1))
    assert sum(len(m.villages) for m in first.schedule) == 10
    top = first.schedule[0].villages[0].code
    assert top == "V09"  # the highest need, in the first month
    # visited in 2027-06: the calendar from 2028-01 plans, V09 from 2028-06 on
    visited = [(c, t, s, h, date(2027, 6, 8) if c == top else None) for c, t, s, h, _ in rows]
    nxt = plan_year(needs_frame(visited), config=config, start=(2028, 1))
    assert nxt.villages_in("2028-01") == ["V08"]
    assert nxt.villages_in("2028-06") == ["V09"]
    assert sum(len(m.villages) for m in nxt.schedule) == 10


# ----------------------------------------------------------------------- pairs


def _hosts_and_extras(far_score: float = 6.0) -> pd.DataFrame:
    """12 first villages H00–H11 (one town), F (45 min from every service point),
    N (20 min from every one) and O (another town, 5 min away)."""
    rows: list[Row] = [(f"H{i:02d}", "T1", 100.0 - i, 1, None) for i in range(12)]
    rows += [("F", "T1", far_score, 1, None), ("N", "T1", 5.0, 1, None)]
    rows += [("O", "T2", 7.0, 1, None)]
    return needs_frame(rows)


DRIVE = {"F": 45.0, "N": 20.0, "O": 5.0}


def test_a_pair_beyond_the_drive_limit_is_not_formed(config: Config) -> None:
    needs = _hosts_and_extras()
    drive = table_drive(lambda host, code: DRIVE.get(code, 10.0))
    cal = plan_year(
        needs, config=with_outreach(config, pair_max_drive_min=30.0), year=2027, drive=drive
    )
    months = by_month(cal)
    # T2 (need 7 of 1,152) gets no month: 12 × 7 / 1,152 = 0.07
    assert [m[0] for m in months.values()] == [f"H{i:02d}" for i in range(12)]
    # F has more need than N but lies 45 minutes away: not paired; O is in another town
    assert months["2027-01"] == ["H00", "N"]
    assert all(len(m) == 1 for k, m in months.items() if k != "2027-01")
    second = cal.to_json()["months"][0]["villages"][1]
    assert (second["code"], second["drive_min"]) == ("N", 20.0)
    assert cal.to_json()["months"][0]["villages"][0]["drive_min"] is None
    assert cal.pairing["basis"] == "network" and cal.pairing["max_drive_min"] == 30.0

    # at 45 minutes F joins the first month, N the second
    cal = plan_year(
        needs, config=with_outreach(config, pair_max_drive_min=45.0), year=2027, drive=drive
    )
    months = by_month(cal)
    assert months["2027-01"] == ["H00", "F"] and months["2027-02"] == ["H01", "N"]

    # across towns (pair_same_town = false) O, 5 minutes away, comes before N
    cfg = with_outreach(config, pair_max_drive_min=30.0, pair_same_town=False)
    months = by_month(plan_year(needs, config=cfg, year=2027, drive=drive))
    assert months["2027-01"] == ["H00", "O"] and months["2027-02"] == ["H01", "N"]


def test_without_drive_times_no_month_has_a_second_village(config: Config) -> None:
    cfg = with_outreach(config, min_villages_per_month=2)
    cal = plan_year(_hosts_and_extras(), config=cfg, year=2027)
    assert all(len(m.villages) == 1 for m in cal.schedule)
    assert cal.pairing["basis"] == "none" and "coverplan network build" in cal.pairing["note"]
    assert all("coverplan network build" in (m.note or "") for m in cal.schedule)
    # with drive times but none near enough, the note names the setting to raise
    drive = table_drive(lambda host, code: 90.0)
    cal = plan_year(_hosts_and_extras(), config=cfg, year=2027, drive=drive)
    assert all(len(m.villages) == 1 for m in cal.schedule)
    assert "pair_max_drive_min" in (cal.schedule[0].note or "")


# ----------------------------------------------------------------------- months per town


def test_town_months_by_largest_remainders() -> None:
    need = {"big": 90.0, "mid": 27.0, "tiny": 3.0}
    cap = dict.fromkeys(need, 99)
    # 12 × (90, 27, 3) / 120 = 9, 2.7, 0.3: floors 9 + 2, the last month to mid (0.7)
    assert town_months(need, months=12, minimum={}, cap=cap) == {"big": 9, "mid": 3, "tiny": 0}
    # a minimum of 1: tiny gets its month, taken from mid's remainder
    low = dict.fromkeys(need, 1)
    assert town_months(need, months=12, minimum=low, cap=cap) == {"big": 9, "mid": 2, "tiny": 1}
    # big has only 5 villages to visit: 5; the other 7 months go by remainders:
    # mid 2 + 3, tiny 0 + 2 (mid 0.7, tiny 0.3, mid -0.3, tiny -0.7, mid -1.3)
    capped = {**cap, "big": 5}
    assert town_months(need, months=12, minimum={}, cap=capped) == {"big": 5, "mid": 5, "tiny": 2}


def _towns_district() -> pd.DataFrame:
    """10 towns of need 100 (5 villages × 20), a big one of 200 (10 × 20), a tiny one of 10."""
    rows: list[Row] = []
    for t in range(10):
        rows += [(f"T{t:02d}V{k}", f"T{t:02d}", 20.0, 1, None) for k in range(5)]
    rows += [(f"BIGV{k:02d}", "BIG", 20.0, 1, None) for k in range(10)]
    rows += [("TINYV0", "TINY", 10.0, 1, None)]
    return needs_frame(rows)


def test_months_follow_the_towns_need(config: Config) -> None:
    # 12 × need / 1,210: 0.99 for each of the 10 towns, 1.98 for the big one, 0.10 for the tiny
    cal = plan_year(_towns_district(), config=config, year=2027)
    towns = {t["town_code"]: t for t in cal.to_json()["towns"]}
    assert towns["BIG"]["months"] == 2 and towns["TINY"]["months"] == 0
    assert all(towns[f"T{t:02d}"]["months"] == 1 for t in range(10))
    assert towns["BIG"]["share"] == pytest.approx(1.98, abs=0.01)
    host_towns = [
        cal.months.set_index("village_code").at[v, "town_code"] for v in cal.villages_in(1)
    ]
    assert host_towns == ["BIG"]  # equal scores: the first month by code order, BIGV00
    # a minimum of one month per town: every town once, the big one too
    for cfg in (with_outreach(config, town_min_months=1), with_outreach(config, every_town=True)):
        towns = {
            t["town_code"]: t
            for t in plan_year(_towns_district(), config=cfg, year=2027).to_json()["towns"]
        }
        assert {t: v["months"] for t, v in towns.items()} == dict.fromkeys(towns, 1)
        assert all(v["minimum"] == 1 for v in towns.values())


# ----------------------------------------------------------------------- rules that cannot hold


def test_rules_that_cannot_hold_name_the_setting(config: Config) -> None:
    thirteen = needs_frame([(f"V{t}", f"T{t:02d}", 1.0, 0, None) for t in range(13)])
    with pytest.raises(CalendarError, match=r"13 个镇街.*请调小 \[outreach\] town_min_months"):
        plan_year(thirteen, config=with_outreach(config, town_min_months=1), year=2027)
    with pytest.raises(CalendarError, match="去掉 every_town = true"):
        plan_year(thirteen, config=with_outreach(config, every_town=True), year=2027)
    # the only village of T2 was visited last month, and may come back after 13: no
    # month for it in the 12
    visited = needs_frame(
        [
            ("A", "T1", 5.0, 0, None),
            ("B", "T1", 5.0, 0, None),
            ("C", "T2", 5.0, 0, date(2027, 2, 3)),
        ]
    )
    with pytest.raises(CalendarError) as err:
        plan_year(
            visited,
            config=with_outreach(config, town_min_months=1, no_repeat_months=13),
            start=(2027, 3),
        )
    assert "镇T2（1 个村社，可排 0 个）" in str(err.value)
    assert "[outreach] no_repeat_months" in str(err.value)
    assert "[outreach] town_min_months" in str(err.value)
    # T2's two villages were visited in 2026-12: both may go from 2027-12 only, one month
    # for two; town_min_months = 2 cannot hold
    late = needs_frame(
        [
            ("A", "T1", 5.0, 0, None),
            ("B", "T1", 5.0, 0, None),
            ("C", "T2", 5.0, 0, date(2026, 12, 3)),
            ("D", "T2", 5.0, 0, date(2026, 12, 9)),
        ]
    )
    with pytest.raises(
        CalendarError, match=r"镇T2的村社最近去过.*no_repeat_months.*town_min_months"
    ):
        plan_year(late, config=with_outreach(config, town_min_months=2), year=2027)
    with pytest.raises(CalendarError, match=r"min_villages_per_month.*villages_per_month"):
        plan_year(
            late,
            config=with_outreach(config, min_villages_per_month=2, villages_per_month=1),
            year=2027,
        )
    # with one month each it plans: T2's best (C, by code) waits until 2027-12
    months = by_month(plan_year(late, config=with_outreach(config, town_min_months=1), year=2027))
    assert months["2027-12"] == ["C"] and months["2027-01"] == ["A"]
    assert sum(len(v) for v in months.values()) == 3  # D may not go in the same month as C


# ----------------------------------------------------------------------- 1,000 villages


def test_a_thousand_village_district(config: Config) -> None:
    rng = np.random.default_rng(7)
    n = 1000
    towns = [f"T{t:02d}" for t in rng.integers(0, 20, n)]
    xy = {f"V{i:04d}": rng.uniform(0, 50_000, 2) for i in range(n)}  # metres
    last = [date(2026, int(m), 15) if rng.random() < 0.3 else None for m in rng.integers(1, 13, n)]
    rows: list[Row] = [
        (f"V{i:04d}", towns[i], float(rng.integers(1, 40)), int(rng.integers(0, 20)), last[i])
        for i in range(n)
    ]
    kmh = 30.0  # straight line at 30 km/h stands in for the network here
    drive = table_drive(lambda a, b: float(np.hypot(*(xy[a] - xy[b]))) / 1000 / kmh * 60)
    cal = plan_year(needs_frame(rows), config=config, start=(2027, 1), drive=drive)
    months = cal.to_json()["months"]
    assert [len(m["villages"]) for m in months] == [2] * 12
    codes = [v["code"] for m in months for v in m["villages"]]
    assert len(set(codes)) == 24  # each at most once in 12 months
    limit = config.outreach.pair_max_drive_min
    for m in months:
        first, second = m["villages"]
        assert first["drive_min"] is None and 0 <= second["drive_min"] <= limit
        assert first["town_name"] == second["town_name"]  # pair_same_town
    # the months per town are the shares by need of the villages that may go
    got = {t["town_code"]: t["months"] for t in cal.to_json()["towns"]}
    frame = needs_frame(rows)
    free = frame[[v is None or months_between(v, (2027, 12)) >= 12 for v in frame["last_outreach"]]]
    expected = town_months(
        free.groupby("town_code")["score"].sum().to_dict(),
        months=12,
        minimum={},
        cap=free.groupby("town_code").size().to_dict(),
    )
    assert got == {t: expected.get(t, 0) for t in got}
    # the first month has the district's highest need among the villages free in 2027-01
    ok = frame[[v is None or months_between(v, (2027, 1)) >= 12 for v in frame["last_outreach"]]]
    top = ok[ok["town_code"] == cal.months.iloc[0]["town_code"]]["score"].max()
    assert months[0]["villages"][0]["score"] == top


# ----------------------------------------------------------------------- a 10-village store

CODE, NAME = "330281", "余姚市"
TOWNS = {"330281001": "阳明街道", "330281101": "陆埠镇"}
NAMES = [
    "东门社区",
    "西门社区",
    "南门社区",
    "北门社区",
    "江南村",
    "陆埠村",
    "裘岙村",
    "洪山村",
    "孙岙村",
    "南庙村",
]


def _run(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", db, *args])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def test_a_ten_village_district_plans_before_and_after_a_visit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVERPLAN_DB_URL", "sqlite:///unused.db")
    db = f"sqlite:///{tmp_path / 'ten.db'}"
    villages = {
        f"{town}{k + 1:03d}": (town, name)
        for k, name in enumerate(NAMES)
        for town in [list(TOWNS)[k // 5]]
    }
    units = tmp_path / "u.csv"
    units.write_text(
        "code,name,level,parent_code\n"
        f"{CODE},{NAME},county,\n"
        + "".join(f"{c},{n},town,\n" for c, n in TOWNS.items())
        + "".join(f"{c},{n},village,{t}\n" for c, (t, n) in villages.items()),
        encoding="utf-8",
    )
    assert _run(capsys, db, "init", "--district", CODE, "--units", str(units))[0] == 0
    # one resident under medication supervision in 东门社区: the highest need
    reg = tmp_path / "r.csv"
    idn = make_id(date(1960, 1, 1), 1, region=CODE)
    reg.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,精神病服药监护\n"
        f"甲,{idn},精神,二级,阳明街道,东门社区,是\n",
        encoding="utf-8",
    )
    assert _run(capsys, db, "import", "residents", str(reg), "--json")[0] == 0

    code, out, err = _run(capsys, db, "outreach", "year", "2027", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["year"], doc["from"], doc["to"]) == (2027, "2027-01", "2027-12")
    per_month = [len(m["villages"]) for m in doc["months"]]
    assert per_month == [1] * 10 + [0] * 2  # 10 villages: one a month, two months empty
    assert doc["months"][0]["villages"][0]["name"] == "东门社区"
    assert doc["pairing"]["basis"] == "none"  # no road network: no second village
    assert sum(t["months"] for t in doc["towns"]) == 10

    # by default the 12 months from next month; --from chooses the first month
    code, out, err = _run(capsys, db, "outreach", "year", "--json")
    assert code == 0, err
    y, m = first_month(date.today())
    assert json.loads(out)["from"] == f"{y}-{m:02d}"
    code, out, err = _run(capsys, db, "outreach", "year", "--from", "2027-11", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["year"], doc["from"], doc["to"]) == (2027, "2027-11", "2028-10")
    assert [m["month"] for m in doc["months"]][:3] == ["2027-11", "2027-12", "2028-01"]

    # the team visits 东门社区 in 2026-11: the next calendars still plan, without it until 2027-11
    code, _, err = _run(
        capsys, db, "visits", "record", "--resident", "1", "--date", "2026-11-10",
        "--outcome", "done", "--team", "A",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = _run(capsys, db, "outreach", "year", "2027", "--json")
    assert code == 0, err
    months = {m["month"]: [v["name"] for v in m["villages"]] for m in json.loads(out)["months"]}
    assert sum(len(v) for v in months.values()) == 10
    assert [k for k, v in months.items() if "东门社区" in v] == ["2027-11"]
    code, out, err = _run(capsys, db, "outreach", "year", "2027")
    assert code == 0 and "2027-01 至 2027-12 康复入村社日历" in out and "各镇街入村月数" in out

    # mistakes: a year and --from together, a bad month, rules that cannot hold
    code, _, err = _run(capsys, db, "outreach", "year", "2027", "--from", "2027-03")
    assert code == 2 and "--from" in err
    code, _, err = _run(capsys, db, "outreach", "year", "--from", "2027-13")
    assert code == 2 and "YYYY-MM" in err
    toml = tmp_path / "c.toml"
    toml.write_text("[outreach]\ntown_min_months = 7\n", encoding="utf-8")
    monkeypatch.setenv("COVERPLAN_CONFIG", str(toml))
    from planner.settings import reset_settings

    reset_settings()
    try:
        code, _, err = _run(capsys, db, "outreach", "year", "2027")
        assert code == 2 and "[outreach] town_min_months" in err
    finally:
        monkeypatch.delenv("COVERPLAN_CONFIG")
        reset_settings()


def test_the_default_config_reads() -> None:
    oc = load_config().outreach
    assert (oc.town_min_months, oc.pair_max_drive_min, oc.every_town) == (0, 30.0, False)
