from datetime import date

import pytest

from planner.ingest import normalize as nz
from planner.settings import Config


@pytest.mark.parametrize("text", ["一级", "1", "1级", "Ⅰ级", "一", "壹级", "I级", "１级", " 一级 "])
def test_grade_one_spellings(text: str) -> None:
    assert nz.parse_grade(text) == 1


@pytest.mark.parametrize("text", ["五级", "", "重度", "0"])
def test_bad_grades(text: str) -> None:
    with pytest.raises(ValueError, match="残疾等级"):
        nz.parse_grade(text)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("肢体残疾", "physical"),
        ("肢体", "physical"),
        ("精神残疾", "psychiatric"),
        ("多重", "multiple"),
        ("听力", "hearing"),
        ("言语残疾", "speech"),
    ],
)
def test_categories(config: Config, text: str, key: str) -> None:
    assert nz.parse_category(text, lookup=nz.category_lookup(config)) == key


def test_unknown_category(config: Config) -> None:
    with pytest.raises(ValueError, match="其他"):
        nz.parse_category("其他", lookup=nz.category_lookup(config))


@pytest.mark.parametrize(
    "text", ["2024-03-05", "2024/3/5", "2024.03.05", "20240305", "2024年3月5日", "45356"]
)
def test_dates(text: str) -> None:
    assert nz.parse_date(text) == date(2024, 3, 5)


def test_phone_full_width_and_spaces() -> None:
    assert nz.parse_phone("１３８ 1234 5678") == "13812345678"
    assert nz.parse_phone("0574-88881234") == "057488881234"
    with pytest.raises(ValueError, match="电话"):
        nz.parse_phone("12")


def test_bools_and_low_income() -> None:
    assert nz.parse_bool("是") is True and nz.parse_bool("否") is False
    assert nz.parse_bool(None) is None
    assert nz.parse_low_income("低保边缘") == "dibian"
    with pytest.raises(ValueError, match="是/否"):
        nz.parse_bool("也许")
