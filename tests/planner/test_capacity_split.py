"""Who gets the places, on a hand-built district: the nearest-first split by hand, the
gaps it leaves (within reach without a place / out of reach), and the same figures
whatever order the registers were imported in."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.gazetteer import load_fenghua
from geo.graph import RoadNetwork
from planner.coverage.nearest_first import RULE_ZH
from planner.coverage.result import CoverageResult
from planner.services.coverage import GapsResult, compute_coverage, find_gaps
from planner.settings import Config
from planner.store.core import Store, init_store
from planner.store.frames import residents_frame
from tests.actions import import_file
from tests.factories import make_id

TODAY = date(2026, 11, 1)
# six villages of 溪口镇: V1–V4 on a line, V5 off it between V1 and V4, V6 far away
V = {
    "V1": ("330213100001", "武岭社区", (121.240, 29.670)),
    "V2": ("330213100002", "茗山社区", (121.250, 29.670)),
    "V3": ("330213100003", "畸山居委会", (121.260, 29.670)),
    "V4": ("330213100004", "班溪居委会", (121.270, 29.670)),
    "V5": ("330213100005", "剡溪社区", (121.255, 29.700)),
    "V6": ("330213100006", "中山社区", (121.900, 29.900)),
}
CODE = {k: v[0] for k, v in V.items()}
# residents: village, birth date, sequence number (their ID numbers order them)
PEOPLE = [
    ("V1", date(1991, 1, 1), 11),
    ("V1", date(1992, 1, 1), 13),
    ("V2", date(1990, 1, 1), 15),  # the larger ID number of V2, imported first
    ("V2", date(1985, 1, 1), 17),  # the smaller one: gets V2's only place
    ("V3", date(1993, 1, 1), 19),
    ("V4", date(1994, 1, 1), 21),
    ("V5", date(1995, 1, 1), 23),
    ("V6", date(1996, 1, 1), 25),
]
# two homes: FH-B at V1 with 3 places (imported first), FH-A at V4 with 2
HOMES = [
    ("FH-B", "武岭残疾人之家", "V1", 3),
    ("FH-A", "班溪残疾人之家", "V4", 2),
]


def network() -> RoadNetwork:
    """V1–V2–V3–V4 10 min apart, V5 5 min from V1 and from V4, V6 40 min from V1
    (both directions)."""
    pts = [V[k][2] for k in ("V1", "V2", "V3", "V4", "V5", "V6")]
    edges = [(0, 1, 10), (1, 2, 10), (2, 3, 10), (4, 0, 5), (4, 3, 5), (5, 0, 40)]
    u = [a for a, b, _ in edges] + [b for a, b, _ in edges]
    v = [b for a, b, _ in edges] + [a for a, b, _ in edges]
    minutes = np.array([m for *_, m in edges] * 2, dtype=float)
    return RoadNetwork.from_edges(
        mode="drive",
        lon=[p[0] for p in pts],
        lat=[p[1] for p in pts],
        u=u,
        v=v,
        seconds=minutes * 60,
        metres=minutes * 500,
    )


def build(store: Store, config: Config, tmp: Path, *, shuffle: int | None) -> Store:
    """Import villages, residents and homes; with ``shuffle`` (a seed) every file's rows
    come in another order, so every database id differs."""
    tmp.mkdir(parents=True, exist_ok=True)
    rng = random.Random(shuffle)

    def rows(items: list[str]) -> str:
        items = list(items)
        if shuffle is not None:
            rng.shuffle(items)
        return "".join(items)

    vfile, rfile, ffile = tmp / "v.csv", tmp / "r.csv", tmp / "f.csv"
    vfile.write_text(
        "村社代码,经度,纬度\n" + rows([f"{c},{x},{y}\n" for c, _, (x, y) in V.values()]),
        encoding="utf-8",
    )
    assert import_file(store, "villages", vfile, config=config).rejected == 0
    rfile.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"
        + rows(
            [
                f"人{seq},{make_id(birth, seq)},智力,三级,溪口镇,{V[k][1]}\n"
                for k, birth, seq in PEOPLE
            ]
        ),
        encoding="utf-8",
    )
    res = import_file(store, "residents", rfile, config=config, today=TODAY)
    assert (res.stored, res.rejected, res.needs_review) == (len(PEOPLE), 0, 0)
    ffile.write_text(
        "设施编号,设施名称,设施类型,镇街,村社,容量,经度,纬度\n"
        + rows(
            [
                f"{key},{name},残疾人之家,溪口镇,{V[k][1]},{cap},{V[k][2][0]},{V[k][2][1]}\n"
                for key, name, k, cap in HOMES
            ]
        ),
        encoding="utf-8",
    )
    assert import_file(store, "facilities", ffile, config=config).stored == len(HOMES)
    return store


@pytest.fixture
def district(store: Store, config: Config, tmp_path: Path) -> Store:
    return build(store, config, tmp_path / "files", shuffle=None)


@pytest.fixture
def reshuffled(tmp_path: Path, config: Config) -> Iterator[Store]:
    """The same district imported from files whose rows come in another order."""
    other = init_store(f"sqlite:///{tmp_path / 'other.db'}", gazetteer=load_fenghua())
    yield build(other, config, tmp_path / "shuffled", shuffle=7)
    other.dispose()


def run(store: Store, config: Config) -> GapsResult:
    res = compute_coverage(
        store, config=config, networks={"drive": network()}, types=["home"], today=TODAY
    )
    return GapsResult(gaps=find_gaps(store, config=config, result=res), coverage=res)


def per_village(res: CoverageResult) -> dict[str, int]:
    v = res.villages.set_index("village_code")["covered_within_capacity"]
    return {k: int(v[c]) for k, c in CODE.items()}


def per_site(res: CoverageResult) -> pd.DataFrame:
    cols = ["key", "capacity", "load", "free", "nearest"]
    return res.facilities[cols].sort_values("key").reset_index(drop=True)


def test_the_places_by_hand(district: Store, config: Config) -> None:
    """Minutes: V1 0 to FH-B, V4 0 to FH-A, V5 5 to both, V2 10 to FH-B, V3 10 to FH-A,
    V2/V3 20 to the other, V1/V4 10 to the other (via V5), V6 40 (out of reach).

    0 min: V1's two take FH-B (1 left), V4's one FH-A (1 left). 5 min: V5 reaches
    both; FH-A's code comes first, so V5 takes FH-A's last place. 10 min: V2's two
    want FH-B's last place: the smaller ID number gets it; V3 finds FH-A full.
    Later pairs find both full. 5 places, 5 served: the maximum."""
    res = run(district, config).coverage
    home = res.type("home")
    assert (home.eligible, home.covered, home.covered_within_capacity) == (8, 7, 5)
    assert home.nearest_first_skipped == 0
    assert per_village(res) == {"V1": 2, "V2": 1, "V3": 0, "V4": 1, "V5": 1, "V6": 0}
    sites = per_site(res)
    assert sites["key"].tolist() == ["FH-A", "FH-B"]
    assert sites["load"].tolist() == [2, 3] and sites["free"].tolist() == [0, 0]
    # nearest: FH-B for V1 and V2 (4), FH-A for V3, V4 and V5 (on the tie, by code)
    assert sites["nearest"].tolist() == [3, 4]
    # in V2 the place goes to the smaller ID number, though imported second
    ids = residents_frame(district, personal=True)["id_number"]
    v2 = res.residents[res.residents["village_code"] == CODE["V2"]]
    placed = {
        ids[r]: bool(w) for r, w in zip(v2["resident_id"], v2["within_capacity"], strict=True)
    }
    assert placed == {make_id(date(1985, 1, 1), 17): True, make_id(date(1990, 1, 1), 15): False}
    by_key = dict(zip(res.facilities["id"], res.facilities["key"], strict=True))
    assigned = res.residents.set_index("village_code")["assigned_facility_id"]
    assert by_key[int(assigned[CODE["V5"]])] == "FH-A"
    assert res.to_json()["assignment_rule"] == RULE_ZH


def test_gaps_within_reach_and_out_of_reach(district: Store, config: Config) -> None:
    found = run(district, config)
    gaps = found.gaps.coverage
    assert gaps["village_code"].tolist() == [CODE["V2"], CODE["V3"], CODE["V6"]]
    assert gaps["unmet"].tolist() == [1, 1, 1]
    assert gaps["in_reach_no_place"].tolist() == [1, 1, 0]
    assert gaps["out_of_reach"].tolist() == [0, 0, 1]
    assert (gaps["in_reach_no_place"] + gaps["out_of_reach"] == gaps["unmet"]).all()
    doc = found.to_json()
    assert doc["assignment_rule"] == RULE_ZH
    row = doc["coverage_gaps"][2]
    assert (row["village_code"], row["in_reach_no_place"], row["out_of_reach"]) == (
        CODE["V6"],
        0,
        1,
    )


def test_the_same_figures_whatever_the_import_order(
    district: Store, reshuffled: Store, config: Config
) -> None:
    a, b = run(district, config), run(reshuffled, config)
    # the ids differ, the figures do not
    assert sorted(a.coverage.facilities["id"]) == sorted(b.coverage.facilities["id"])
    assert a.coverage.facilities["key"].tolist() != b.coverage.facilities["key"].tolist()
    pd.testing.assert_frame_equal(a.coverage.villages, b.coverage.villages)
    pd.testing.assert_frame_equal(a.coverage.towns, b.coverage.towns)
    pd.testing.assert_frame_equal(per_site(a.coverage), per_site(b.coverage))
    pd.testing.assert_frame_equal(a.gaps.coverage, b.gaps.coverage)
    pd.testing.assert_frame_equal(a.gaps.policy, b.gaps.policy)
    assert [t.to_json() for t in a.coverage.types] == [t.to_json() for t in b.coverage.types]
