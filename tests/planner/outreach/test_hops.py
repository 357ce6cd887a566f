"""Honest travel between homes (planner.outreach.hops): hop minutes by hand, the
travel matrix by hand, a toy month whose every move is hand-computed, and a
corrected point recorded on a route sheet, used by the next plan and kept
through a register re-import that carries no point.

The toy month runs on the toy district's road (tests/toy_district.py): the
office and 武岭社区's committee point both snap to node n2, a household with its
own point stands at n3; n2 → n3 drives 966.3 m at 30 km/h = 115.96 s (116 s).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Polygon
from sqlalchemy import select

from api.cli import main
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from planner.ingest.visits import parse_point
from planner.outreach.hops import (
    hop_minutes,
    place_households,
    travel_seconds,
    village_area_m2,
)
from planner.outreach.plan import MonthPlan
from planner.reports.route_sheets import write_route_sheets
from planner.services.outreach import MonthOptions, outreach_month
from planner.settings import Config, OutreachHops, load_config, reset_settings
from planner.store import schema as t
from planner.store.core import Store
from tests import toy_district as toy
from tests.actions import import_file, import_visits
from tests.factories import make_id
from tests.planner.outreach.test_sheets import sample_plan

GPX = "{http://www.topografix.com/GPX/1/1}"

# --- hop minutes by hand ----------------------------------------------------------------


def test_hop_minutes_by_hand() -> None:
    hops = OutreachHops()  # drive 20 km/h, detour 1.3, min 3, fixed 5
    disc = math.pi * 1000.0**2  # a disc of radius 1,000 m
    # mean distance of two random points: 128 / (45 π) × 1000 = 905.415 m; × 1.3 = 1,177.04 m
    # drive: 1,177.04 m / (20,000 m / 60 min) = 3.531 min
    assert hop_minutes(disc, hops=hops) == pytest.approx(3.5311, abs=1e-4)
    walk = hops.model_copy(update={"mode": "walk"})  # 4 km/h: 66.667 m a minute
    assert hop_minutes(disc, hops=walk) == pytest.approx(17.6556, abs=1e-4)
    assert hop_minutes(10_000.0, hops=hops) == 3.0  # 56 m: the minimum holds
    assert hop_minutes(None, hops=hops) == 5.0  # no boundary: the fixed minutes
    fixed = hops.model_copy(update={"by": "fixed", "minutes": 2.0})
    assert hop_minutes(disc, hops=fixed) == 3.0  # fixed, but never under the minimum


def test_village_area_is_geodesic() -> None:
    # 0.01° × 0.01° at the equator: 1,113.19 m × 1,105.74 m (WGS-84 ellipsoid)
    square = Polygon([(0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01)])
    assert village_area_m2(square) == pytest.approx(1_230_900, rel=2e-3)
    assert village_area_m2(None) is None


# --- the travel matrix by hand ----------------------------------------------------------

OFF, P, Q, N = "office", "V1 point", "V2 point", "n"
NET = {  # seconds between network nodes (symmetric)
    (OFF, P): 600,
    (OFF, Q): 900,
    (P, Q): 400,
    (P, N): 30,
    (OFF, N): 620,
    (N, Q): 420,
}


def _net(a: str, b: str) -> int:
    return 0 if a == b else NET.get((a, b), NET.get((b, a), 0))


def test_travel_matrix_by_hand() -> None:
    # locations: 0 office, 1 service point (at V1's point), then households
    nodes = [OFF, P, P, P, P, N, Q, N]
    estimated = [True, True, True, False, True, False]
    villages = ["V1", "V1", "V1", "V1", "V2", "V1"]
    addresses = ["a", "b", "b", "c", "d", "e"]  # h3 and h4 at one address
    net = np.array([[_net(a, b) for b in nodes] for a in nodes], dtype=np.int64)
    m = travel_seconds(
        net,
        first_household=2,
        estimated=estimated,
        villages=villages,
        addresses=addresses,
        hop_s={"V1": 240, "V2": 300},
        min_s=180,
    )
    h2, h3, h4, h5, h6, h7 = range(2, 8)
    expected = {
        (0, 1): 600,  # office → service point: the network, no household involved
        (0, h2): 600 + 240,  # to the village point, then the hop to the door
        (h2, h3): 240,  # two estimated homes of one village: one hop
        (h3, h4): 0,  # one address
        (h2, h5): 30 + 240,  # mixed: network from the village point plus the hop
        (h5, 1): 180,  # 30 s on the network, but two addresses: the minimum
        (h2, 1): 240,  # from the door back to the committee
        (h2, h6): 400 + 240 + 300,  # two villages: network plus both hops
        (h5, h6): 420 + 300,
        (h5, h7): 180,  # two real points at one node, different addresses
        (1, h5): 180,
    }
    for (a, b), secs in expected.items():
        assert m[a, b] == secs, (a, b)
        assert m[b, a] == secs, (b, a)
    assert (np.diag(m) == 0).all()


def test_households_get_their_point_and_address() -> None:
    home = pd.DataFrame(
        {
            "key": ["R1", "R2", "R3", "L4"],
            "resident_id": [1, 2, 3, None],
            "lead_id": [None, None, None, 4],
            "village_code": ["V1"] * 4,
        }
    )
    people = pd.DataFrame(
        {
            "lon": [121.30, np.nan, np.nan],
            "lat": [29.60, np.nan, np.nan],
            "household_id": ["H9", "H9", None],
            "address": ["一号", "一号", "三 号"],
        },
        index=[1, 2, 3],
    )
    contacts = pd.DataFrame({"address": ["三号"]}, index=[4])
    recorded = pd.DataFrame({"key": ["R2"], "lon": [121.31], "lat": [29.61]})
    villages = pd.DataFrame({"lon": [121.2], "lat": [29.5]}, index=["V1"])
    out = place_households(
        home, people=people, contacts=contacts, recorded=recorded, villages=villages
    )
    assert list(out["point_source"]) == ["household", "recorded", "estimated", "estimated"]
    assert list(out["lon"]) == [121.30, 121.31, 121.2, 121.2]
    keys = list(out["address_key"])
    assert keys[0] == keys[1] == "V1|户号|H9"  # one 户号: one address
    assert keys[2] == keys[3] == "V1|地址|三号"  # no 户号: the same address text


# --- corrected points on the sheet ------------------------------------------------------


def test_parse_point_reads_amap_and_gps() -> None:
    glon, glat = (float(x) for x in wgs84_to_gcj02(121.245, 29.6701))
    for text in (f"{glon:.6f},{glat:.6f}", f"{glon:.6f}，{glat:.6f}", f" {glon:.6f} {glat:.6f} "):
        (lon, lat), column = parse_point(text, None, None)  # type: ignore[misc]
        assert column == "更正位置（高德坐标）"
        assert (lon, lat) == pytest.approx((121.245, 29.6701), abs=2e-6)
    assert parse_point(None, "121.245", "29.67") == ((121.245, 29.67), "更正经度（WGS-84）")
    assert parse_point(None, None, " ") == (None, None)


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        (("29.66,121.40", None, None), "更正位置（高德坐标）", "经度与纬度是否填反"),
        (("121.40", None, None), "更正位置（高德坐标）", "两个数"),
        (("121.4,abc", None, None), "更正位置（高德坐标）", "不是数字"),
        (("121.40,29.66", "121.4", "29.66"), "更正位置（高德坐标）", "只填一种"),
        ((None, "121.4", None), "更正纬度（WGS-84）", "只填写了经度或纬度之一"),
        ((None, "东经121", "29.6"), "更正经度（WGS-84）", "不是数字"),
        ((None, "2.0", "48.8"), "更正经度（WGS-84）", "不在中国境内"),
    ],
)
def test_parse_point_refuses_bad_values(
    cells: tuple[str | None, str | None, str | None], column: str, reason: str
) -> None:
    with pytest.raises(ValueError) as err:
        parse_point(*cells)
    got_column, _, got_reason = err.value.args
    assert got_column == column and reason in got_reason


def test_sheets_link_only_real_points(tmp_path: Path) -> None:
    plan = sample_plan()
    stops = plan["teams"][0]["days"][0]["stops"]
    stops[1]["point_source"] = "estimated"
    stops[2]["point_source"] = "recorded"
    files = write_route_sheets(MonthPlan.from_json(plan), tmp_path)
    text = files.html[0].read_text(encoding="utf-8")
    assert text.count("uri.amap.com") == 2  # stops 1 and 3, not the estimated stop 2
    assert text.count("位置估计") == 1 and "先到村委会" in text
    ws = openpyxl.load_workbook(files.xlsx[0])["入户路线单"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "编号")
    nav = [c.value for c in ws[header]].index("导航") + 1
    cells = [ws.cell(header + k, nav) for k in (1, 2, 3)]
    assert [c.hyperlink is not None for c in cells] == [True, False, True]
    assert str(cells[1].value).startswith("位置估计")
    root = ET.parse(files.gpx[0]).getroot()
    names = [w.findtext(f"{GPX}name") for w in root.findall(f"{GPX}wpt")]
    assert [n.split()[0] for n in names if n] == ["起点", "1", "3", "午餐", "终点"]
    assert len(root.findall(f"{GPX}rte/{GPX}rtept")) == 5


# --- a toy month, every move by hand ----------------------------------------------------

HOP_MIN = 7.0  # [outreach.hops] fixed minutes in the toy configuration
MIN_MIN = 3.0
N2_N3_S = math.ceil(toy.drive_min(2, 3) * 60)  # 116 s
N3 = (toy.NODES[3], toy.LAT + 0.0001)
# name, own point, address (丑 and 寅 live at one address)
PEOPLE = [
    ("子", None, "武岭社区1号"),
    ("丑", None, "武岭社区2号"),
    ("寅", None, "武岭社区2号"),
    ("卯", N3, "武岭社区3号"),
]
PLACE = {"子": "a", "丑": "b", "寅": "b", "卯": "n3"}  # where each stands
BASE = "base"  # office and service point: both at n2


def hand_seconds(a: str, b: str) -> int:
    """The hop rule by hand on the toy: estimated homes at n2 (+7 min), 卯 at n3."""
    if a == b:
        return 0
    est = {"子", "丑", "寅"}
    pa, pb = PLACE.get(a, BASE), PLACE.get(b, BASE)
    if pa == pb:
        return 0  # one address (or office → service point, both at n2)
    if a in est and b in est:
        return round(HOP_MIN * 60)
    net = N2_N3_S if "卯" in (a, b) else 0
    secs = net + round(HOP_MIN * 60) * ((a in est) + (b in est))
    return max(secs, round(MIN_MIN * 60))


@dataclass
class ToyMonth:
    url: str
    store: Store
    config: Config
    files: dict[str, Path]
    ids: dict[str, str]


def _residents_csv(
    path: Path, ids: dict[str, str], *, with_points: bool, grade: str = "二级"
) -> None:
    head = (
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,村社代码,现住址,精神病服药监护"
    )
    rows = []
    for name, own, address in PEOPLE:
        row = f"{name},{ids[name]},精神,{grade},溪口镇,武岭社区,{toy.V_WULING},{address},是"
        if with_points:
            lon, lat = own if own else ("", "")
            row += f",{lon},{lat}"
        rows.append(row)
    if with_points:
        head += ",经度,纬度"
    path.write_text(head + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture
def month(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ToyMonth]:
    files = toy.write_inputs(tmp_path / "in")
    ids = {name: make_id(date(1960 + i, 1, 1), 2 * i + 1) for i, (name, *_) in enumerate(PEOPLE)}
    _residents_csv(files["residents"], ids, with_points=True)
    files["config"].write_text(
        files["config"].read_text(encoding="utf-8")
        + f'[outreach.hops]\nby = "fixed"\nminutes = {HOP_MIN}\nmin_minutes = {MIN_MIN}\n',
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'toy.db'}"
    monkeypatch.setenv("COVERPLAN_CONFIG", str(files["config"]))
    reset_settings()
    store = toy.build_store(url, files)
    assert main(["--db", url, "network", "build", str(files["roads"]), "--json"]) == 0
    yield ToyMonth(url, store, load_config(files["config"]), files, ids)
    store.dispose()


def _plan(m: ToyMonth, year: int, month_: int) -> MonthPlan:
    options = MonthOptions(year=year, month=month_, villages=(toy.V_WULING,), time_limit_s=0.5)
    return outreach_month(m.store, config=m.config, options=options)


def _names(plan: MonthPlan) -> dict[int, str]:
    with_ids: dict[int, str] = {}
    for _, day in plan.team_days:
        for s in day.stops:
            assert s.person.resident_id is not None
            with_ids[s.person.resident_id] = s.person.name
    return with_ids


def test_toy_month_every_move_by_hand(month: ToyMonth) -> None:
    plan = _plan(month, 2026, 12)
    assert plan.stats.planned == 4 and plan.stats.unplanned == 0
    sources = {s.person.name: s.point_source for _, d in plan.team_days for s in d.stops}
    assert sources == {"子": "estimated", "丑": "estimated", "寅": "estimated", "卯": "household"}
    moves = 0
    for _, day in plan.team_days:
        morning = [s for s in day.stops if s.departure <= day.lunch.start]
        afternoon = [s for s in day.stops if s.arrival >= day.lunch.end]
        assert len(morning) + len(afternoon) == len(day.stops)
        total = 0
        for half in (morning, afternoon):  # each half starts and ends at n2
            prev = BASE
            for s in half:
                want = hand_seconds(prev, s.person.name)
                assert s.travel_min == round(want / 60, 1), (prev, s.person.name)
                total += want
                prev = s.person.name
                moves += 1
            total += hand_seconds(prev, BASE)
        assert day.travel_min == pytest.approx(round(total / 60, 1), abs=0.15)
    assert moves == 4
    # the legs by hand: 7 min into an estimated home, 0 between 丑 and 寅 (one
    # address), 116 s + 7 min between an estimated home and 卯, 3 min (the
    # minimum, not 116 s) between 卯 and the committee
    assert (hand_seconds("子", "丑"), hand_seconds("丑", "寅")) == (420, 0)
    assert (hand_seconds("子", "卯"), hand_seconds("卯", BASE)) == (536, 180)


# --- a corrected point, recorded and kept ------------------------------------------------


def _fill(path: Path, rows: dict[str, dict[str, object]]) -> None:
    """Fill the XLSX sheet: per person's name, column → value."""
    wb = openpyxl.load_workbook(path)
    ws = wb["入户路线单"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "编号")
    col = {c.value: c.column for c in ws[header]}
    for r in range(header + 1, ws.max_row + 1):
        name = ws.cell(r, col["姓名"]).value
        for column, value in rows.get(str(name), {}).items():
            ws.cell(r, col[column], value)
    wb.save(path)


def _recorded(store: Store) -> dict[str, tuple[float | None, float | None, date | None]]:
    with store.read() as s:
        rows = s.execute(
            select(
                t.Resident.name,
                t.Resident.recorded_lon,
                t.Resident.recorded_lat,
                t.Resident.recorded_on,
            )
        ).all()
    return {n: (x, y, d) for n, x, y, d in rows}


def test_corrected_point_is_stored_used_and_kept(month: ToyMonth, tmp_path: Path) -> None:
    plan = _plan(month, 2026, 12)
    files = write_route_sheets(plan, tmp_path / "sheets")
    gcj = wgs84_to_gcj02(121.2450, 29.6702)
    gcj_text = f"{float(gcj[0]):.6f},{float(gcj[1]):.6f}"  # as copied from Amap
    for path in files.xlsx:
        _fill(
            path,
            {
                "子": {"结果": "完成", "更正位置（高德坐标）": gcj_text},
                "丑": {
                    "结果": "完成",
                    "更正经度（WGS-84）": 121.2460,
                    "更正纬度（WGS-84）": 29.6703,
                },
                "卯": {"结果": "不在家", "更正经度（WGS-84）": 120.0, "更正纬度（WGS-84）": 30.5},
            },
        )
    res = import_visits(
        month.store, tmp_path / "sheets", today=date(2026, 12, 20), config=month.config
    )
    # 卯's point lies 130 km away: the row is rejected with file, row, column and reason
    (bad,) = res.rejected
    assert bad.column == "更正经度（WGS-84）" and "household_point_max_km" in bad.reason
    assert bad.value is not None and bad.value.startswith("120.0,30.5")
    assert res.updated["points_recorded"] == 2  # 子's household, and 丑's (丑 and 寅)
    want_zi = tuple(float(x) for x in gcj02_to_wgs84(*gcj))
    got = _recorded(month.store)
    assert got["子"][:2] == pytest.approx(want_zi, abs=2e-6)
    assert got["子"][:2] == pytest.approx((121.2450, 29.6702), abs=2e-6)
    assert got["丑"] == got["寅"] == (121.2460, 29.6703, plan.team_days[0][1].date)  # one address
    assert got["卯"] == (None, None, None)

    def sources(p: MonthPlan) -> dict[str, tuple[str, float, float]]:
        return {
            s.person.name: (s.point_source, s.lon, s.lat) for _, d in p.team_days for s in d.stops
        }

    after = sources(_plan(month, 2027, 1))
    assert after["子"][0] == after["丑"][0] == after["寅"][0] == "recorded"
    assert after["丑"][1:] == (121.2460, 29.6703)
    assert after["卯"][0] == "household"

    # a register without point columns (every row changed: another grade) erases
    # neither what a team recorded nor the register points stored before
    again = month.files["residents"].with_name("residents_again.csv")
    _residents_csv(again, month.ids, with_points=False, grade="一级")
    res2 = import_file(
        month.store, "residents", again, config=month.config, today=date(2026, 12, 21)
    )
    assert res2.rejected == 0 and res2.updated == 4
    assert _recorded(month.store) == got
    later = sources(_plan(month, 2027, 2))
    assert later["子"][0] == later["丑"][0] == later["寅"][0] == "recorded"
    assert later["卯"] == ("household", *N3)

    # importing the same sheets again changes nothing
    res3 = import_visits(
        month.store, tmp_path / "sheets", today=date(2026, 12, 20), config=month.config
    )
    assert res3.updated["points_recorded"] == 0 and res3.unchanged == res.stored


def test_visits_record_takes_a_point(month: ToyMonth, capsys: pytest.CaptureFixture[str]) -> None:
    with month.store.read() as s:
        rid = dict(s.execute(select(t.Resident.name, t.Resident.id)).all())
    record = ["--db", month.url, "visits", "record", "--date", "2026-12-01", "--outcome", "完成"]
    gcj = wgs84_to_gcj02(121.2470, 29.6702)
    amap = f"{float(gcj[0]):.6f},{float(gcj[1]):.6f}"
    capsys.readouterr()
    argv = [*record, "--resident", str(rid["子"]), "--point", amap, "--point-crs", "gcj02"]
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["point"] == pytest.approx([121.2470, 29.6702], abs=2e-6)
    assert doc["updated"]["points_recorded"] == 1
    assert _recorded(month.store)["子"][:2] == pytest.approx((121.2470, 29.6702), abs=2e-6)
    # 经纬度填反, and a point 130 km away: refused with the option named, exit 2
    for point, reason in (("29.6702,121.247", "填反"), ("120.0,30.5", "household_point_max_km")):
        assert main([*record, "--resident", str(rid["丑"]), "--point", point]) == 2
        err = capsys.readouterr().err
        assert reason in err and "Traceback" not in err
    assert _recorded(month.store)["丑"] == (None, None, None)
