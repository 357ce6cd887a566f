"""The leader's what-if on hand-built districts: every click equals a full coverage run.

The toy: five villages of 溪口镇 on a road (nodes at their points), drive minutes
V1–V2 10, V2–V3 15, V3–V4 10, V4–V5 25 (both ways); 残疾人之家 threshold 30 min;
one home at V1 with 4 places. Eligible travellers: V1 3, V2 2, V3 2, V4 1, V5 2,
plus one bedridden at V5 (home service).
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from geo.graph import RoadNetwork
from planner.coverage.engine import coverage_from_frames
from planner.errors import InputError
from planner.services.whatif import Change, WhatIf, WhatIfOptions, open_whatif
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import facilities_frame, residents_frame, villages_frame
from tests.actions import import_file
from tests.factories import make_id

TODAY = date(2026, 11, 1)
TOWN = "330213100"
V = [f"{TOWN}00{i}" for i in range(1, 6)]  # 武岭, 茗山, 畸山, 班溪, 剡溪 (gazetteer codes)
LAT = 29.67
LON = [121.24, 121.25, 121.26, 121.27, 121.28]
LEGS = [10, 15, 10, 25]  # minutes between consecutive villages
TRAVELLERS = [3, 2, 2, 1, 2]


def line_network(legs: list[float], lon: list[float]) -> RoadNetwork:
    """Nodes at the villages' points, consecutive ones joined both ways (``legs`` minutes)."""
    n = len(lon)
    u = [a for i in range(n - 1) for a in (i, i + 1)]
    v = [b for i in range(n - 1) for b in (i + 1, i)]
    minutes = np.repeat(np.asarray(legs, dtype=float), 2)
    return RoadNetwork.from_edges(
        mode="drive", lon=lon, lat=[LAT] * n, u=u, v=v, seconds=minutes * 60, metres=minutes * 500
    )


def _import(
    store: Store,
    config: Config,
    tmp_path: Path,
    *,
    people: list[tuple[int, bool]],
    homes: list[tuple[int, int]],
    lon: list[float],
) -> None:
    """Villages ``V[:len(lon)]`` at ``lon``; ``people``: (village index, bedridden);
    ``homes``: (village index, places)."""
    vfile = tmp_path / "v.csv"
    vfile.write_text(
        "村社代码,经度,纬度\n" + "".join(f"{V[i]},{x},{LAT}\n" for i, x in enumerate(lon)),
        encoding="utf-8",
    )
    assert import_file(store, "villages", vfile, config=config).rejected == 0
    rows = [
        f"人{k},{make_id(date(1980 + k % 20, 1, 1), 2 * k + 1)},智力,三级,溪口镇,,{V[i]},"
        f"{'是' if bed else ''}\n"
        for k, (i, bed) in enumerate(people)
    ]
    rfile = tmp_path / "r.csv"
    rfile.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,村社代码,长期卧床\n"
        + "".join(rows),
        encoding="utf-8",
    )
    res = import_file(store, "residents", rfile, config=config, today=TODAY)
    assert (res.stored, res.rejected) == (len(people), 0), res.to_json()
    ffile = tmp_path / "f.csv"
    ffile.write_text(
        "设施名称,设施类型,镇街,村社代码,容量,经度,纬度\n"
        + "".join(
            f"之家{k},残疾人之家,溪口镇,{V[i]},{places},{lon[i]},{LAT}\n"
            for k, (i, places) in enumerate(homes)
        ),
        encoding="utf-8",
    )
    assert import_file(store, "facilities", ffile, config=config).stored == len(homes)


@pytest.fixture
def toy(store: Store, config: Config, tmp_path: Path) -> WhatIf:
    people = [(i, False) for i, n in enumerate(TRAVELLERS) for _ in range(n)] + [(4, True)]
    _import(store, config, tmp_path, people=people, homes=[(0, 4)], lon=LON)
    return open_whatif(
        store,
        config=config,
        options=WhatIfOptions("home", today=TODAY),
        networks={"drive": line_network(LEGS, LON)},
    )


def full_recompute(store: Store, config: Config, wi: WhatIf, network: RoadNetwork) -> None:
    """The coverage engine on the what-if's facilities equals the what-if's figures."""
    fac = wi.facilities_now(facilities_frame(store))
    res = coverage_from_frames(
        residents_frame(store),
        villages_frame(store),
        fac,
        config=config,
        networks={"drive": network},
        types=["home"],
        today=TODAY,
        isochrones=False,
    )
    fig = wi.figures()
    tc = res.type("home")
    assert (fig.totals.in_reach, fig.totals.within_capacity) == (
        tc.covered,
        tc.covered_within_capacity,
    )
    assert (fig.totals.eligible, fig.totals.home_service) == (tc.eligible, tc.home_service)
    v = res.villages.set_index("village_code")
    for row in fig.villages:
        if row.code not in v.index:
            assert row.eligible == 0
            continue
        got = (row.served, row.served + row.in_reach_no_place, row.eligible, row.home_service)
        want = v.loc[row.code, ["covered_within_capacity", "covered", "eligible", "home_service"]]
        assert got == tuple(int(x) for x in want), row
    loads = res.facilities.set_index("key")
    for site in fig.sites:
        if site.is_closed:
            assert site.code not in loads.index
            continue
        assert (site.assigned, site.demand) == (
            int(loads.loc[site.code, "load"]),
            int(loads.loc[site.code, "nearest"]),
        ), site


def split(wi: WhatIf) -> dict[str, tuple[int, int, int]]:
    """Village → (served, in reach but no place, out of reach), villages with persons."""
    return {
        r.code: (r.served, r.in_reach_no_place, r.out_of_reach)
        for r in wi.figures().villages
        if r.eligible
    }


def test_base_and_changes_by_hand(toy: WhatIf, store: Store, config: Config) -> None:
    net = line_network(LEGS, LON)
    f = toy.figures()
    # V1 0, V2 10, V3 25 min from the home; V4 35 and V5 60 are out of reach
    assert (f.totals.eligible, f.totals.home_service, f.totals.in_reach) == (11, 1, 7)
    # 4 places: V1's three (0 min), then one of V2 (10 min, the smaller ID number)
    assert f.totals.within_capacity == 4
    assert split(toy) == {
        V[0]: (3, 0, 0),
        V[1]: (1, 1, 0),
        V[2]: (0, 2, 0),
        V[3]: (0, 0, 1),
        V[4]: (0, 0, 2),
    }
    (home,) = f.sites
    assert (home.places, home.demand, home.assigned, home.status) == (4, 7, 4, "shortage")
    full_recompute(store, config, toy, net)
    doc = json.loads(json.dumps(f.to_json(), ensure_ascii=False))
    assert doc["totals"]["within_capacity"] == 4 and doc["sites"][0]["status"] == "shortage"
    cands = {c.code: (c.kind, c.status) for c in toy.candidates()}
    assert cands == {
        home.code: ("facility", "existing"),
        **{code: ("village", "closed") for code in V[1:]},
    }
    # a new home at V4 (40 places): V3 (10 min), V5 (25), V4 itself; V2's second person
    # reaches it in 25 min
    f = toy.apply(Change("add", V[3]))
    assert (f.totals.in_reach, f.totals.within_capacity) == (10, 10)
    assert f.totals.coverage_pct == 100.0 and f.totals.capacity_pct == 100.0
    new = next(s for s in f.sites if s.code == V[3])
    assert (new.is_new, new.places, new.demand, new.assigned, new.status) == (
        True,
        40,
        5,
        6,
        "spare",
    )
    full_recompute(store, config, toy, net)
    # close the old home: V1 is 35 min from V4, out of reach
    f = toy.apply(Change("remove", home.code))
    assert (f.totals.in_reach, f.totals.within_capacity) == (7, 7)
    assert split(toy)[V[0]] == (0, 0, 3)
    full_recompute(store, config, toy, net)
    # the new home down to 3 places: V4 itself, then V3's two (10 min)
    f = toy.apply(Change("upgrade", V[3], places=50))
    full_recompute(store, config, toy, net)
    assert [c.action for c in f.changes] == ["add", "remove", "upgrade"]
    assert f.cost == config.facility_types["home"].siting.build_cost + (
        config.facility_types["home"].siting.upgrade_cost or 0
    )


def test_undo_and_reset_return_to_the_base(toy: WhatIf) -> None:
    base = toy.figures()
    toy.apply(Change("add", V[2], places=1))
    toy.apply(Change("upgrade", V[2], places=2))
    toy.apply(Change("remove", toy.figures().sites[0].code))
    toy.undo()
    toy.undo()
    toy.undo()
    again = toy.figures()
    assert replace(again, server_ms=0.0) == replace(base, server_ms=0.0)
    assert toy.changes == []
    toy.apply(Change("add", V[4]))
    other = toy.copy()
    other.apply(Change("add", V[2]))
    assert len(toy.changes) == 1 and len(other.changes) == 2
    toy.reset()
    assert replace(toy.figures(), server_ms=0.0) == replace(base, server_ms=0.0)


def _engine_home(store: Store, config: Config, wi: WhatIf) -> tuple[float, float, float]:
    """The engine's 残疾人之家覆盖率 (town reading, people reading) and home-in-every-town."""
    res = coverage_from_frames(
        residents_frame(store),
        villages_frame(store),
        wi.facilities_now(facilities_frame(store)),
        config=config,
        networks={"drive": line_network(LEGS, LON)},
        types=["home"],
        today=TODAY,
        isochrones=False,
    )
    home = next(i for i in res.indicators if i.key == "home")
    readings = {r.key: r.figure.value for r in home.readings}
    town = next(i for i in res.policy_checks if i.key == "home_town")
    return readings["town"], readings["people"], town.figure.value


def test_home_indicators_equal_the_engine(store: Store, config: Config, tmp_path: Path) -> None:
    people = [(i, False) for i in range(5)]
    _import(store, config, tmp_path, people=people, homes=[(0, 4)], lon=LON)
    wi = open_whatif(
        store,
        config=config,
        options=WhatIfOptions("home", today=TODAY),
        networks={"drive": line_network(LEGS, LON)},
    )
    ind = {i.key: i for i in wi.figures().indicators}
    assert (ind["home"].after, ind["home_people"].after, ind["home_town"].after) == _engine_home(
        store, config, wi
    )
    # one town of 奉化's twelve has a home
    assert ind["home"].after == round(100 / 12, 2) and ind["home"].met_after is False
    assert ind["home"].target == "≥90%"
    home_code = wi.figures().sites[0].code
    ind = {i.key: i for i in wi.apply(Change("remove", home_code)).indicators}
    assert (ind["home"].after, ind["home_people"].after, ind["home_town"].after) == _engine_home(
        store, config, wi
    )
    assert (ind["home"].before, ind["home"].after, ind["home_coverage"].after) == (
        round(100 / 12, 2),
        0.0,
        0.0,
    )


def _brute_force(wi: WhatIf) -> list[tuple[str, str, int, int]]:
    """Every next decision applied to a copy: (action, site, gain within, gain in reach),
    ranked as the siting tie-break (gain, reach, minutes, site order: existing by code,
    then candidates by code)."""
    base_ev = wi.evaluation()
    out = []
    sites = wi.built.sites
    up = wi.ft.siting
    for j, code in enumerate(sites["code"]):
        trial = wi.copy()
        if trial.evaluation() is not base_ev:
            raise AssertionError
        is_open = bool(trial._state.is_open[j])
        if is_open and up.upgrade_cost is not None:
            places = int(trial._state.places[j]) + up.upgrade_capacity
            change = Change("upgrade", code, places)
        elif not is_open and not bool(sites.at[j, "existing"]):
            change = Change("add", code)
        else:
            continue
        trial.apply(change)
        ev = trial.evaluation()
        gain = ev.within_capacity - base_ev.within_capacity
        reach = ev.in_reach - base_ev.in_reach
        out.append((-gain, -reach, ev.minutes - base_ev.minutes, j, change))
    out.sort(key=lambda t: t[:4])
    return [(c.action, c.site, -g, -r) for g, r, _, _, c in out if g < 0 or r < 0]


def test_suggest_next_equals_brute_force(toy: WhatIf) -> None:
    for step in range(3):
        got = [
            (s.change.action, s.change.site, s.gain_within_capacity, s.gain_in_reach)
            for s in toy.suggest_next(k=3)
        ]
        assert got == _brute_force(toy)[:3], step
        if not got:
            break
        toy.apply(toy.suggest_next(k=1)[0].change)
    # the first suggestion at the base: V4 (reaches V3, V4, V5 and V2's second person)
    toy.reset()
    best = toy.suggest_next(k=1)[0]
    assert (best.change, best.gain_within_capacity, best.gain_in_reach) == (
        Change("add", V[3]),
        6,
        3,
    )


def test_best_within_budget(toy: WhatIf, config: Config) -> None:
    costs = config.facility_types["home"].siting
    one_site = costs.build_cost
    picks = toy.best_within_budget(budget=one_site)
    total = sum(toy.cost(c) or 0.0 for c in picks)
    assert total <= one_site
    assert picks and toy.figures().changes == ()  # not applied
    for c in picks:
        toy.apply(c)
    assert toy.figures().totals.within_capacity > 4
    toy.reset()
    assert toy.best_within_budget(budget=0.0) == []
    two = toy.best_within_budget(sites=2)
    assert len(two) <= 2
    assert two[0] == toy.suggest_next(k=1)[0].change
    with pytest.raises(InputError, match="预算"):
        toy.best_within_budget()


def test_bad_changes_are_chinese_input_errors(toy: WhatIf) -> None:
    home = toy.figures().sites[0].code
    with pytest.raises(InputError, match="未知的站点「X9」"):
        toy.apply(Change("add", "X9"))
    with pytest.raises(InputError, match="已经开放"):
        toy.apply(Change("add", home))
    toy.apply(Change("remove", home))
    with pytest.raises(InputError, match="不能重复关闭"):
        toy.apply(Change("remove", home))
    with pytest.raises(InputError, match="未开放"):
        toy.apply(Change("upgrade", home, places=9))
    with pytest.raises(InputError, match="至少为 1"):
        Change("add", V[1], places=0)
    with pytest.raises(InputError, match="未知的操作"):
        Change("move", V[1])  # type: ignore[arg-type]
    toy.apply(Change("add", home))
    with pytest.raises(InputError, match="须多于此数"):
        toy.apply(Change("upgrade", home, places=4))
    assert [c.action for c in toy.changes] == ["remove", "add"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_clicks_equal_the_engine(
    seed: int, store: Store, config: Config, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    n = 5
    legs = [rng.choice([5, 10, 15, 20]) for _ in range(n - 1)]
    people = [(rng.randrange(n), rng.random() < 0.1) for _ in range(rng.randint(8, 20))]
    homes = [(i, rng.randint(1, 4)) for i in rng.sample(range(n), 2)]
    _import(store, config, tmp_path, people=people, homes=homes, lon=LON[:n])
    net = line_network(legs, LON[:n])
    wi = open_whatif(
        store, config=config, options=WhatIfOptions("home", today=TODAY), networks={"drive": net}
    )
    full_recompute(store, config, wi, net)
    codes = [c.code for c in wi.candidates()]
    for _ in range(12):
        status = {c.code: c.status for c in wi.candidates()}
        code = rng.choice(codes)
        if status[code] == "closed":
            change = Change("add", code, places=rng.randint(1, 3))
        elif rng.random() < 0.5:
            change = Change("remove", code)
        else:
            places = wi.candidates()[codes.index(code)].places or 0
            change = Change("upgrade", code, places=places + 1)
        wi.apply(change)
        full_recompute(store, config, wi, net)
        got = [
            (s.change.action, s.change.site, s.gain_within_capacity, s.gain_in_reach)
            for s in wi.suggest_next(k=2)
        ]
        assert got == _brute_force(wi)[:2]


def test_start_from_a_saved_scenario(store: Store, config: Config, tmp_path: Path) -> None:
    from planner.services.scenarios import save_scenario

    people = [(i, False) for i, n in enumerate(TRAVELLERS) for _ in range(n)]
    _import(store, config, tmp_path, people=people, homes=[(0, 4)], lon=LON)
    selected = [
        {"action": "new", "name": "班溪（新建）", "village_code": V[3], "lon": LON[3], "lat": LAT,
         "places": 2.0},
        {"action": "upgrade", "name": "之家0", "village_code": V[0], "lon": LON[0], "lat": LAT,
         "places": 20.0},
    ]  # fmt: skip
    save_scenario(
        store,
        name="方案甲",
        kind="site",
        inputs={},
        result={"selected": selected},
        metrics={},
        by_town={},
        facility_type="home",
    )
    net = line_network(LEGS, LON)
    wi = open_whatif(
        store,
        config=config,
        options=WhatIfOptions("home", scenario="方案甲", today=TODAY),
        networks={"drive": net},
    )
    f = wi.figures()
    assert f.changes == () and f.before == f.totals
    assert {s.code: s.places for s in f.sites} == {f.sites[0].code: 24, V[3]: 2}
    # 24 places at V1 take V1, V2, V3 (7); V4's 2 places take V4 and one of V5
    assert (f.totals.in_reach, f.totals.within_capacity) == (10, 9)
    full_recompute(store, config, wi, net)
    with pytest.raises(InputError, match="不是精神残疾人社区康复站的选址方案"):
        open_whatif(
            store,
            config=config,
            options=WhatIfOptions("psych_station", scenario="方案甲", today=TODAY),
            networks={"drive": net},
        )
