from datetime import date, timedelta
from pathlib import Path

from planner.domain.devices import due_in_frame, due_on
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import devices_frame
from tests.actions import import_file
from tests.factories import make_id

TODAY = date(2026, 11, 1)


def test_due_on_handles_fractions_and_leap_days() -> None:
    assert due_on(date(2020, 2, 29), 5) == date(2025, 2, 28)
    assert due_on(date(2020, 1, 1), 1.5) == date(2021, 1, 1) + timedelta(days=183)


def test_only_the_latest_device_of_a_type_can_be_due(
    store: Store, config: Config, tmp_path: Path
) -> None:
    a, b = make_id(date(1950, 1, 1), 1), make_id(date(1951, 1, 1), 3)
    reg = tmp_path / "r.csv"
    reg.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"
        f"甲,{a},肢体,一级,溪口镇,武岭社区\n乙,{b},听力,二级,溪口镇,武岭社区\n",
        encoding="utf-8",
    )
    import_file(store, "residents", reg, config=config, today=TODAY)
    dev = tmp_path / "d.csv"
    dev.write_text(
        "公民身份号码,辅具名称,发放日期,使用年限,更换日期\n"
        f"{a},轮椅,2015-03-01,5,\n"  # replaced by the next row
        f"{a},轮椅,2021-06-01,6,\n"  # due 2027-06-01: within a year
        f"{b},助听器,2018-01-01,5,\n"  # overdue
        f"{b},盲杖,2016-01-01,2,2018-01-01\n"  # marked replaced
        f"{b},拐杖,2025-01-01,3,\n",  # due 2028: not yet
        encoding="utf-8",
    )
    res = import_file(store, "devices", dev, config=config, today=TODAY)
    assert (res.stored, res.rejected) == (5, 0)
    due = due_in_frame(devices_frame(store), today=TODAY, within_days=365)
    assert sorted((d.device_type, d.due_on) for d in due) == [
        ("助听器", date(2023, 1, 1)),
        ("轮椅", date(2027, 6, 1)),
    ]


def test_device_of_unknown_person_is_rejected(store: Store, config: Config, tmp_path: Path) -> None:
    dev = tmp_path / "d.csv"
    dev.write_text(
        "公民身份号码,辅具名称,发放日期,使用年限\n"
        f"{make_id(date(1960, 1, 1), 5)},轮椅,2020-01-01,5\n",
        encoding="utf-8",
    )
    res = import_file(store, "devices", dev, config=config, today=TODAY)
    assert res.rejected == 1 and "名册" in res.problems[0].reason
