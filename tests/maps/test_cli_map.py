"""``coverplan map KIND``: the standalone file, its ``--json``, and the user's
mistakes (Chinese message, exit status 2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from maps.assets import outside_urls
from planner.settings import reset_settings
from tests.cli import Coverplan
from tests.http.county_api import SCENARIOS, load_county
from tests.maps.world import TEST_CONFIG, env

JSON_KEYS = {"file", "kind", "title", "layers", "suppressed", "outside_urls"}


@pytest.fixture(scope="module")
def county_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("map_cli")
    (root / "maps-test.toml").write_text(TEST_CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        env(mp, root)
        url = load_county(root)
        yield root, url
    reset_settings()


@pytest.fixture
def county(county_root: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    env(monkeypatch, county_root[0])
    return county_root


def test_map_coverage_writes_the_standalone_file(
    coverplan: Coverplan, county: tuple[Path, str]
) -> None:
    root, url = county
    doc = coverplan("map", "coverage", "--json", db=url).json()
    assert set(doc) == JSON_KEYS
    path = Path(doc["file"])
    assert path == root / "out" / "maps" / "coverage.html" and path.is_file()
    assert doc["kind"] == "coverage" and doc["outside_urls"] == 0 and doc["suppressed"] is False
    assert doc["title"] == "示例县服务覆盖图：残疾人之家"
    assert doc["layers"][:4] == ["区界", "镇街", "村社", "道路"]
    assert "村社覆盖率" in doc["layers"] and "设施：残疾人之家" in doc["layers"]
    text = path.read_text(encoding="utf-8")
    assert outside_urls(text) == [] and "/static/vendor" not in text
    assert "残疾人之家覆盖率" in text


def test_map_text_output_and_out_option(
    coverplan: Coverplan, county: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = county
    out = tmp_path / "给领导" / "改造.html"
    ran = coverplan("map", "retrofit", "--suppress", "--out", str(out), db=url)
    assert ran.returncode == 0, ran.stderr
    assert out.is_file() and f"已写入 {out}" in ran.stdout and "本年改造户数" in ran.stdout


def test_map_siting_of_a_saved_scenario(coverplan: Coverplan, county: tuple[Path, str]) -> None:
    _, url = county
    doc = coverplan("map", "siting", "--scenario", SCENARIOS[0], "--json", db=url).json()
    assert doc["layers"][-1] == "方案选址" and doc["title"].endswith(SCENARIOS[0])
    ran = coverplan("map", "siting", db=url)
    assert ran.returncode == 2 and "--scenario" in ran.stderr and ran.stdout == ""


def test_map_outreach_of_one_team(coverplan: Coverplan, county: tuple[Path, str]) -> None:
    _, url = county
    doc = coverplan("map", "outreach", "--month", "2026-11", "--team", "A", "--json", db=url).json()
    routes = [n for n in doc["layers"] if "入户服务队" in n]
    assert routes and all("（A）" in n for n in routes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("map", "bogus"), "参数 KIND 的值「bogus」无效"),
        (("map", "coverage", "--type", "nope"), "设施类型「nope」未配置"),
        (("map", "gaps", "--type", "nope"), "设施类型「nope」未配置"),
        (("map", "indicators", "--indicator", "nope"), "没有指标「nope」"),
        (("map", "outreach", "--day", "2026-13-01"), "应为日期 YYYY-MM-DD"),
        (("map", "outreach", "--month", "2026/11"), "月份格式应为 YYYY-MM"),
        (("map", "siting", "--scenario", "没有这个方案"), "没有这个方案"),
    ],
)
def test_map_mistakes_exit_2_in_chinese(
    coverplan: Coverplan,
    county: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    _, url = county
    try:
        ran = coverplan(*args, "--json", db=url)
        code, out, err = ran.returncode, ran.stdout, ran.stderr
    except SystemExit as exc:  # argparse's own refusal (in-process)
        captured = capsys.readouterr()
        code, out, err = int(str(exc.code)), captured.out, captured.err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert out == ""


def test_map_help_says_how_to_suppress(
    coverplan: Coverplan, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        coverplan("map", "--help")
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "--suppress" in text and "<5" in text and "管理员" in text
