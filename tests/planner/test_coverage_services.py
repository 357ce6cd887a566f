"""The application layer of networks, travel time, coverage and gaps on the toy district
(tests/toy_district.py: hand-computable drive times, points off the network)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from planner.errors import InputError, NetworkCoverageError
from planner.networks import NETWORK_META_KEY, NetworkCache
from planner.services import (
    CoverageOptions,
    GapsOptions,
    NetworkBuildOptions,
    TravelTimeOptions,
    build_networks,
    coverage,
    gaps,
    travel_time,
)
from planner.settings import Config, get_settings, load_config
from planner.store.core import Store
from tests import toy_district as toy


@dataclass
class Toy:
    store: Store
    config: Config
    files: dict[str, Path]


@pytest.fixture
def district(tmp_path: Path) -> Iterator[Toy]:
    files = toy.write_inputs(tmp_path / "in")
    store = toy.build_store(f"sqlite:///{tmp_path / 'toy.db'}", files)
    yield Toy(store=store, config=load_config(files["config"]), files=files)
    store.dispose()


def test_build_checks_the_points_and_registers_the_file(district: Toy) -> None:
    cache = NetworkCache()
    options = NetworkBuildOptions(file=district.files["roads"], modes=("drive",))
    result = build_networks(district.store, config=district.config, options=options, networks=cache)
    assert result.recorded == district.files["roads"].resolve()
    assert district.store.get_meta(NETWORK_META_KEY) == str(district.files["roads"].resolve())
    [drive] = result.modes
    assert (drive.mode, drive.build.nodes) == ("drive", 5)
    # 6 located villages, 剡溪 2,001 m away; two facilities, the station 2.2 km away
    assert (drive.villages.located, drive.villages.within) == (6, 5)
    doc = result.to_json()
    assert set(doc) == {"drive", "off_network", "not_located"}
    assert doc["drive"]["snap"]["facilities"] == {
        "points": 2,
        "flagged": 1,
        "max_m": pytest.approx(toy.haversine(*toy.PSYCH_AT, toy.NODES[1], toy.LAT), abs=0.1),
    }
    kinds = [
        (e["kind"], e.get("code") or e.get("id") or e.get("village_code"))
        for e in doc["off_network"]
    ]
    assert kinds[0] == ("village", toy.V_SHANXI)
    assert ("resident", toy.V_JISHAN) in kinds  # 辛's own point, 1,113 m from the road
    assert doc["not_located"] == [
        {"kind": "village", "code": toy.V_NOWHERE, "name": "溪口一村委会"}
    ]


def test_a_file_of_another_place_is_refused_and_not_registered(district: Toy) -> None:
    options = NetworkBuildOptions(file=district.files["elsewhere"], modes=("drive",))
    with pytest.raises(NetworkCoverageError, match="min_village_share"):
        build_networks(district.store, config=district.config, options=options)
    assert district.store.get_meta(NETWORK_META_KEY) is None


def test_coverage_and_gaps_reuse_the_networks_of_the_process(district: Toy) -> None:
    cache = NetworkCache()
    build = NetworkBuildOptions(file=district.files["roads"], modes=("drive",))
    build_networks(district.store, config=district.config, options=build, networks=cache)
    shutil.rmtree(get_settings().data_dir / "cache")  # only the memory can serve now
    options = CoverageOptions(types=("home",), today=toy.TODAY)
    result = coverage(district.store, config=district.config, options=options, networks=cache)
    assert (cache.hits, cache.misses) == (1, 1)
    home = result.type("home")
    # covered: 丙 丁 (武岭), 戊 (班溪), 己 (own point at n5); off: 甲 乙 (剡溪), 辛; 庚 not located
    assert (home.eligible, home.covered, home.off_network, home.not_located) == (8, 4, 3, 1)
    assert home.coverage_pct == 50.0
    assert result.village_geometry is not None and len(result.village_geometry) == 7
    assert len(result.isochrones) == 0  # not asked for

    found = gaps(
        district.store,
        config=district.config,
        options=GapsOptions(types=("home",), today=toy.TODAY),
        networks=cache,
    )
    assert cache.hits == 2
    unmet = found.gaps.coverage.set_index("village_code")
    assert unmet.loc[toy.V_SHANXI, "unmet"] == 2 and unmet.loc[toy.V_SHANXI, "off_network"] == 2
    assert unmet.loc[toy.V_NOWHERE, "not_located"] == 1
    # nobody has a visit date: 0.2 points per resident ([gaps] weights), ties by code
    policy = found.gaps.policy
    assert policy["village_code"].tolist()[:2] == [toy.V_WULING, toy.V_SHANXI]
    assert policy["score"].tolist() == [0.4, 0.4, 0.2, 0.2, 0.2, 0.2, 0.0]
    assert found.to_json(top=1)["policy_gaps"][0]["visits_overdue"] == 2


def test_travel_time_by_hand_and_refusal_off_the_network(district: Toy) -> None:
    build = NetworkBuildOptions(file=district.files["roads"], modes=("drive",))
    build_networks(district.store, config=district.config, options=build)
    trip = TravelTimeOptions(origin=(toy.NODES[2], toy.LAT), destination=(toy.NODES[5], toy.LAT))
    res = travel_time(district.store, config=district.config, options=trip)
    assert res.minutes == pytest.approx(toy.drive_min(2, 5), abs=0.01)
    assert res.to_json()["off_network"] == []
    far = TravelTimeOptions(origin=toy.POINTS[toy.V_SHANXI], destination=(toy.NODES[5], toy.LAT))
    with pytest.raises(NetworkCoverageError, match="起点距路网 2002 米"):
        travel_time(district.store, config=district.config, options=far)
    anyway = TravelTimeOptions(
        origin=toy.POINTS[toy.V_SHANXI], destination=(toy.NODES[5], toy.LAT), snap_any=True
    )
    res = travel_time(district.store, config=district.config, options=anyway)
    assert res.minutes == pytest.approx(toy.drive_min(3, 5), abs=0.01)
    assert [(e["id"], e["name"]) for e in res.to_json()["off_network"]] == [("from", "起点")]


def test_options_refuse_what_no_command_could_mean() -> None:
    with pytest.raises(InputError, match="--type"):
        CoverageOptions(types=("home", " "))
    with pytest.raises(InputError, match="--mode"):
        NetworkBuildOptions(modes=("bike",))
    with pytest.raises(InputError, match="--mode"):
        NetworkBuildOptions(modes=())
    with pytest.raises(InputError, match="--mode"):
        TravelTimeOptions(origin=(121.0, 29.0), destination=(121.1, 29.0), mode="bike")
    assert CoverageOptions(types=()).type_list() is None
    assert CoverageOptions(types=["home"]).types == ("home",)  # type: ignore[arg-type]


def test_out_files_keep_their_layers_and_headers(district: Toy, tmp_path: Path) -> None:
    import pyogrio

    from planner.reports.coverage import write_coverage

    build = NetworkBuildOptions(file=district.files["roads"], modes=("drive",))
    build_networks(district.store, config=district.config, options=build)
    # no 儿童康复中心 in the toy district: its facilities layer is empty but written
    options = CoverageOptions(types=("child_rehab",), today=toy.TODAY, isochrones=True)
    result = coverage(district.store, config=district.config, options=options)
    files = write_coverage(result, out_dir=tmp_path / "out" / "cov")
    assert [name for name, _ in pyogrio.list_layers(files.geopackage)] == [
        "villages",
        "facilities",
    ]
    assert files.paths()[1:] == [
        str(tmp_path / "out" / "cov" / f)
        for f in (
            "coverage_types.csv",
            "coverage_villages.csv",
            "coverage_towns.csv",
            "indicators.csv",
            "coverage_facilities.csv",
        )
    ]
    # the note stating the capacity rule, then the header
    note, head = (tmp_path / "out" / "cov" / "coverage_villages.csv").read_bytes().split(b"\n")[:2]
    assert note.startswith("\ufeff# 容量内分配规则（就近优先）".encode())
    assert head.decode().startswith("村社代码,村社,镇街代码,镇街,设施类型代码,符合条件人数")
