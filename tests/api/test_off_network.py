"""Off-network points and mixed village geometry, through the command line.

The toy district (tests/toy_district.py): a 4-km road with hand-computable
drive times, villages with a polygon, a point, both or neither, a village
2 km from the road whose nearest node carries the 残疾人之家, and a
rehabilitation station 2.2 km from the road.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from planner.networks import NETWORK_META_KEY, load_network
from planner.services.coverage import compute_coverage
from planner.settings import get_config, reset_settings
from planner.store.core import Store
from planner.store.frames import villages_frame
from tests import toy_district as toy

SNAP_MAX_M = 500.0


@dataclass
class Toy:
    url: str
    store: Store
    files: dict[str, Path]
    tmp: Path


@pytest.fixture
def district(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Toy]:
    files = toy.write_inputs(tmp_path / "in")
    url = f"sqlite:///{tmp_path / 'toy.db'}"
    monkeypatch.setenv("COVERPLAN_CONFIG", str(files["config"]))
    monkeypatch.setenv("COVERPLAN_DB_URL", url)  # main() sets it; restored afterwards
    reset_settings()
    store = toy.build_store(url, files)
    yield Toy(url=url, store=store, files=files, tmp=tmp_path)
    store.dispose()


def run(
    toy_: Toy, capsys: pytest.CaptureFixture[str], *args: str, code: int = 0
) -> tuple[Any, str]:
    """Run ``coverplan`` in-process; the parsed JSON (or stdout text) and stderr."""
    capsys.readouterr()
    rc = main(["--db", toy_.url, *args])
    out, err = capsys.readouterr()
    assert rc == code, err
    assert "Traceback" not in err
    if "--json" in args and rc == 0:
        return json.loads(out), err
    return out, err


def build(toy_: Toy, capsys: pytest.CaptureFixture[str]) -> Any:
    out, _ = run(toy_, capsys, "network", "build", str(toy_.files["roads"]), "--json")
    return out


def entries(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in doc["off_network"] if e["kind"] == kind]


# ------------------------------------------------------------------- coverage


def test_a_village_two_km_from_the_road_is_not_covered(
    district: Toy, capsys: pytest.CaptureFixture[str]
) -> None:
    """剡溪's point snaps to n3, where the home stands (0 minutes), 2,001 m away: it
    is off the network, so its residents are not covered, and listed."""
    build(district, capsys)
    out, _ = run(
        district, capsys, "coverage", "--type", "home", "--type", "psych_station", "--json"
    )
    home, psych = out["facility_types"]
    # covered: 丙 丁 (武岭, n2), 戊 (班溪, n4), 己 (own point at n5);
    # off the network: 甲 乙 (剡溪, village 2,001 m), 辛 (own point 1,113 m); 庚 not located
    assert (home["eligible"], home["covered"], home["off_network"], home["not_located"]) == (
        8,
        4,
        3,
        1,
    )
    assert home["uncovered"] == 4 and home["coverage_pct"] == 50.0
    # the only station is 2.2 km from the road: it serves nobody
    assert (psych["eligible"], psych["covered"], psych["off_network"]) == (1, 0, 0)

    shanxi = toy.haversine(*toy.POINTS[toy.V_SHANXI], toy.NODES[3], toy.LAT)
    assert shanxi == pytest.approx(2001.5, abs=1)
    villages = entries(out, "village")
    assert [(v["code"], v["name"], v["mode"]) for v in villages] == [
        (toy.V_SHANXI, "剡溪社区", "drive")
    ]
    assert villages[0]["distance_m"] == pytest.approx(shanxi, abs=0.2)
    residents = {e["village_code"]: e for e in entries(out, "resident")}
    assert {c: e["count"] for c, e in residents.items()} == {toy.V_SHANXI: 2, toy.V_JISHAN: 1}
    assert residents[toy.V_SHANXI]["max_distance_m"] == pytest.approx(shanxi, abs=0.2)
    assert residents[toy.V_SHANXI]["village_name"] == "剡溪社区"
    assert all("name" not in e for e in residents.values())  # never residents' names
    jishan = toy.haversine(121.2505, 29.6600, toy.NODES[3], toy.LAT)
    assert residents[toy.V_JISHAN]["max_distance_m"] == pytest.approx(jishan, abs=0.2)
    [station] = entries(out, "facility")
    psych_m = toy.haversine(*toy.PSYCH_AT, toy.NODES[1], toy.LAT)
    assert station["name"] == "茗山康复站" and station["distance_m"] == pytest.approx(psych_m, 0.2)
    assert out["not_located"] == [
        {"village_code": toy.V_NOWHERE, "village_name": "溪口一村委会", "count": 1}
    ]
    assert out["snap_max_m"] == SNAP_MAX_M
    town = out["towns"][0]["facility_types"][0]
    assert (town["type"], town["off_network"], town["not_located"]) == ("home", 3, 1)

    text, _ = run(district, capsys, "coverage", "--type", "home", "--type", "psych_station")
    assert "1 个村社、1 处设施、住户 3 人距路网超过 500 米，按不可达计" in text
    assert "溪口一村委会（330213100200）没有点位或边界，其 1 人未定位" in text


def test_minutes_by_hand_and_per_village_sums(
    district: Toy, capsys: pytest.CaptureFixture[str]
) -> None:
    build(district, capsys)
    config = get_config()
    net = load_network(district.store, config=config, mode="drive").network
    res = compute_coverage(
        district.store, config=config, networks={"drive": net}, types=["home"], today=toy.TODAY
    )
    minutes = res.residents.set_index("village_code")["minutes"]
    # travel is to the home at n3: 武岭 from n2, 班溪 from n4, 中山's own point from n5
    assert minutes[toy.V_WULING].tolist() == pytest.approx([toy.drive_min(2, 3)] * 2, abs=0.01)
    assert minutes[toy.V_BANXI] == pytest.approx(toy.drive_min(4, 3), abs=0.01)
    assert minutes[toy.V_ZHONGSHAN] == pytest.approx(toy.drive_min(5, 3), abs=0.01)
    assert toy.drive_min(5, 3) == pytest.approx(
        toy.leg_m(4, 5) / (34 / 3.6) / 60 + toy.leg_m(3, 4) / (30 / 3.6) / 60
    )
    assert minutes[[toy.V_SHANXI, toy.V_NOWHERE]].isna().all()  # never from n3's 0 minutes

    out_dir = district.tmp / "cov"
    run(district, capsys, "coverage", "--out", str(out_dir))
    with (out_dir / "coverage_villages.csv").open(encoding="utf-8-sig") as f:
        assert f.readline().startswith("# 容量内分配规则（就近优先）")  # the rule's note
        rows = list(csv.DictReader(f))
    cov, _ = run(district, capsys, "coverage", "--json")
    for ft in cov["facility_types"]:
        mine = [r for r in rows if r["设施类型代码"] == ft["type"]]
        assert len(mine) == len(toy.NAMES)
        for col, key in (
            ("符合条件人数", "eligible"),
            ("可达人数", "covered"),
            ("距路网过远人数", "off_network"),
            ("未定位人数", "not_located"),
            ("不可达人数", "uncovered"),
        ):
            assert sum(int(r[col]) for r in mine) == ft[key], (ft["type"], col)
        for r in mine:  # eligible = home service + covered + not covered
            assert int(r["符合条件人数"]) == int(r["需上门服务"]) + int(r["可达人数"]) + int(
                r["不可达人数"]
            )
            assert int(r["不可达人数"]) >= int(r["距路网过远人数"]) + int(r["未定位人数"])
    shanxi = next(r for r in rows if r["设施类型代码"] == "home" and r["村社代码"] == toy.V_SHANXI)
    assert (shanxi["符合条件人数"], shanxi["可达人数"], shanxi["距路网过远人数"]) == ("2", "0", "2")

    gaps, _ = run(district, capsys, "gaps", "--type", "home", "--json")
    by_village = {g["village_code"]: g for g in gaps["coverage_gaps"]}
    assert by_village[toy.V_SHANXI]["unmet"] == 2 and by_village[toy.V_SHANXI]["off_network"] == 2
    assert by_village[toy.V_NOWHERE]["not_located"] == 1
    assert {e["kind"] for e in gaps["off_network"]} == {"village", "resident"}


# ---------------------------------------------------------------- travel-time


def test_travel_time_refuses_a_point_off_the_network(
    district: Toy, capsys: pytest.CaptureFixture[str]
) -> None:
    build(district, capsys)
    far = f"{toy.POINTS[toy.V_SHANXI][0]},{toy.POINTS[toy.V_SHANXI][1]}"
    near = f"{toy.NODES[5]},{toy.LAT}"
    _, err = run(district, capsys, "travel-time", "--from", far, "--to", near, "--json", code=2)
    assert "起点距路网 2002 米" in err and "500 米" in err and "--snap-any" in err
    out, _ = run(
        district, capsys, "travel-time", "--from", far, "--to", near, "--snap-any", "--json"
    )
    assert out["minutes"] == pytest.approx(toy.drive_min(3, 5), abs=0.01)
    assert out["from_snap_m"] == pytest.approx(2001.5, abs=0.5)
    assert [(e["kind"], e["id"]) for e in out["off_network"]] == [("point", "from")]
    ok, _ = run(
        district,
        capsys,
        "travel-time",
        "--from",
        f"{toy.NODES[1]},{toy.LAT}",
        "--to",
        near,
        "--json",
    )
    assert ok["minutes"] == pytest.approx(toy.drive_min(1, 5), abs=0.01)
    assert ok["off_network"] == []


# -------------------------------------------------------------- network build


def test_network_build_reports_and_refuses_a_file_of_elsewhere(
    district: Toy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = build(district, capsys)
    drive = out["drive"]
    # 6 villages have a point (畸山's from its polygon); 5 within 500 m
    assert drive["villages"] == {"villages_located": 6, "villages_within": 5, "share": 0.8333}
    assert drive["snap"]["villages"] == {"points": 6, "flagged": 1, "max_m": 2001.5}
    kinds = {(e["kind"], e["mode"]) for e in out["off_network"]}
    assert kinds == {
        (k, m) for k in ("village", "facility", "resident") for m in ("drive", "walk", "wheelchair")
    }
    assert out["not_located"] == [
        {"kind": "village", "code": toy.V_NOWHERE, "name": "溪口一村委会"}
    ]
    registered = district.store.get_meta(NETWORK_META_KEY)
    assert registered == str(district.files["roads"].resolve())

    _, err = run(
        district, capsys, "network", "build", str(district.files["elsewhere"]), "--json", code=2
    )
    assert "只覆盖本区 0% 的村社" in err and "0/6" in err and "min_village_share" in err
    assert "最远的村社" in err and "茗山社区" in err
    assert district.store.get_meta(NETWORK_META_KEY) == registered  # unchanged

    # the share is configurable: 5/6 is below 0.9
    strict = district.tmp / "strict.toml"
    strict.write_text(
        district.files["config"].read_text(encoding="utf-8")
        + "[network]\nmin_village_share = 0.9\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("COVERPLAN_CONFIG", str(strict))
    reset_settings()
    _, err = run(district, capsys, "network", "build", "--mode", "drive", code=2)
    assert "83%" in err and "5/6" in err and "330213100005 剡溪社区 2002 米" in err


# ---------------------------------------------------------------------- siting


def test_siting_leaves_out_an_off_network_candidate(
    district: Toy, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both plots would reach 丁 (psychiatric, 武岭) in minutes if snapped blindly;
    the one 2 km from the road is left out, and off-network demand is not coverable."""
    build(district, capsys)
    plots = district.tmp / "plots.csv"
    sx, sy = toy.POINTS[toy.V_SHANXI]
    plots.write_text(
        f"名称,经度,纬度\n剡溪地块,{sx},{sy}\n中山地块,{toy.NODES[5]},{toy.LAT + 0.0003}\n",
        encoding="utf-8",
    )
    args = ["site", "--type", "psych_station", "--new", "1", "--no-town-rule"]
    out, _ = run(district, capsys, *args, "--candidates", str(plots), "--json")
    assert [s["name"] for s in out["selected"]] == ["中山地块"]
    assert (out["before"]["covered"], out["after"]["covered"]) == (0, 1)
    [cand] = entries(out, "candidate")
    assert cand["name"] == "剡溪地块" and cand["distance_m"] == pytest.approx(2001.5, abs=0.5)
    assert [f["name"] for f in entries(out, "facility")] == ["茗山康复站"]

    nowhere = district.tmp / "nowhere.csv"
    nowhere.write_text(f"名称,村社\n空地,{toy.V_NOWHERE}\n", encoding="utf-8")
    _, err = run(district, capsys, *args, "--candidates", str(nowhere), code=2)
    assert "第 2 行" in err and "没有点位或边界" in err and "经度、纬度" in err

    home, _ = run(district, capsys, "site", "--type", "home", "--new", "1", "--json")
    # the three off-network residents and the one not located are never coverable
    assert home["objective"] == pytest.approx(4.0) and home["after"]["covered"] == 4
    assert toy.V_SHANXI in {e["code"] for e in entries(home, "candidate")}
    text, _ = run(district, capsys, "site", "--type", "home", "--new", "1")
    assert "1 个村社、1 个候选点、住户 3 人距路网超过 500 米，按不可达计" in text


# -------------------------------------------------------------------- outreach


def test_outreach_month_leaves_off_network_households_unplanned(
    district: Toy, capsys: pytest.CaptureFixture[str]
) -> None:
    build(district, capsys)
    month = ["outreach", "month", "2026-12", "--seconds", "1"]
    villages = ["--village", toy.V_SHANXI, "--village", toy.V_WULING, "--village", toy.V_NOWHERE]
    out, _ = run(district, capsys, *month, *villages, "--json")
    reasons = {u["village_code"]: u["reason"] for u in out["unplanned"]}
    assert reasons == {
        toy.V_SHANXI: "距路网过远（2002 米），无法安排路线",
        toy.V_NOWHERE: "没有住户点位，所在村社也没有点位或边界，无法安排路线",
    }
    codes = {u["village_code"]: u["reason_code"] for u in out["unplanned"]}
    assert codes == {toy.V_SHANXI: "off_network", toy.V_NOWHERE: "not_located"}
    stops = [s for tm in out["teams"] for d in tm["days"] for s in d["stops"]]
    assert [s["village_code"] for s in stops] == [toy.V_WULING]
    st = out["stats"]
    assert (st["households_needing_visit"], st["planned"], st["unplanned"]) == (3, 1, 2)
    # 剡溪 had the higher need but is off the network: the service point moves to 武岭
    assert out["service_point"]["village_code"] == toy.V_WULING
    [moved] = entries(out, "service_point")
    assert moved["code"] == toy.V_SHANXI and moved["distance_m"] == pytest.approx(2001.5, 0.5)
    [hh] = entries(out, "resident")
    assert (hh["village_code"], hh["count"]) == (toy.V_SHANXI, 1) and "name" not in hh

    text, _ = run(district, capsys, *month, *villages)
    assert "溪口镇剡溪社区距路网 2002 米，现场服务点改设在溪口镇武岭社区" in text
    assert "距路网过远（2002 米），无法安排路线" in text

    _, err = run(district, capsys, *month, "--village", toy.V_SHANXI, "--json", code=2)
    assert "无法设置现场服务点" in err and "剡溪社区" in err and "--village" in err


def test_outreach_office_off_the_network_is_refused(
    district: Toy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    build(district, capsys)
    far = district.tmp / "far_office.toml"
    far.write_text(
        "[outreach]\nmin_villages_per_month = 0\n"
        'office = { name = "远处办公室", lon = 121.25, lat = 29.70 }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("COVERPLAN_CONFIG", str(far))
    reset_settings()
    month = ["outreach", "month", "2026-12", "--seconds", "1", "--village", toy.V_WULING]
    _, err = run(district, capsys, *month, "--json", code=2)
    office_m = toy.haversine(121.25, 29.70, toy.NODES[3], toy.LAT)
    assert "远处办公室" in err and f"{office_m:.0f} 米" in err and "snap_max_m" in err


# -------------------------------------------------------------- mixed geometry


def test_mixed_geometry_runs_in_every_command(
    district: Toy, capsys: pytest.CaptureFixture[str]
) -> None:
    """畸山 keeps only its polygon (no stored point), 溪口一 has neither, the rest points
    or polygon + point: every command runs and its JSON parses."""
    db = district.url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE villages SET lon = NULL, lat = NULL WHERE code = ?", (toy.V_JISHAN,))
    vf = villages_frame(district.store).set_index("code")
    assert vf.loc[toy.V_WULING, "point_source"] == "point"
    assert vf.loc[toy.V_JISHAN, "point_source"] == "polygon"
    assert vf.loc[toy.V_NOWHERE, "point_source"] is None
    assert vf.loc[toy.V_BANXI, "polygon"] is None
    assert vf.geometry[toy.V_JISHAN].geom_type == "Polygon"
    assert vf.geometry[toy.V_BANXI].geom_type == "Point"
    assert vf.geometry[toy.V_NOWHERE] is None
    # the point inside 畸山's polygon
    assert vf.loc[toy.V_JISHAN, "polygon"].contains(
        vf.geometry[toy.V_JISHAN].representative_point()
    )
    assert 121.249 < vf.loc[toy.V_JISHAN, "lon"] < 121.251

    out = build(district, capsys)
    assert out["drive"]["villages"]["villages_located"] == 6
    for args in (
        ["coverage", "--json"],
        ["coverage", "--out", str(district.tmp / "cov"), "--json"],
        ["gaps", "--json"],
        ["site", "--type", "home", "--new", "1", "--json"],
        ["retrofit", "--json"],
        ["outreach", "year", "2027", "--json"],
        ["outreach", "month", "2026-12", "--seconds", "1", "--village", toy.V_JISHAN, "--json"],
    ):
        doc, _ = run(district, capsys, *args)
        assert isinstance(doc, dict), args
    # 溪口一 (no point: no service point there) and 畸山 (polygon only: the
    # service point stands inside its polygon)
    month, _ = run(
        district,
        capsys,
        *("outreach", "month", "2027-02", "--seconds", "1", "--json"),
        *("--village", toy.V_NOWHERE, "--village", toy.V_JISHAN),
    )
    assert [v["code"] for v in month["villages"]] == [toy.V_NOWHERE, toy.V_JISHAN]
    sp = month["service_point"]
    assert sp["village_code"] == toy.V_JISHAN and sp["lon"] == vf.loc[toy.V_JISHAN, "lon"]
    [moved] = entries(month, "service_point")
    assert (moved["code"], moved["distance_m"]) == (toy.V_NOWHERE, None)
    [(who, why)] = [(u["village_code"], u["reason"]) for u in month["unplanned"]]
    assert who == toy.V_NOWHERE and "没有点位或边界" in why
    import pyogrio

    layer = pyogrio.read_dataframe(district.tmp / "cov" / "coverage.gpkg", layer="villages")
    assert len(layer) == len(toy.NAMES)
    assert sorted(g.geom_type for g in layer.geometry if g is not None) == [
        "Point",
        "Point",
        "Point",
        "Point",
        "Polygon",
        "Polygon",
    ]
