"""Coverage on a hand-built toy district with known answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from geo.graph import RoadNetwork
from planner.errors import ConfigError
from planner.services.coverage import compute_coverage, find_gaps
from planner.settings import Config, load_config
from planner.store.core import Store
from tests.actions import import_file
from tests.factories import make_id

TODAY = date(2026, 11, 1)
# three villages of 溪口镇 on a line, ~1 km apart
A, B, C = "330213100001", "330213100003", "330213100004"  # 武岭社区, 畸山居委会, 班溪居委会
POINTS = {A: (121.240, 29.670), B: (121.250, 29.670), C: (121.260, 29.670)}


def toy_network() -> RoadNetwork:
    """A↔B 10 min, B↔C 15 min (C→B one-way slower: 20 min), plus a far node D."""
    lon = [POINTS[A][0], POINTS[B][0], POINTS[C][0], 121.9]
    lat = [POINTS[A][1], POINTS[B][1], POINTS[C][1], 29.9]
    u = [0, 1, 1, 2, 3]
    v = [1, 0, 2, 1, 3]
    minutes = np.array([10, 10, 15, 20, 1], dtype=float)
    return RoadNetwork.from_edges(
        mode="drive", lon=lon, lat=lat, u=u, v=v, seconds=minutes * 60, metres=minutes * 500
    )


@pytest.fixture
def district(store: Store, config: Config, tmp_path: Path) -> Store:
    vfile = tmp_path / "v.csv"
    vfile.write_text(
        "村社代码,经度,纬度\n" + "".join(f"{c},{x},{y}\n" for c, (x, y) in POINTS.items()),
        encoding="utf-8",
    )
    assert import_file(store, "villages", vfile, config=config).rejected == 0
    rows = []
    people = [  # village, category, grade, birth, bedridden
        (A, "智力", "三级", date(1996, 1, 1), ""),
        (A, "智力", "三级", date(1990, 1, 1), ""),
        (A, "精神", "四级", date(1980, 1, 1), ""),
        (B, "智力", "四级", date(1986, 1, 1), ""),
        (B, "智力", "三级", date(1985, 1, 1), ""),
        (C, "精神", "三级", date(1976, 1, 1), ""),
        (C, "智力", "三级", date(1977, 1, 1), "是"),
        (C, "肢体", "一级", date(1950, 1, 1), ""),  # not eligible for 残疾人之家
    ]
    names = {A: "武岭社区", B: "畸山居委会", C: "班溪居委会"}
    for i, (v, cat, grade, birth, bed) in enumerate(people):
        rows.append(f"人{i},{make_id(birth, 2 * i + 1)},{cat},{grade},溪口镇,{names[v]},{bed}\n")
    rfile = tmp_path / "r.csv"
    rfile.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,长期卧床\n" + "".join(rows),
        encoding="utf-8",
    )
    res = import_file(store, "residents", rfile, config=config, today=TODAY)
    assert (res.stored, res.rejected, res.needs_review) == (8, 0, 0)
    ffile = tmp_path / "f.csv"
    ffile.write_text(
        "设施名称,设施类型,镇街,村社,容量,经度,纬度\n"
        f"溪口残疾人之家,残疾人之家,溪口镇,武岭社区,4,{POINTS[A][0]},{POINTS[A][1]}\n",
        encoding="utf-8",
    )
    assert import_file(store, "facilities", ffile, config=config).stored == 1
    return store


def test_capacity_serves_the_nearest_first(district: Store, config: Config) -> None:
    res = compute_coverage(
        district, config=config, networks={"drive": toy_network()}, types=["home"], today=TODAY
    )
    home = res.type("home")
    assert (home.eligible, home.home_service, home.covered, home.covered_within_capacity) == (
        7,
        1,
        6,
        4,
    )
    assert home.coverage_pct == pytest.approx(100.0)
    v = res.villages.set_index("village_code")
    assert v.loc[A, "covered_within_capacity"] == 3 and v.loc[B, "covered_within_capacity"] == 1
    assert v.loc[C, "covered"] == 1 and v.loc[C, "covered_within_capacity"] == 0
    assert v.loc[C, "home_service"] == 1
    minutes = res.residents.groupby("village_code")["minutes"].first()
    # travel is TO the facility: from C the one-way-slower C→B leg (20) + B→A (10)
    assert minutes[A] == 0.0 and minutes[B] == 10.0 and minutes[C] == 30.0
    assert int(res.facilities["load"].sum()) == 4


def test_threshold_and_village_sums(district: Store, tmp_path: Path) -> None:
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text("[facility_types.home]\nthreshold_min = 25.0\n", encoding="utf-8")
    cfg = load_config(cfg_file)
    res = compute_coverage(
        district, config=cfg, networks={"drive": toy_network()}, types=["home"], today=TODAY
    )
    home = res.type("home")
    assert (home.covered, home.covered_within_capacity) == (5, 4)
    assert home.coverage_pct == pytest.approx(100 * 5 / 6, abs=0.01)
    for col in ("eligible", "home_service", "covered", "covered_within_capacity"):
        assert res.villages[col].sum() == getattr(home, col)
        assert res.towns[col].sum() == getattr(home, col)
    out = res.to_json()
    ft = out["facility_types"][0]
    assert {
        "type",
        "eligible",
        "covered",
        "covered_within_capacity",
        "coverage_pct",
        "threshold_min",
        "mode",
    } <= set(ft)
    assert ft["threshold_min"] == 25.0 and ft["mode"] == "drive"


def test_accessibility_index_by_hand(district: Store, config: Config) -> None:
    """E2SFCA with bands 0–10 (1.0), 10–20 (0.68), 20–30 (0.22) of the 30-min threshold.

    Travellers: A 3 (0 min), B 2 (10 min, band 1), C 1 (30 min, band 3).
    R = 4 / (3·1 + 2·1 + 1·0.22) = 4 / 5.22; A_i = R·w_i; per 1,000 persons.
    """
    res = compute_coverage(
        district, config=config, networks={"drive": toy_network()}, types=["home"], today=TODAY
    )
    acc = res.villages.set_index("village_code")["accessibility"]
    r = 4 / 5.22
    assert acc[A] == pytest.approx(1000 * r, rel=1e-3)
    assert acc[B] == pytest.approx(1000 * r, rel=1e-3)
    assert acc[C] == pytest.approx(1000 * r * 0.22, rel=1e-3)


def test_indicators_and_admin_coverage(district: Store, config: Config) -> None:
    res = compute_coverage(
        district, config=config, networks={"drive": toy_network()}, types=["home"], today=TODAY
    )
    ind = {i.key: i for i in (*res.indicators, *res.policy_checks)}
    assert ind["home_town"].value_pct == pytest.approx(100 / 12, abs=0.01)  # 1 of 12 towns
    assert ind["home_town"].met is False
    assert ind["home"].value_pct == pytest.approx(100 / 12, abs=0.01)  # the town reading
    assert ind["family_doctor"].value_pct is None and ind["family_doctor"].met is None
    towns = res.towns.set_index("town_code")
    assert bool(towns.loc["330213100", "has_home"]) and not bool(towns.loc["330213001", "has_home"])


def test_village_catchment_type(district: Store, config: Config, tmp_path: Path) -> None:
    f = tmp_path / "f.csv"
    f.write_text(
        "设施名称,设施类型,镇街,村社\n班溪无障碍社区,无障碍社区,溪口镇,班溪居委会\n",
        encoding="utf-8",
    )
    import_file(district, "facilities", f, config=config)
    res = compute_coverage(
        district, config=config, networks={}, types=["accessible_community"], today=TODAY
    )
    t = res.type("accessible_community")
    assert (t.eligible, t.covered) == (1, 1)  # the grade-1 physical person in 班溪


def test_missing_network_is_a_config_error(district: Store, config: Config) -> None:
    with pytest.raises(ConfigError, match="drive"):
        compute_coverage(district, config=config, networks={}, types=["home"], today=TODAY)
    with pytest.raises(ConfigError, match="未知的设施类型"):
        compute_coverage(district, config=config, networks={}, types=["nope"], today=TODAY)


def test_gaps_rank_villages(district: Store, config: Config) -> None:
    res = compute_coverage(
        district, config=config, networks={"drive": toy_network()}, types=["home"], today=TODAY
    )
    gaps = find_gaps(district, config=config, result=res)
    cov = gaps.coverage
    assert cov["village_code"].tolist() == [B, C] and cov["unmet"].tolist() == [1, 1]
    pol = gaps.policy.set_index("village_code")
    # the grade-1 person in C has no care subsidy recorded; nobody has a visit date
    assert pol.loc[C, "severe_without_care"] == 1
    assert pol.loc[A, "visits_overdue"] == 3
    assert gaps.policy.iloc[0]["village_code"] == C
