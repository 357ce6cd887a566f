from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.ingest.idnumber import (
    InvalidIdNumber,
    check_char,
    is_valid_id_number,
    parse_id_number,
)
from tests.factories import make_id

TODAY = date(2026, 11, 1)

valid_ids = st.builds(
    make_id,
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
    region=st.sampled_from(["330213", "330283", "110101", "440305", "820000"]),
)


def test_known_number_from_the_standard() -> None:
    # GB 11643-1999 appendix example: 11010519491231002X
    ident = parse_id_number("11010519491231002x", today=TODAY)
    assert ident.number == "11010519491231002X"
    assert ident.birth_date == date(1949, 12, 31)
    assert ident.sex == "女"
    assert check_char("11010519491231002") == "X"


def test_fifteen_digit_legacy_number_is_converted() -> None:
    ident = parse_id_number("110105491231002", today=TODAY)
    assert ident.number == "11010519491231002X"
    assert ident.converted_from_15


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "为空"),
        ("  ", "为空"),
        ("12345", "18 位"),
        ("33021319501301001X", "出生日期 19501301 不存在"),
        ("110105194912310021", "校验位错误"),
        ("3.30213195001E+17", "科学计数法"),
        ("930213195001010011", "地区码"),
    ],
)
def test_rejections_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumber, match=reason):
        parse_id_number(text, today=TODAY)


def test_future_birth_date_is_impossible() -> None:
    with pytest.raises(InvalidIdNumber, match="不可能"):
        parse_id_number(make_id(date(2026, 12, 1), 1), today=TODAY)


def test_full_width_spaces_and_excel_apostrophe_are_accepted() -> None:
    n = make_id(date(1960, 5, 6), 17)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in n)
    assert parse_id_number(wide, today=TODAY).number == n
    assert parse_id_number(f"'{n[:6]} {n[6:]}", today=TODAY).number == n


@given(valid_ids)
def test_valid_ids_parse(number: str) -> None:
    assert parse_id_number(number, today=TODAY).number == number


@given(valid_ids, st.data())
def test_every_single_character_mutation_is_rejected(number: str, data: st.DataObject) -> None:
    pos = data.draw(st.integers(min_value=0, max_value=17))
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    new = data.draw(st.sampled_from([c for c in alphabet if c != number[pos]]))
    mutated = number[:pos] + new + number[pos + 1 :]
    assert not is_valid_id_number(mutated, today=TODAY)


def test_masks() -> None:
    from planner.domain.privacy import mask_id, mask_name, mask_phone
    from planner.settings import PrivacyConfig

    assert mask_id("330213195001010018") == "330213********0018"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id(None) == ""
    assert mask_name("张三丰") == "张**"
    narrow = PrivacyConfig(id_keep_head=2, id_keep_tail=2, phone_keep_head=0, phone_keep_tail=2)
    assert mask_id("330213195001010018", privacy=narrow) == "33" + "*" * 14 + "18"
    assert mask_phone("13812345678", privacy=narrow) == "*" * 9 + "78"
