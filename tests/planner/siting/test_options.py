"""SitingOptions and SolverParams: every bad value refused with the option named,
defaults resolved from the configuration."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from planner.errors import CRSError, InputError, SitingError
from planner.settings import Config
from planner.siting import SitingOptions, SolverParams


@pytest.mark.parametrize(
    ("changes", "option"),
    [
        ({"facility_type": ""}, "--type"),
        ({"objective": "fastest"}, "--objective"),
        ({"new": -1}, "--new"),
        ({"new": 1.5}, "--new"),
        ({"max_upgrades": -2}, "--max-upgrades"),
        ({"budget": -1.0}, "--budget"),
        ({"budget": float("inf")}, "--budget"),
        ({"target": 0.0}, "--target"),
        ({"target": 1.5}, "--target"),
        ({"time_limit_s": 0.0}, "--time-limit"),
        ({"exclude": "330213100001"}, "--exclude"),
    ],
)
def test_bad_values_name_the_option(changes: dict[str, Any], option: str) -> None:
    with pytest.raises(InputError, match=option):
        SitingOptions(**{"facility_type": "home", **changes})


def test_the_candidates_crs_is_checked_only_with_a_file(tmp_path: Path) -> None:
    assert SitingOptions(facility_type="home", candidates_crs="nonsense").candidates_file is None
    with pytest.raises(CRSError, match="nonsense"):
        SitingOptions(
            facility_type="home", candidates_file=tmp_path / "c.csv", candidates_crs="nonsense"
        )
    ok = SitingOptions(facility_type="home", candidates_file="c.csv", candidates_crs="高德")  # type: ignore[arg-type]
    assert ok.candidates_file == Path("c.csv")


def test_exclusions_become_a_tuple_of_text() -> None:
    options = SitingOptions(facility_type="home", exclude=["330213100001", "地块一"])  # type: ignore[arg-type]
    assert options.exclude == ("330213100001", "地块一")


def test_defaults_resolved_from_the_configuration(config: Config) -> None:
    with pytest.raises(SitingError, match="未知的设施类型 nursery；可用：home"):
        SitingOptions(facility_type="nursery").type_config(config)
    assert SitingOptions(facility_type="home").type_config(config).label == "残疾人之家"
    # [siting] one_per_town = ["home"]
    assert SitingOptions(facility_type="home").town_rule_for(config) is True
    assert SitingOptions(facility_type="psych_station").town_rule_for(config) is False
    assert SitingOptions(facility_type="home", town_rule=False).town_rule_for(config) is False
    params = SolverParams.from_config(config)
    assert (params.time_limit_s, params.mip_gap, params.threads) == (60.0, 1e-4, 1)
    assert params.solver == dict(config.siting.solver)
    assert SolverParams.from_config(config, time_limit_s=5.0).time_limit_s == 5.0
    with pytest.raises(InputError, match="大于 0"):
        SolverParams(time_limit_s=-1.0)


def test_inputs_as_saved_with_a_scenario() -> None:
    options = SitingOptions(
        facility_type="home",
        objective="lscp",
        budget=3e6,
        candidates_file=Path("plots.csv"),
        exclude=("X",),
        target=0.9,
    )
    inputs = options.inputs(town_rule=True, capacitated=False, today=date(2026, 12, 1))
    assert list(inputs.items()) == [
        ("type", "home"),
        ("objective", "lscp"),
        ("new", None),
        ("budget", 3e6),
        ("upgrade", False),
        ("max_upgrades", None),
        ("candidates", "plots.csv"),
        ("exclude", ["X"]),
        ("town_rule", True),
        ("capacitated", False),
        ("target", 0.9),
        ("today", "2026-12-01"),
        ("close", []),
        ("relocate", []),
    ]
    mclp = SitingOptions(facility_type="home", target=0.9)
    assert mclp.inputs(town_rule=False, capacitated=True, today=date(2026, 1, 1))["target"] is None


def test_closures_and_relocations(config: Config) -> None:
    options = SitingOptions(
        facility_type="home", close=(" FH-HOME-07 ",), relocate=(("FH-HOME-01", "溪岙村"),)
    )
    assert options.close == ("FH-HOME-07",)
    assert options.changes_only
    assert options.town_rule_for(config) is False  # the changes are compared as they are
    assert SitingOptions(facility_type="home", close=("X",), new=1).town_rule_for(config)
    inputs = options.inputs(town_rule=False, capacitated=True, today=date(2026, 1, 1))
    assert inputs["close"] == ["FH-HOME-07"]
    assert inputs["relocate"] == [{"facility": "FH-HOME-01", "to": "溪岙村"}]
    best = (("FH-HOME-01", "best"),)
    with pytest.raises(InputError, match="--to best"):
        SitingOptions(facility_type="home", relocate=best, new=1)
    with pytest.raises(InputError, match="--to best"):
        SitingOptions(facility_type="home", relocate=best, budget=1e6)
    with pytest.raises(InputError, match="lscp"):
        SitingOptions(facility_type="home", relocate=best, objective="lscp")
    with pytest.raises(InputError, match="--relocate"):
        SitingOptions(facility_type="home", relocate=(("FH-HOME-01", " "),))
    with pytest.raises(InputError, match="--close"):
        SitingOptions(facility_type="home", close=("",))
