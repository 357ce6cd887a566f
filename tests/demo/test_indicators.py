"""The plan's indicator table on the demo district (the issue's checks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import Coverplan
from tests.demo_district import DemoDistrict


def test_plan_table_on_the_demo(
    demo_copy: DemoDistrict, coverplan: Coverplan, tmp_path: Path
) -> None:
    proc = coverplan("indicators", "--json", "--out", str(tmp_path / "ind"))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    rows = out["indicators"]
    assert [r["number"] for r in rows] == list(range(1, 15))
    for r in rows:  # every row present with its definition, target and judgement
        assert r["definition"]["numerator"] and r["target_text"] and r["kind"]
        assert r["value"] is not None or r["data_needed"], r["key"]
    home = rows[3]
    assert (home["key"], home["reading"]) == ("home", "town")
    assert (home["numerator"], home["denominator"], home["value_pct"]) == (10, 12, 83.33)
    assert (home["target"], home["comparison"], home["met"]) == (90.0, "≥", False)
    town, people = home["readings"]
    assert (town["key"], people["key"]) == ("town", "people")
    assert 0 < people["numerator"] < people["denominator"] and people["met"] is False
    assert [t["value"] for t in town["by_town"]].count(0.0) == 2  # two towns without a home
    living, care = rows[1], rows[2]
    assert (living["value_pct"], living["comparison"], living["met"]) == (98.07, ">", False)
    assert (care["value_pct"], care["comparison"], care["met"]) == (97.85, ">", False)
    assert living["target_text"] == care["target_text"] == ">99%"
    assert len(living["by_town"]) == 12
    assert sum(t["denominator"] for t in living["by_town"]) == living["denominator"]
    checks = {c["key"]: c for c in out["policy_checks"]}
    assert checks["home_town"]["target"] == 100.0 and checks["home_town"]["met"] is False
    assert checks["accessible_community"]["target"] == 5
    # the same table in the coverage output
    cov = coverplan("coverage", "--type", "home", "--json")
    assert cov.returncode == 0, cov.stderr
    assert json.loads(cov.stdout)["indicators"] == rows
    assert [Path(f).name for f in out["files"]] == [
        "indicators.csv",
        "indicators_towns.csv",
        "policy_checks.csv",
        "indicators.xlsx",
    ]


def test_the_toml_chooses_the_home_reading(
    demo_copy: DemoDistrict,
    coverplan: Coverplan,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    overlay = tmp_path / "people.toml"
    overlay.write_text('[indicators]\nhome_reading = "people"\n', encoding="utf-8")
    monkeypatch.setenv("COVERPLAN_CONFIG", str(overlay))
    proc = coverplan("indicators")
    assert proc.returncode == 0, proc.stderr
    assert '"残疾人之家"覆盖率：' in proc.stdout and "人员口径" in proc.stdout
    line = next(ln for ln in proc.stdout.splitlines() if '残疾人之家"覆盖率：' in ln)
    assert "未达标" in line and "另一口径" not in line
    assert "另一口径「乡镇(街道)全覆盖口径」：83.33%（10/12）" in proc.stdout
