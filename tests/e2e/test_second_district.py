"""End to end on a second, made-up district (示例县 330999; not 奉化), with known answers.

The district is :mod:`tests.county` (its docstring draws the map). Every
expected value below is worked out by hand from that map and the default
configuration; the comments show the arithmetic. Speeds (drive): secondary
40 km/h = 1.5 min/km, tertiary 30 km/h = 2 min/km, unclassified 25 km/h =
2.4 min/km, unclassified with maxspeed 20 → 0.85 × 20 = 17 km/h (8.5 km = 30 min,
5.1 km = 18 min, 1 km = 60/17 min), track 10 km/h = 6 min/km. Snap legs are
reported, not added; travel counts from the home *to* the facility.

The flow runs the CLI in-process (``api.cli.main``) on each backend of
``any_db_url``: init → import villages, facilities, residents, devices, leads →
network build → travel-time, coverage, gaps, site, retrofit, outreach year and
month, each with ``--json``. One test runs the installed console script.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from api.cli import main
from tests import county
from tests.county import VILLAGE, CountyFiles, make_county, office_lonlat, person_id

pytestmark = pytest.mark.slow

COVERPLAN = str(Path(sys.executable).parent / "coverplan")
V = {key: v.code for key, v in VILLAGE.items()}
TOWN_1, TOWN_2 = "330999001", "330999002"


def _ll(point: tuple[float, float]) -> str:
    return f"{point[0]:.7f},{point[1]:.7f}"


class County:
    """The example district loaded into a fresh store; ``run`` calls the CLI in-process."""

    def __init__(self, files: CountyFiles, db: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.files = files
        self.db = db
        self.capsys = capsys
        self.network: dict[str, Any] = {}

    def call(self, *args: str) -> tuple[int, str, str]:
        """Exit status, stdout and stderr (engines are disposed by conftest's fixture)."""
        self.capsys.readouterr()
        code = main(["--db", self.db, *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def run(self, *args: str) -> Any:
        """Run ``coverplan ARGS --json``: exit 0 and exactly one JSON document on stdout."""
        code, out, err = self.call(*args, "--json")
        assert code == 0, err
        return json.loads(out)


def _setup(county_files: CountyFiles, db: str, capsys: pytest.CaptureFixture[str]) -> County:
    c = County(county_files, db, capsys)
    f = county_files
    code, _, err = c.call("status")
    assert code == 2 and "coverplan init" in err  # no store, no district: say how to begin
    init = c.run(
        "init",
        "--district", county.DISTRICT_CODE,
        "--units", str(f.units),
        "--parents", ",".join(county.PARENTS),
        "--office", _ll(office_lonlat()),
        "--office-name", county.OFFICE_NAME,
    )  # fmt: skip
    assert (init["towns"], init["villages"]) == (2, 12)
    for kind, path, rows in (
        ("villages", f.villages, 12),
        ("facilities", f.facilities, 3),
        ("residents", f.residents, 51),
        ("devices", f.devices, 5),
        ("leads", f.leads, 1),
    ):
        res = c.run("import", kind, str(path))
        assert (res["rows"], res["stored"], res["rejected"], res["needs_review"]) == (
            rows,
            rows,
            0,
            0,
        ), (kind, res)
    c.network = c.run("network", "build", str(f.roads))
    return c


@pytest.fixture
def county_files(tmp_path: Path) -> CountyFiles:
    return make_county(tmp_path / "county")


@pytest.fixture
def loaded(
    county_files: CountyFiles, any_db_url: str, capsys: pytest.CaptureFixture[str]
) -> County:
    return _setup(county_files, any_db_url, capsys)


def _off_network(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in doc["off_network"] if e["kind"] == kind]


# --- the store and the network -----------------------------------------------------------


def test_init_imports_and_network(loaded: County) -> None:
    c = loaded
    status = c.run("status")
    assert (status["district"], status["towns"], status["villages"]) == ("示例县", 2, 12)
    assert status["villages_with_polygon"] == 6  # 清河街道's six; 云岭镇's are points
    assert "奉化" not in json.dumps(status, ensure_ascii=False)
    # re-importing the villages changes nothing and erases nothing
    again = c.run("import", "villages", str(c.files.villages))
    assert (again["stored"], again["unchanged"], again["rejected"]) == (12, 12, 0)
    drive = c.network["drive"]
    # nodes at every vertex and at most 1 km apart: 清河路 3, 河滨路 +3, 示例县道 +10,
    # 盘山公路 +1 +8 +6 +6, 石桥支路 +3 +1, 机耕路 +20 = 61, one strongly connected component
    assert (drive["nodes"], drive["dropped_nodes"]) == (61, 0)
    # 孤岛村 is 3 km from the nearest node (11000, 0); the two households sit on nodes
    assert drive["snap"]["villages"]["flagged"] == 1
    assert drive["snap"]["villages"]["max_m"] == pytest.approx(3000.0, abs=0.5)
    assert drive["snap"]["households"] == {"points": 2, "flagged": 0, "max_m": 0.0}
    # wheelchairs cannot use the track: its 20 nodes are not in that network, and 远山村
    # is then 19.4 km from the nearest node, (2000, -1000): √(4² + 19²) km
    assert c.network["wheelchair"]["nodes"] == 41
    shares = {m: c.network[m]["villages"] for m in ("drive", "walk", "wheelchair")}
    assert shares["drive"] == {"villages_located": 12, "villages_within": 11, "share": 0.9167}
    assert shares["wheelchair"]["villages_within"] == 10  # still above 80 %
    off = {(e["mode"], e["code"]) for e in c.network["off_network"]}
    assert off == {(m, V["V09"]) for m in shares} | {("wheelchair", V["V06"])}
    far = next(e for e in c.network["off_network"] if e["code"] == V["V06"])
    assert far["distance_m"] == pytest.approx(1000 * (4**2 + 19**2) ** 0.5, abs=1)
    # a file of the wrong kind is refused, naming the right command; nothing written
    code, _, err = c.call("import", "residents", str(c.files.facilities))
    assert code == 2 and "import facilities" in err
    assert c.run("status")["residents"] == 51


def test_travel_time_by_hand(loaded: County) -> None:
    c = loaded
    office, v11 = office_lonlat(), VILLAGE["V11"].lonlat
    # office (0,-1000) north on 河滨路 1 km (2 min), 清河路 east 2 km (3 min),
    # 示例县道 10 km (15 min), 盘山公路 8.5 + 5.1 km (30 + 18 min) = 68 min, 26.6 km
    out = c.run("travel-time", "--from", _ll(office), "--to", _ll(v11))
    assert out["minutes"] == pytest.approx(68.0, abs=0.1)
    assert out["metres"] == pytest.approx(26_600, abs=2)
    assert (out["from_snap_m"], out["to_snap_m"]) == (0.0, 0.0)
    # back: 清河路 is one-way east, so 河滨路 south 1 km and west 2 km (6 min) instead
    # of 3 min: 18 + 30 + 15 + 6 = 69 min, the same 26.6 km
    back = c.run("travel-time", "--from", _ll(v11), "--to", _ll(office))
    assert back["minutes"] == pytest.approx(69.0, abs=0.1)
    assert back["metres"] == pytest.approx(26_600, abs=2)
    # 远山村 → 河东社区: 20 km of track (120 min) + 4 km of 示例县道 (6 min)
    remote = c.run(
        "travel-time", "--from", _ll(VILLAGE["V06"].lonlat), "--to", _ll(VILLAGE["V02"].lonlat)
    )
    assert remote["minutes"] == pytest.approx(126.0, abs=0.1)


def test_travel_time_refuses_an_off_network_point(loaded: County) -> None:
    c = loaded
    args = ("travel-time", "--from", _ll(VILLAGE["V09"].lonlat), "--to", _ll(VILLAGE["V07"].lonlat))
    code, out, err = c.call(*args)
    assert code == 2 and out == ""
    assert "3000" in err and "--snap-any" in err
    # forced: snapped to (11000, 0), 1 km of 示例县道 to 云岭社区 = 1.5 min, snap reported
    forced = c.run(*args, "--snap-any")
    assert forced["minutes"] == pytest.approx(1.5, abs=0.1)
    assert forced["from_snap_m"] == pytest.approx(3000.0, abs=0.5)


def test_geocoding_knows_the_district(loaded: County, tmp_path: Path) -> None:
    c = loaded
    book = tmp_path / "地址.csv"
    book.write_text(
        "地址\n"
        "浙江省示例市示例县云岭镇竹园村5号\n"  # the full prefix of this district
        "云岭镇中岭村\n"
        "浙江省宁波市奉化区锦屏街道南门社区1号\n",  # another district
        encoding="utf-8",
    )
    out = c.run("geocode", str(book), "--column", "地址", "--out", str(tmp_path / "结果.csv"))
    assert (out["rows"], out["matched"], out["outside"]) == (3, 2, 1)
    rows = (tmp_path / "结果.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert [r.split(",")[1] for r in rows] == [V["V08"], V["V11"], ""]


# --- coverage and gaps -------------------------------------------------------------------

# 残疾人之家 (threshold 30 min): eligible = 智力/精神, grades 3–4, aged 16–59, per village:
#   V01 3 (3 min to 河东 by 清河路)   V02 3 (0)    V03 3, one bedridden (3 min)
#   V04 2 (郭燕 3 km spur 7.2 + 3 = 10.2; 胡军 at (4000,2200): 2.2 km 5.28 + 3 = 8.28)
#   V05 2 (6 min)   V06 1 (120 + 6 = 126 min: out)   V07 3 (0)   V08 2 (3 min to 云岭)
#   V09 2 (off the network: out)   V10 3 (30 + 3 = 33 min: out)   V11 4 (51: out)   V12 3 (69: out)
# eligible 31, home service 1, covered 3+3+2+2+2+3+2 = 17, capacities 20 + 20 hold all.
HOME_ELIGIBLE = {
    "V01": 3, "V02": 3, "V03": 3, "V04": 2, "V05": 2, "V06": 1,
    "V07": 3, "V08": 2, "V09": 2, "V10": 3, "V11": 4, "V12": 3,
}  # fmt: skip
HOME_COVERED = {
    "V01": 3, "V02": 3, "V03": 2, "V04": 2, "V05": 2, "V06": 0,
    "V07": 3, "V08": 2, "V09": 0, "V10": 0, "V11": 0, "V12": 0,
}  # fmt: skip
HOME_UNMET = {"V11": 4, "V10": 3, "V12": 3, "V09": 2, "V06": 1}
# 精神 residents (any grade or age), station in 清河社区, 30 min; to the station from
# V02 8 (河滨路 loop), V03 11, V05 14, V07 20, V08 23 (two persons) → covered 1+1+1+1+1+2
# plus V01's own = 7 of 12 (V06 129 min, V09 off the network, V10–V12 53+ min).


def test_coverage_by_hand(loaded: County, tmp_path: Path) -> None:
    c = loaded
    cov = c.run("coverage", "--out", str(tmp_path / "cov"))
    types = {t["type"]: t for t in cov["facility_types"]}
    home = types["home"]
    assert (home["eligible"], home["home_service"], home["covered"]) == (31, 1, 17)
    assert home["covered_within_capacity"] == 17
    assert home["coverage_pct"] == pytest.approx(100 * 17 / 30, abs=0.01)
    psych = types["psych_station"]
    assert (psych["eligible"], psych["covered"], psych["covered_within_capacity"]) == (12, 7, 7)
    towns = {t["town_code"]: t for t in cov["towns"]}
    assert set(towns) == {TOWN_1, TOWN_2}
    t_home = {
        code: next(f for f in t["facility_types"] if f["type"] == "home")
        for code, t in towns.items()
    }
    # 清河街道: V01–V06 eligible 14, covered 12 (V06 out, the bedridden one at home)
    assert (t_home[TOWN_1]["eligible"], t_home[TOWN_1]["covered"]) == (14, 12)
    # 云岭镇: V07–V12 eligible 17, covered 5 (V07, V08)
    assert (t_home[TOWN_2]["eligible"], t_home[TOWN_2]["covered"]) == (17, 5)
    assert all(t["has_home"] for t in cov["towns"])
    # the off-network village is reported with its distance, and only it
    villages = _off_network(cov, "village")
    assert [v["code"] for v in villages] == [V["V09"]]
    assert villages[0]["distance_m"] == pytest.approx(3000.0, abs=0.5)
    # its 3 residents (all eligible for the 助残窗口) are listed per village, not named
    residents = _off_network(cov, "resident")
    assert {(r["village_code"], r["count"]) for r in residents} == {(V["V09"], 3)}
    assert "邓超" not in json.dumps(cov, ensure_ascii=False)
    # per village, in the CSV table --out writes
    with (tmp_path / "cov" / "coverage_villages.csv").open(encoding="utf-8-sig") as fh:
        assert fh.readline().startswith("# 容量内分配规则")  # the capacity rule's note
        table = [r for r in csv.DictReader(fh) if r["设施类型代码"] == "home"]
    by_code = {r["村社代码"]: r for r in table}
    assert {k: int(by_code[code]["可达人数"]) for k, code in V.items()} == HOME_COVERED
    assert {k: int(by_code[code]["符合条件人数"]) for k, code in V.items()} == HOME_ELIGIBLE
    assert int(by_code[V["V09"]]["距路网过远人数"]) == 2
    assert int(by_code[V["V06"]]["不可达人数"]) == 1  # two hours away, on the network
    # the GeoPackage keeps each village's own geometry: six polygons and six points
    shapes = gpd.read_file(tmp_path / "cov" / "coverage.gpkg", layer="villages")
    assert sorted(shapes.geom_type) == ["Point"] * 6 + ["Polygon"] * 6


def test_gaps_by_hand(loaded: County) -> None:
    c = loaded
    gaps = c.run("gaps", "--type", "home")
    rows = [r for r in gaps["coverage_gaps"] if r["type"] == "home"]
    got = {r["village_code"]: r["unmet"] for r in rows}
    assert got == {V[k]: n for k, n in HOME_UNMET.items()}
    # ranked by unmet, then code: 中岭 4, 东岭 3, 尖峰 3, 孤岛 2, 远山 1
    assert [r["village_code"] for r in rows] == [V[k] for k in ("V11", "V10", "V12", "V09", "V06")]
    for r in rows:
        key = next(k for k, code in V.items() if code == r["village_code"])
        assert r["eligible"] == HOME_ELIGIBLE[key]
    assert [v["code"] for v in _off_network(gaps, "village")] == [V["V09"]]
    assert next(r for r in rows if r["village_code"] == V["V09"])["off_network"] == 2
    # policy gaps: 0.2 per resident (no home visit on record) + 1 per grade 1–2 without
    # the care subsidy + 1 per 低保/低边 without the living subsidy + 0.5 per device overdue
    policy = {r["village_code"]: r["score"] for r in gaps["policy_gaps"]}
    assert policy[V["V08"]] == pytest.approx(0.2 * 7 + 0.5 * 4)  # 3.4: four devices overdue
    assert policy[V["V11"]] == pytest.approx(0.2 * 6 + 1 + 1)  # 3.2: 丁秀兰 lacks both
    assert policy[V["V10"]] == pytest.approx(0.2 * 5 + 2)  # 3.0: 王福根 and 吕梅, no care
    assert gaps["policy_gaps"][0]["village_code"] == V["V08"]


# --- siting and retrofits ----------------------------------------------------------------


def test_site_one_new_home_by_hand(loaded: County) -> None:
    c = loaded
    site = c.run("site", "--type", "home", "--new", "1")
    # Both towns have a home, so the town rule is met. The uncovered travellers are
    # 东岭 3, 中岭 4, 尖峰 3 along 盘山公路 (5.1 km = 18 min apart), 远山 1 and 孤岛 2
    # (off the network: no site reaches them). A home in 中岭村 reaches 东岭 and 尖峰
    # in 18 min: 10 persons; one in 东岭 or 尖峰 reaches only its neighbour (the other
    # end is 36 min away): 7; in 远山村: 1.
    assert [s["village_code"] for s in site["selected"]] == [V["V11"]]
    assert site["selected"][0]["action"] == "new"
    assert site["selected"][0]["marginal"] == pytest.approx(10)
    assert (site["before"]["covered"], site["after"]["covered"]) == (17, 27)
    assert site["after"]["within_capacity"] == 27
    # mean minutes of the covered: before (3·3 + 2·3 + 8.28 + 10.2 + 2·6 + 2·3) / 17 = 3.03;
    # after + 东岭 3 × 18 + 尖峰 3 × 18 = 159.48 / 27 = 5.91
    assert site["before"]["mean_minutes"] == pytest.approx(51.48 / 17, abs=0.05)
    assert site["after"]["mean_minutes"] == pytest.approx(159.48 / 27, abs=0.05)


def test_retrofit_by_hand(loaded: County) -> None:
    c = loaded
    plan = c.run("retrofit", "--year", "2027", "--quota", "2")
    # 王福根: 一级 3 + 肢体 2 + wheelchair 2 + 低保 2 + aged 83 1.5 + alone 1.5 = 12
    # 丁秀兰: 一级 3 + 视力 2 + 低保 2 + aged 80 1.5 = 8.5 (next: 董建国 3+2+2+1 = 8)
    # 周杰 was retrofitted in 2022 (< 10 years): done, not a candidate
    assert plan["selected_count"] == 2 and plan["stopped_by"] == "quota"
    top = [(s["masked_id"], s["village_code"], s["score"]) for s in plan["selected"][:2]]
    masked = [person_id(n)[:6] + "*" * 8 + person_id(n)[-4:] for n in ("王福根", "丁秀兰")]
    assert top == [(masked[0], V["V10"], 12.0), (masked[1], V["V11"], 8.5)]
    assert (plan["candidates"], plan["done"]) == (50, 1)
    # 困难重度 (低保/低边, 一二级): 周杰 (done), 罗成, 王福根, 丁秀兰, 余桂兰 → 1/5, then 3/5
    assert (plan["before"]["eligible"], plan["before"]["retrofitted"]) == (5, 1)
    assert plan["after"]["retrofitted"] == 3 and plan["after"]["pct"] == pytest.approx(60.0)


# --- outreach ------------------------------------------------------------------------------

# Need score (weights: devices 1, medication 1, leads 1.5, policy gap 0.5, months since the
# last outreach 0.5 × 24 when none): 竹园村 4 + 1 + 1.5 + 0.5 × 3.4 + 12 = 20.2, the highest;
# every other village has only 12 + half its policy gap (0.2 per resident, + 1 per grade 1–2
# without the care subsidy or 低保 without the living subsidy; see test_gaps_by_hand).
NEED = {
    "V08": 20.2, "V11": 13.6, "V10": 13.5, "V03": 12 + 0.5 * (1.0 + 1), "V06": 12 + 0.5 * 1.4,
    "V01": 12.5, "V02": 12.4, "V07": 12.4, "V12": 12.4, "V04": 12.3, "V05": 12.3, "V09": 12.3,
}  # fmt: skip
OUTREACH_HOME = {  # 竹园村's home visits: name → team
    "董建国": "A",  # wheelchair, 轮椅 past its life → 辅具更换 (device skill: team A)
    "萧秀英": "A",
    "程大勇": "A",
    "袁志明": "B",  # 服药监护 (psychiatric skill: team B)
    "邓小芳": "B",  # the lead: 残疾评定办证 (assessment: team B)
}


def test_outreach_year_and_month(loaded: County) -> None:
    c = loaded
    year = c.run("outreach", "year", "2027")
    months = year["months"]
    # 12 villages for 12 months: each takes a month of its own, highest need first
    # (ties by code), so both towns are visited
    order = sorted(NEED, key=lambda k: (-NEED[k], V[k]))
    assert [[v["code"] for v in m["villages"]] for m in months] == [[V[k]] for k in order]
    assert [m["villages"][0]["score"] for m in months] == pytest.approx([NEED[k] for k in order])
    first = months[0]["villages"][0]
    assert first["parts"]["devices_overdue"] == 4 and first["parts"]["leads_open"] == 1
    assert first["home_visits"] == 5

    month = c.run("outreach", "month", "2027-01", "--seconds", "1")
    assert [v["code"] for v in month["villages"]] == [V["V08"]]
    assert month["service_point"]["village_code"] == V["V08"]
    stops = {
        s["name"]: team["team"]
        for team in month["teams"]
        for day in team["days"]
        for s in day["stops"]
    }
    assert stops == OUTREACH_HOME
    assert month["unplanned"] == []
    assert month["stats"]["households_needing_visit"] == 5
    # the office is 2 + 3 + 15 = 20 min from 竹园村: nobody is reached before 08:50
    arrivals = [s["arrival"] for t in month["teams"] for d in t["days"] for s in d["stops"]]
    assert min(arrivals) >= "08:50"
    days = {t["team"]: t["days"] for t in month["teams"]}
    assert all(d["start"]["name"] == county.OFFICE_NAME for ds in days.values() for d in ds)
    # team B visits two households without a point of their own (estimated at the
    # village point): 20 min and 13 km out, and 15 + 6 = 21 min and 13 km back (清河路
    # is one-way), counted even when a shift has no stop, plus three of the village's
    # hops ([outreach.hops] minutes = 5: the county's villages have no boundary) —
    # to the first door, to the second, and back to the service point for lunch;
    # team A also drives 1 km of 盘山公路 out to 萧秀英's house and back:
    # 41 + 2 × 60/17 = 48.1 min, 28 km, plus three hops too (董建国 and 程大勇 have
    # no point: one hop to the first, one between them, one from the village point
    # on to 萧秀英's real point)
    assert sum(d["travel_min"] for d in days["B"]) == pytest.approx(41.0 + 3 * 5, abs=0.1)
    assert sum(d["travel_min"] for d in days["A"]) == pytest.approx(41 + 120 / 17 + 15, abs=0.1)
    assert sum(d["distance_km"] for d in days["B"]) == pytest.approx(26.0, abs=0.01)
    assert sum(d["distance_km"] for d in days["A"]) == pytest.approx(28.0, abs=0.01)
    # 曹红's hearing aid is past its life but she can come: invited to the service point
    # (竹园村's grade 1–2 all have the care subsidy: no policy-check invitations)
    invited = {(p["name"], p["service"]) for p in month["invited_people"]}
    assert invited == {("曹红", "device_assessment")}
    # routine visits: 低保/低边 households per town: 周杰, 罗成 | 王福根, 丁秀兰, 余桂兰
    routine = {r["town_code"]: r["poor_households"] for r in month["routine"]}
    assert routine == {TOWN_1: 2, TOWN_2: 3}


# --- the installed command --------------------------------------------------------------


def test_console_script_smoke(
    county_files: CountyFiles, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One real run of the installed ``coverplan`` on the store set up in-process."""
    _setup(county_files, db_url, capsys)
    proc = subprocess.run(
        [COVERPLAN, "coverage", "--type", "home", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "COVERPLAN_DB_URL": db_url},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    home = json.loads(proc.stdout)["facility_types"][0]
    assert (home["type"], home["eligible"], home["covered"]) == ("home", 31, 17)
