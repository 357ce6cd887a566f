"""Every household reachable by some team, or a true reason: on a toy month.

The store is the example county (:mod:`tests.county`: its units, villages,
roads and office) with only the residents of this module:

- 甲 (柳塘村 V03, wheelchair, a wheelchair issued 2015 for 5 years, under
  psychiatric medication supervision): device replacement needs team A's
  ``device``, medication supervision team B's ``psychiatric``;
- 乙 (柳塘村): medication supervision only;
- 丙1–丙8 (松坑村 V05), 丁 (远山村 V06, 120 min of track from 松坑村) and 戊
  (孤岛村 V09, no road within 3 km): medication supervision.

The teams start at the office (0, -1000): 11 min to 松坑村 (1 km tertiary at
2 min/km, 6 km secondary at 1.5 min/km), 12 min back (4 km secondary, 3 km
tertiary). With medication supervision at 100 min, team B's morning
(08:30–11:30, 180 min) holds one visit (11 + 100; two would take 211) and its
afternoon (13:00–17:00 from the service point at 松坑村, 240 min) two (200 + 12;
three would take 312): 3 of the 8 in 松坑村 are visited, 5 wait with the shift
full; 丁 needs at least 120 + 100 + 132 min even alone (too far for any
half-day), 戊 is off the network. Each plan's reasons are also recomputed
independently (:mod:`tests.planner.outreach.reasons`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from api.cli import main
from planner.networks import load_network
from planner.outreach.plan import MonthPlan
from planner.outreach.routing import RoutingProblem, Shift, Stop, insert_skipped, result_from_orders
from planner.outreach.skills import split_services
from planner.services.outreach import MonthOptions, outreach_month
from planner.settings import Config, load_config
from planner.store.core import Store
from planner.store.frames import residents_frame, villages_frame
from tests import county
from tests.county import VILLAGE, make_county, office_lonlat
from tests.factories import make_id
from tests.planner.outreach.checker import check
from tests.planner.outreach.reasons import check_visits, recheck_unplanned

YEAR, MONTH = 2027, 3
MED, DEVICE = "medication_supervision", "device_replacement"
# name, village, wheelchair, medication; 甲 also has a wheelchair past its service life
PEOPLE = [
    ("甲", "V03", True),
    ("乙", "V03", False),
    *((f"丙{k}", "V05", False) for k in range(1, 9)),
    ("丁", "V06", False),
    ("戊", "V09", False),
]


def _id(k: int) -> str:
    return make_id(date(1960, 1, 1 + k), 2 * k + 1, region=county.DISTRICT_CODE)


def _write_people(root: Path, header: list[str]) -> tuple[Path, Path]:
    residents, devices = root / "toy_residents.csv", root / "toy_devices.csv"
    with residents.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        for k, (name, key, wheelchair) in enumerate(PEOPLE):
            v = VILLAGE[key]
            row = dict.fromkeys(header, "")
            row.update(
                {
                    "姓名": name, "性别": "男", "公民身份号码": _id(k),
                    "出生日期": f"1960-01-{1 + k:02d}", "残疾类别": "精神残疾",
                    "残疾等级": "二级", "乡镇（街道）": v.town, "村（社区）": v.name,
                    "村社代码": v.code, "现住址": f"示例县{v.name}{500 + k}号",
                    "联系电话": f"1370000{k:04d}", "使用轮椅": "是" if wheelchair else "否",
                    "长期卧床": "否", "精神病服药监护": "是",
                }
            )  # fmt: skip
            w.writerow(row)
    devices.write_text(
        f"公民身份号码,辅具名称,发放日期,使用年限\n{_id(0)},轮椅,2015-05-01,5\n", encoding="utf-8"
    )
    return residents, devices


@pytest.fixture
def toy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[Store, Any]]:
    """The county's map with this module's residents, and its drive network."""
    db = f"sqlite:///{tmp_path / 'toy.db'}"

    def cli(*args: str) -> None:
        code = main(["--db", db, *args])
        assert code == 0, capsys.readouterr().err

    files = make_county(tmp_path / "county")
    office = "{:.7f},{:.7f}".format(*office_lonlat())
    cli(
        "init", "--district", county.DISTRICT_CODE, "--units", str(files.units),
        "--parents", ",".join(county.PARENTS), "--office", office,
        "--office-name", county.OFFICE_NAME, "--json",
    )  # fmt: skip
    cli("import", "villages", str(files.villages), "--json")
    cli("network", "build", str(files.roads), "--json")
    header = files.residents.read_text(encoding="utf-8").splitlines()[0].split(",")
    residents, devices = _write_people(tmp_path, header)
    cli("import", "residents", str(residents), "--json")
    cli("import", "devices", str(devices), "--json")
    capsys.readouterr()
    store = Store(db)
    from planner.settings import get_config

    yield store, load_network(store, config=get_config(), mode="drive").network
    store.dispose()


def _config(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "outreach.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _plan(toy: tuple[Store, Any], config: Config, *villages: str) -> MonthPlan:
    store, network = toy
    options = MonthOptions(
        year=YEAR, month=MONTH, villages=tuple(VILLAGE[v].code for v in villages), time_limit_s=1
    )
    plan = outreach_month(store, config=config, options=options, network=network)
    for problem, result in plan.routing:
        assert check(problem, result) == []
    return plan


def _rid(name: str) -> int:
    return next(k for k, (n, _, _) in enumerate(PEOPLE) if n == name)


def _verified(toy: tuple[Store, Any], config: Config, plan: MonthPlan) -> dict[str, str]:
    """Check the plan's visits and recompute every reason; the recomputed codes."""
    store, network = toy
    res, vf = residents_frame(store, personal=True), villages_frame(store)
    ids = {str(n): int(i) for i, n in zip(res.index, res["id_number"], strict=True)}
    here = {c for v in plan.villages for c in [v.code]}
    needs = {}
    for k, (_, key, wheelchair) in enumerate(PEOPLE):
        if VILLAGE[key].code in here:
            needs[f"R{ids[_id(k)]}"] = {MED, DEVICE} if wheelchair else {MED}
    assert check_visits(plan, config=config, needs=needs) == []
    wrong, codes = recheck_unplanned(
        plan, config=config, network=network, residents=res, villages=vf
    )
    assert wrong == []
    return codes


def _stops(plan: MonthPlan) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Stops by (team, name)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for tm in plan.to_json()["teams"]:
        for d in tm["days"]:
            for s in d["stops"]:
                out.setdefault((tm["team"], s["name"]), []).append(s)
    return out


def test_split_rule_by_hand(config: Config, tmp_path: Path) -> None:
    """The parts by hand: default teams A {device, rehab}, B {psychiatric, assessment, rehab}."""
    parts = split_services([DEVICE, MED, "stroke_rehab"], config=config)
    # A and B both cover 2 of {device, psychiatric, rehab}: A (listed first) takes
    # device and rehab, B what is left
    assert [(p.services, p.teams) for p in parts] == [
        ((DEVICE, "stroke_rehab"), ("A",)),
        ((MED,), ("B",)),
    ]
    [whole] = split_services(["stroke_rehab", MED], config=config)  # B has both
    assert (whole.services, whole.teams) == (("stroke_rehab", MED), ("B",))
    never = _config(tmp_path, '[outreach]\nsplit_skills = "never"\n')
    [one] = split_services([DEVICE, MED], config=never)
    assert (one.teams, one.missing) == ((), frozenset())
    no_psych = _config(tmp_path, '[outreach.teams.B]\nskills = ["assessment", "rehab"]\n')
    a, lost = split_services([MED, DEVICE], config=no_psych)
    assert (a.services, a.teams, lost.services, lost.missing) == (
        (DEVICE,), ("A",), (MED,), frozenset({"psychiatric"}),
    )  # fmt: skip


def test_household_needing_two_teams_gets_one_visit_by_each(
    toy: tuple[Store, Any], config: Config
) -> None:
    plan = _plan(toy, config, "V03")
    stops = _stops(plan)
    [a] = stops[("A", "甲")]
    [b] = stops[("B", "甲")]
    assert (a["services"], b["services"]) == ([DEVICE], [MED])
    day = plan.teams[0].days[0].date.isoformat()
    assert [(o["team"], o["services"], o["date"], o["arrival"]) for o in a["other_visits"]] == [
        ("B", [MED], day, b["arrival"])
    ]
    assert [(o["team"], o["services"], o["date"], o["arrival"]) for o in b["other_visits"]] == [
        ("A", [DEVICE], day, a["arrival"])
    ]
    assert f"另由第二入户服务队入户（{day} {b['arrival']}）：服药监护" in (
        plan.teams[0].days[0].stops[0].other_visits[0].note()
    )
    assert ("B", "乙") in stops and "other_visits" not in stops[("B", "乙")][0]
    st = plan.stats
    assert (st.households_needing_visit, st.visits_needed, st.split_households) == (2, 3, 1)
    assert (st.planned, st.unplanned) == (3, 0)
    assert _verified(toy, config, plan) == {}


def test_a_team_with_all_the_skills_takes_the_whole_visit(
    toy: tuple[Store, Any], tmp_path: Path
) -> None:
    config = _config(
        tmp_path,
        '[outreach.teams.C]\nlabel = "第三入户服务队"\nskills = ["device", "psychiatric"]\n',
    )
    plan = _plan(toy, config, "V03")
    stops = _stops(plan)
    [whole] = stops[("C", "甲")]
    assert whole["services"] == [DEVICE, MED] and "other_visits" not in whole
    assert not any(name == "甲" for team, name in stops if team != "C")
    assert (plan.stats.split_households, plan.stats.planned, plan.stats.unplanned) == (0, 2, 0)
    _verified(toy, config, plan)


def test_whole_only_leaves_the_household_with_no_team_skill(
    toy: tuple[Store, Any], tmp_path: Path
) -> None:
    config = _config(tmp_path, '[outreach]\nsplit_skills = "never"\n')
    plan = _plan(toy, config, "V03")
    [u] = plan.unplanned
    assert (u.person.name, u.services, u.reason_code) == ("甲", (DEVICE, MED), "no_team_skill")
    assert "同时具备「辅具」、「精神科」技能" in u.reason and 'split_skills = "never"' in u.reason
    assert ("B", "乙") in _stops(plan)
    assert list(_verified(toy, config, plan).values()) == ["no_team_skill"]


def test_a_skill_no_team_has_is_named(toy: tuple[Store, Any], tmp_path: Path) -> None:
    config = _config(tmp_path, '[outreach.teams.B]\nskills = ["assessment", "rehab"]\n')
    plan = _plan(toy, config, "V03")
    [a] = _stops(plan)[("A", "甲")]
    assert a["services"] == [DEVICE]
    by_name = {u.person.name: u for u in plan.unplanned}
    assert set(by_name) == {"甲", "乙"}
    jia, yi = by_name["甲"], by_name["乙"]
    assert (jia.services, jia.reason_code, yi.reason_code) == (
        (MED,),
        "no_team_skill",
        "no_team_skill",
    )
    assert "没有具备「精神科」技能的入户服务队" in jia.reason and '"psychiatric"' in jia.reason
    # the split part says which part is missing and where the other went
    assert "拆分入户" in jia.reason and "（服药监护）未能安排" in jia.reason
    assert "另一次（辅具更换）已由第一入户服务队" in jia.reason
    assert "拆分入户" not in yi.reason
    [other] = a["other_visits"]
    assert (other["team"], other["services"], other["reason_code"]) == (
        None,
        [MED],
        "no_team_skill",
    )
    assert (plan.stats.visits_needed, plan.stats.planned, plan.stats.unplanned) == (3, 1, 2)
    codes = _verified(toy, config, plan)
    assert sorted(codes.values()) == ["no_team_skill", "no_team_skill"]


def test_a_full_day_a_far_village_and_an_off_network_one(
    toy: tuple[Store, Any], tmp_path: Path
) -> None:
    config = _config(tmp_path, "[outreach.services.medication_supervision]\nminutes = 100\n")
    plan = _plan(toy, config, "V05", "V06", "V09")
    assert plan.service_point.village_code == VILLAGE["V05"].code
    [b] = [tm for tm in plan.teams if tm.team == "B"]
    [day] = b.days
    times = [(s.arrival, s.departure) for s in day.stops]
    assert len(times) == 3 and times[0] == ("08:44", "10:24")
    # office → 松坑村 11 min, plus the village's hop to an estimated home (3 min minimum)
    assert all(s.person.name.startswith("丙") for s in day.stops)
    codes = {u.person.name: u.reason_code for u in plan.unplanned}
    assert codes.pop("丁") == "too_far" and codes.pop("戊") == "off_network"
    assert len(codes) == 5 and set(codes.values()) == {"shift_full"}
    full = next(u for u in plan.unplanned if u.reason_code == "shift_full")
    assert (
        full.reason.startswith("本月时间排满（优先级 5），顺延下月")
        and "第二入户服务队" in full.reason
    )
    far = next(u for u in plan.unplanned if u.person.name == "丁")
    assert "车程过远" in far.reason and "shift_start" in far.reason
    recomputed = _verified(toy, config, plan)
    assert sorted(recomputed.values()) == ["off_network", *["shift_full"] * 5, "too_far"]


def test_skipped_stops_go_where_they_still_fit() -> None:
    """Insertion by hand: one shift 0 → 0 within [0, 100] s on four locations."""
    duration = [
        [0, 10, 20, 100],
        [10, 0, 10, 95],
        [30, 10, 0, 90],  # back from 2 to the depot: 30
        [100, 95, 90, 0],
    ]
    stops = (
        Stop(location=1, service_s=10, required=False, prize=5),
        Stop(location=2, service_s=10, required=False, prize=5),
        Stop(location=3, service_s=10, required=False, prize=50),  # 210 s even alone
        Stop(location=1, service_s=0, skills=frozenset({"x"}), required=False, prize=50),
    )
    problem = RoutingProblem(
        duration=np.array(duration), stops=stops, shifts=(Shift(0, 0, 0, 100),)
    )
    skipped = result_from_orders(problem, [[0]], solver="pyvrp", started=0.0)
    assert skipped.unvisited == (1, 2, 3)
    filled = insert_skipped(problem, skipped)
    # stop 1 first: 0 → 2 → 1 → 0 travels 20 + 10 + 10 = 40 s; after stop 0 it would be
    # 10 + 10 + 30 = 50 s; either way back at 60 s ≤ 100 s
    assert [r.stops for r in filled.routes] == [(1, 0)]
    assert (filled.travel_s, filled.routes[0].end_s, filled.unvisited) == (40, 60, (2, 3))
    assert check(problem, filled) == []
    assert filled.cost == 40 + 50 + 50


def test_an_unused_shift_counts_its_drive_to_the_end() -> None:
    """A morning from the office (0) to the service point (2) within [0, 30] s."""
    duration = np.array([[0, 10, 15], [10, 0, 10], [15, 10, 0]])
    stops = (
        Stop(location=1, service_s=15, required=False, prize=9),  # 10 + 15 + 10 = 35 > 30
        Stop(location=1, service_s=5, required=False, prize=1),  # 10 + 5 + 10 = 25 ≤ 30
    )
    problem = RoutingProblem(duration=duration, stops=stops, shifts=(Shift(0, 2, 0, 30),))
    filled = insert_skipped(problem, result_from_orders(problem, [[]], solver="pyvrp", started=0))
    assert [r.stops for r in filled.routes] == [(1,)] and filled.unvisited == (0,)
    assert (filled.travel_s, filled.routes[0].end_s, filled.is_feasible) == (20, 25, True)
    assert check(problem, filled) == []
