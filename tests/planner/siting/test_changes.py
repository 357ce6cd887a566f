"""``site --close`` and ``site --relocate … --to …`` on the example county, by hand.

The county (:mod:`tests.county`) has one 精神残疾人社区康复站, 清河精神康复站 (JK-01)
in V01 清河社区, 10 places, 30 minutes by car. Its eligible group is every
psychiatric person: V01 王强, V02 杨帆, V03 徐芳, V05 高翔 (清河街道); V06 宋云 (two
hours down a track); V07 谢婷, V08 于洁 and 袁志明, V09 许晴 (off the road
network), V10 彭勇, V11 蔡明, V12 叶青 (云岭镇). Nobody of them is bedridden.

Minutes to V01 (residents travel to the station; 清河路 is one-way east, so the
way back is 河滨路, 4 km at 2 min/km): V02 8, V03 11, V05 14, V07 20, V08 23; V10
is 53 away. So 7 are covered (清河 4, 云岭 3), within the 10 places.

- Closing it: nobody is covered after (清河 4 → 0, 云岭 3 → 0), 10 places leave.
- Moving it to V11 中岭村 (25.6 km east on 盘山公路, 17 km/h: 5.1 km = 18 min):
  V10 18, V11 0, V12 18 are covered, V08 (12.6 km + 3 min) is not: 3 covered,
  all in 云岭镇; 清河 0.
- Moving it to the best plot (V08 竹园村 excluded: V08 → V10 is 30 minutes, on the
  threshold): every plot in the valley reaches the same 7 persons (V03, V05, V07
  and V02, V01), so the minutes decide: to V05 松坑村 9 + 6 + 3 + 0 + 6 + 2 × 9 = 42,
  to V03 柳塘村 6 + 3 + 0 + 3 + 9 + 2 × 12 = 45 (the best alternative), V07 48,
  V02 54, V01 99.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import county
from tests.cli import Coverplan
from tests.county import VILLAGE, make_county

STATION = "JK-01"
MINUTES = 1e-3  # relative: edge lengths come from rounded coordinates


@pytest.fixture
def run(tmp_path: Path, coverplan: Coverplan) -> Any:
    files = make_county(tmp_path / "county")
    db = f"sqlite:///{tmp_path / 'store.db'}"

    def call(*args: str) -> Any:
        return coverplan(*args, db=db)

    init = call(
        "init", "--district", county.DISTRICT_CODE, "--units", str(files.units),
        "--parents", ",".join(county.PARENTS), "--json",
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    for kind, path in (
        ("villages", files.villages),
        ("facilities", files.facilities),
        ("residents", files.residents),
    ):
        assert call("import", kind, str(path), "--json").json()["rejected"] == 0
    assert call("network", "build", str(files.roads), "--json").returncode == 0
    return call


def towns(out: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {t["town_name"]: (t["covered_before"], t["covered_after"]) for t in out["towns"]}


def test_closing_the_only_station(run: Any) -> None:
    out = run("site", "--type", "psych_station", "--close", STATION, "--json").json()
    (row,) = out["selected"]
    assert row["action"] == "close"
    assert row["name"] == "清河精神康复站"
    assert row["village_code"] == VILLAGE["V01"].code
    assert row["places"] == -10
    assert row["cost"] == 0
    assert row["facility"]["code"] == STATION
    assert row["why"] is None
    assert (out["before"]["facilities"], out["after"]["facilities"]) == (1, 0)
    assert out["before"]["capacity"] == 10
    assert (out["before"]["covered"], out["after"]["covered"]) == (7, 0)
    assert (out["before"]["within_capacity"], out["after"]["within_capacity"]) == (7, 0)
    assert towns(out) == {"清河街道": (4, 0), "云岭镇": (3, 0)}
    assert out["inputs"]["close"] == [STATION]
    assert out["inputs"]["town_rule"] is False


@pytest.mark.parametrize("place", ["中岭村", VILLAGE["V11"].code, "lonlat"])
def test_moving_the_station_to_a_village(run: Any, place: str) -> None:
    if place == "lonlat":
        lon, lat = VILLAGE["V11"].lonlat
        place = f"{lon},{lat}"
    out = run(
        "site", "--type", "psych_station", "--relocate", "清河精神康复站", "--to", place,
        "--json",
    ).json()  # fmt: skip
    (row,) = out["selected"]
    assert row["action"] == "relocate"
    assert row["name"].startswith("清河精神康复站 → ")
    assert row["places"] == 10
    assert row["facility"]["village_code"] == VILLAGE["V01"].code
    assert (row["lon"], row["lat"]) == pytest.approx(VILLAGE["V11"].lonlat, abs=1e-6)
    assert (out["before"]["facilities"], out["after"]["facilities"]) == (1, 1)
    assert out["after"]["capacity"] == 10
    assert (out["before"]["covered"], out["after"]["covered"]) == (7, 3)
    assert towns(out) == {"清河街道": (4, 0), "云岭镇": (3, 3)}
    assert out["after"]["mean_minutes"] == pytest.approx((18 + 0 + 18) / 3, rel=MINUTES)
    assert out["cost"] == out["selected"][0]["cost"] > 0  # the type's build cost


def test_moving_the_station_to_the_best_plot(run: Any) -> None:
    out = run(
        "site", "--type", "psych_station", "--relocate", STATION, "--to", "best",
        "--exclude", VILLAGE["V08"].code, "--json",
    ).json()  # fmt: skip
    (row,) = out["selected"]
    assert row["action"] == "relocate"
    assert row["village_code"] == VILLAGE["V05"].code
    assert row["places"] == 10  # the station's own places
    assert row["facility"]["code"] == STATION
    why = row["why"]
    assert why["adds_in_reach"] == 7
    assert why["adds_minutes"] == pytest.approx(42, rel=MINUTES)
    best = why["best_alternative"]
    assert best["village_code"] == VILLAGE["V03"].code
    assert best["in_reach"] == 7
    assert best["minutes"] == pytest.approx(45, rel=MINUTES)
    assert why["tied_alternatives"] == []
    assert out["tie_break"]["status"] == "optimal"
    assert out["tie_break"]["minutes"] == pytest.approx(42, rel=MINUTES)
    assert (out["before"]["facilities"], out["after"]["facilities"]) == (1, 1)
    assert (out["before"]["covered"], out["after"]["covered"]) == (7, 7)
    assert out["after"]["mean_minutes"] == pytest.approx(42 / 7, rel=MINUTES)


def test_stay_move_and_best_side_by_side(run: Any) -> None:
    """Three scenarios a leader compares: stay, the plot, the best plot."""
    base = ("site", "--type", "psych_station", "--exclude", VILLAGE["V08"].code, "--json")
    for name, args in (
        ("留在原址", ("--new", "0")),
        ("迁至中岭", ("--relocate", STATION, "--to", "中岭村")),
        ("迁至最佳", ("--relocate", STATION, "--to", "best")),
    ):
        assert run(*base, *args, "--scenario", name).returncode == 0
    cmp = run("scenarios", "compare", "留在原址", "迁至中岭", "迁至最佳", "--json").json()
    metrics = {m["key"]: m for m in cmp["metrics"]}
    assert [metrics["covered_after"][n] for n in ("留在原址", "迁至中岭", "迁至最佳")] == [7, 3, 7]
    assert [metrics["relocations"][n] for n in ("留在原址", "迁至中岭", "迁至最佳")] == [0, 1, 1]
    by_town = {t["town"]: t for t in cmp["towns"]}
    assert by_town["清河街道"]["迁至中岭·covered_after"] == 0
    assert by_town["云岭镇"]["迁至中岭·covered_after"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--close", "JK-99"), "清河精神康复站"),  # the message lists the stations
        (("--relocate", STATION, "--to", "不存在村"), "不存在村"),
        (("--relocate", STATION), "--to"),
        (("--relocate", STATION, "--to", "best", "--new", "1"), "--to best"),
        (("--close", STATION, "--relocate", STATION, "--to", "中岭村"), "重复"),
    ],
)
def test_mistakes_are_named(run: Any, args: tuple[str, ...], message: str) -> None:
    ran = run("site", "--type", "psych_station", *args)
    assert ran.returncode == 2
    assert message in ran.stderr
    assert "Traceback" not in ran.stderr
