"""Siting proposals from a store: the toy district of the coverage tests,
with answers worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.errors import InputError
from planner.ingest.candidates import read_candidates
from planner.reports.siting import write_proposal
from planner.services.scenarios import compare_scenarios
from planner.services.siting import site
from planner.settings import Config
from planner.siting import SitingError, SitingOptions
from planner.store.core import Store
from planner.store.scenarios import save_scenario
from tests.planner.test_coverage import POINTS, TODAY, B, C, district, toy_network

__all__ = ["district"]  # the fixture, re-used

# Threshold 12 min on the toy network (A↔B 10, B→C 15, C→B 20, A-C via B).
# Travellers eligible for 残疾人之家: A 3, B 2, C 1 (C's bedridden one is home service).


@pytest.fixture
def cfg(config: Config) -> Config:
    home = config.facility_types["home"].model_copy(update={"threshold_min": 12.0})
    types = {**config.facility_types, "home": home}
    return config.model_copy(update={"facility_types": types})


@pytest.fixture
def small(district: Store) -> Store:
    """The toy district with the home at A holding 3 places."""
    from sqlalchemy import update

    from planner.store import schema as t

    with district.write() as s:
        s.execute(update(t.Facility).values(capacity=3))
    return district


def _propose(store: Store, cfg: Config, **kw: object):  # type: ignore[no-untyped-def]
    options = SitingOptions(facility_type="home", today=TODAY, town_rule=False, **kw)  # type: ignore[arg-type]
    return site(store, config=cfg, options=options, networks={"drive": toy_network()})


def test_capacity_changes_the_best_site(small: Store, cfg: Config) -> None:
    # capacitated: the home at A (3 places) reaches A+B (5 persons); a new home
    # at B (40 places) serves all 5, one at C serves C's 1 and leaves 2 over
    # capacity → B (5 within capacity) beats C (4)
    p = _propose(small, cfg, new=1)
    assert p.result.objective == pytest.approx(5.0)
    assert p.selected["village_code"].tolist() == [B]
    assert p.totals("before").within_capacity == 3
    assert p.totals("after").within_capacity == 5
    # uncapacitated: A already reaches A and B, only C adds anyone → C
    q = _propose(small, cfg, new=1, capacitated=False)
    assert q.selected["village_code"].tolist() == [C]
    assert q.result.objective == pytest.approx(6.0)
    assert q.totals("after").covered == 6


def test_upgrade_beats_building_when_cheaper(small: Store, cfg: Config) -> None:
    # budget 300k: a new home costs 800k, an upgrade of A (+20 places) 200k
    p = _propose(small, cfg, new=1, budget=300_000, upgrade=True)
    assert p.selected["action"].tolist() == ["upgrade"]
    assert p.result.cost == pytest.approx(200_000)
    assert p.totals("after").within_capacity == 5
    assert p.totals("after").capacity == 23


def test_budget_too_small_for_anything(small: Store, cfg: Config) -> None:
    p = _propose(small, cfg, new=1, budget=100_000)
    assert p.selected.empty
    assert p.result.objective == pytest.approx(3.0)


def test_pmedian_and_lscp(small: Store, cfg: Config) -> None:
    pm = _propose(small, cfg, new=1, objective="pmedian", capacitated=False)
    # pairs up to 24 min (2 × threshold): C→A is 30, so C's one person costs
    # the 120-min penalty now. A home at B: B's 2 walk 0, C's 1 drives 20 →
    # 20 person-minutes; at C: B's 2 × 10 + 0 = 20. Either is optimal.
    assert pm.result.objective == pytest.approx(20.0)
    assert pm.selected["village_code"].tolist() in ([B], [C])
    ls = _propose(small, cfg, objective="lscp", capacitated=False, target=1.0)
    assert ls.result.objective == 1 and ls.selected["village_code"].tolist() == [C]


def test_town_rule_without_candidates_names_the_town(district: Store, cfg: Config) -> None:
    with pytest.raises(SitingError, match="--no-town-rule"):
        site(
            district,
            config=cfg,
            options=SitingOptions(facility_type="home", today=TODAY, new=1),
            networks={"drive": toy_network()},
        )


def test_user_candidates_and_errors(small: Store, cfg: Config, tmp_path: Path) -> None:
    f = tmp_path / "cand.csv"
    f.write_text(
        "名称,村社,经度,纬度,建设费用,容量\n"
        f"地块一,{C},,,100000,10\n地块二,,{POINTS[B][0]},{POINTS[B][1]},,\n",
        encoding="utf-8",
    )
    from planner.store.frames import villages_frame

    frame = read_candidates(f, villages=villages_frame(small))
    assert frame["name"].tolist() == ["地块一", "地块二"]
    assert frame.loc[0, "lon"] == pytest.approx(POINTS[C][0])
    p = _propose(small, cfg, new=1, candidates_file=f, budget=150_000)
    assert p.selected["name"].tolist() == ["地块一"]  # the only one within budget
    bad = tmp_path / "bad.csv"
    bad.write_text("名称,村社\n地块,不存在村\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_candidates(bad, villages=villages_frame(small))
    assert err.value.row == 2 and err.value.column == "村社"


def test_scenarios_and_files(small: Store, cfg: Config, tmp_path: Path) -> None:
    one = _propose(small, cfg, new=1)
    two = _propose(small, cfg, new=1, capacitated=False)
    for name, p in (("甲", one), ("乙", two)):
        save_scenario(
            small,
            name=name,
            kind="site",
            inputs=p.inputs,
            result=p.to_json(),
            metrics=p.metrics(),
            by_town=p.by_town(),
            facility_type="home",
        )
    cmp = compare_scenarios(small, ["甲", "乙"])
    row = cmp.metrics.set_index(cmp.metrics.index)
    assert "covered_after" in row.index
    files = write_proposal(one, tmp_path / "out")
    text = files.selected.read_text(encoding="utf-8-sig")
    assert "序号" in text and "新建" in text
    geo = json.loads(files.geojson.read_text(encoding="utf-8"))
    assert len(geo["features"]) == 1


def test_site_reports_its_stages_and_keeps_the_options(small: Store, cfg: Config) -> None:
    seen: list[tuple[str, float | None]] = []
    options = SitingOptions(
        facility_type="home", today=TODAY, town_rule=False, new=1, time_limit_s=5.0
    )
    p = site(
        small,
        config=cfg,
        options=options,
        networks={"drive": toy_network()},
        progress=lambda message, share=None: seen.append((message, share)),
    )
    assert p.selected["village_code"].tolist() == [B]  # as in the first test
    shares = [s for _, s in seen if s is not None]
    assert shares == sorted(shares) and shares[0] <= 0.1 and shares[-1] == 1.0
    messages = [m for m, _ in seen]
    assert any("初始解" in m for m in messages)  # the solver's own stages come through
    assert any("分支定界" in m for m in messages)
    assert any("前后的覆盖" in m for m in messages)
    assert p.options.time_limit_s == 5.0 and p.today == TODAY
    assert p.inputs["today"] == TODAY.isoformat() and p.inputs["town_rule"] is False


def test_a_village_catchment_type_is_not_sited(small: Store, cfg: Config) -> None:
    options = SitingOptions(facility_type="accessible_community", today=TODAY, new=1)
    with pytest.raises(SitingError, match="缺少 walk 道路网络"):
        site(small, config=cfg, options=options, networks={"drive": toy_network()})
    with pytest.raises(SitingError, match="按村社认定，不做选址"):
        site(small, config=cfg, options=options, networks={"walk": toy_network()})
