"""The outreach actions of the application layer: options, progress, the typed results."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from planner.errors import CalendarError, InputError
from planner.outreach.plan import MonthPlan
from planner.services import MonthOptions, YearOptions, outreach_month, outreach_year
from planner.settings import load_config
from planner.store.core import Store
from tests.planner.outreach.test_golden import Cli, V, setup_county


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"month": 13}, InputError, "月份「13」无效"),
        ({"month": 0}, InputError, "应为 1–12"),
        ({"year": 0}, CalendarError, "年份「0」无效"),
        ({"time_limit_s": -1.0}, InputError, "--seconds"),
        ({"time_limit_s": float("nan")}, InputError, "非负数"),
    ],
)
def test_month_options_are_checked(kwargs: dict[str, object], error: type, match: str) -> None:
    fields: dict[str, object] = {"year": 2027, "month": 3, **kwargs}
    with pytest.raises(error, match=match):
        MonthOptions(**fields)  # type: ignore[arg-type]


def test_options_keep_what_they_are_given() -> None:
    o = MonthOptions(year=2027, month=3, villages=["330999002201"], time_limit_s=0)  # type: ignore[arg-type]
    assert o.villages == ("330999002201",)  # a tuple: the options are frozen
    with pytest.raises(CalendarError, match="年份「10000」无效"):
        YearOptions(year=10000)


@pytest.mark.slow
def test_month_reports_progress_per_outreach_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(f"sqlite:///{tmp_path / 'c.db'}", capsys)
    setup_county(tmp_path, cli)
    config = load_config()
    two_days = config.model_copy(
        update={"outreach": config.outreach.model_copy(update={"days": 2})}
    )
    seen: list[tuple[str, float | None]] = []
    store = Store(cli.db)
    try:
        options = MonthOptions(year=2027, month=3, villages=(V["V08"],), time_limit_s=0.2)
        plan = outreach_month(
            store, config=two_days, options=options, progress=lambda m, f: seen.append((m, f))
        )
        calendar = outreach_year(
            store, config=config, options=YearOptions(year=2027, today=date(2026, 12, 1))
        )
    finally:
        store.dispose()
    assert seen == [
        ("加载道路网络", None),
        ("求解入户路线：2027-03-02（第 1/2 天）", 0.0),
        ("求解入户路线：2027-03-03（第 2/2 天）", 0.5),
        ("入户路线求解完成", 1.0),
    ]
    assert isinstance(plan, MonthPlan) and len(plan.routing) == 2
    assert [d.date for _, d in plan.team_days] == [date(2027, 3, 2), date(2027, 3, 3)] * 2
    # 竹园村's five home visits (three for team A, two for team B) all fit on the first day
    assert plan.stats.planned == plan.stats.households_needing_visit == 5
    assert [d.stops_count for _, d in plan.team_days] == [3, 0, 2, 0]
    # the calendar is typed too: twelve months, 东岭村 first (its 14 residents under
    # medication supervision make it the highest need)
    assert [m.month for m in calendar.schedule] == list(range(1, 13))
    assert calendar.schedule[0].villages[0].code == V["V10"]
    assert calendar.schedule[0].villages[0].parts["supervised_medication"] == 14
    assert calendar.to_json()["months"][0] == calendar.schedule[0].to_json()
