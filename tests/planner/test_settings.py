"""Configuration mistakes: a Chinese message naming the key path, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import ConfigError
from planner.settings import get_settings, load_config, reset_settings


def _load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[outreach]\ndays = 9\n", "配置项 outreach.days 的值 9 无效：应 ≤ 3"),
        ("[outreach]\ndays = 0\n", "配置项 outreach.days 的值 0 无效：应 ≥ 1"),
        ('[outreach]\ndays = "两天"\n', '配置项 outreach.days 的值 "两天" 无效：应为整数'),
        (
            '[import]\nunresolved_village = "drop"\n',
            '配置项 import.unresolved_village 的值 "drop" 无效：应为 review、reject 之一',
        ),
        ('[facility_types.home]\nmode = "bike"\n', "facility_types.home.mode"),
        ("outreach = 5\n", "配置项 outreach 的值 5 无效：应为一个表"),
        (
            "[retrofit.weights]\ngrade = { 5 = 1.0 }\n",
            "配置项 retrofit.weights.grade 的值 { 1 = 3.0, 2 = 2.0, 3 = 1.0, 4 = 0.5, 5 = 1.0 } "
            "无效：等级只能是 1、2、3、4",
        ),
    ],
)
def test_an_invalid_value_names_its_key_path(tmp_path: Path, text: str, message: str) -> None:
    assert message in _load(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[outreach]\ndayz = 2\n", "配置项 outreach.dayz 不存在；是否为 outreach.days？"),
        ("[imports]\nunresolved_village = 'reject'\n", "配置项 imports 不存在；是否为 import？"),
        (
            "[facility_types.home]\nthreshhold_min = 20\n",
            "配置项 facility_types.home.threshhold_min 不存在；"
            "是否为 facility_types.home.threshold_min？",
        ),
        (
            "[outreach.teams.A]\nskils = ['device']\n",
            "配置项 outreach.teams.A.skils 不存在；是否为 outreach.teams.A.skills？",
        ),
        (
            "[[retrofit.weights.age]]\nmin_age = 60\npointz = 1\n",
            "配置项 retrofit.weights.age[0].pointz 不存在；是否为 retrofit.weights.age[0].points？",
        ),
        (
            "[geocode]\nqqq = 1\n",
            "配置项 geocode.qqq 不存在；可用的配置项：fuzzy_min_score、fuzzy_margin",
        ),
    ],
)
def test_an_unknown_key_is_refused_with_the_closest_one(
    tmp_path: Path, text: str, message: str
) -> None:
    assert message in _load(tmp_path, text)


def test_user_defined_tables_stay_open(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        "[outreach.weights]\nnew_need = 2.0\n"
        "[outreach.teams.C]\nlabel = '第三入户服务队'\nskills = ['device']\n"
        "[facility_types.day_care]\nlabel = '日间照料'\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.outreach.weights["new_need"] == 2.0
    assert config.outreach.teams["C"].skills == ["device"]
    assert config.facility_label("day_care") == "日间照料"


def test_an_invalid_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVERPLAN_SQLITE_BUSY_TIMEOUT_MS", "abc")
    reset_settings()
    with pytest.raises(ConfigError, match="环境变量 COVERPLAN_SQLITE_BUSY_TIMEOUT_MS 的值"):
        get_settings()
