"""Tests for geo.geocode: the hand-written address set and the matching rules."""

from __future__ import annotations

import csv
import dataclasses
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import GazetteerError
from geo.gazetteer import Gazetteer, Town, Village, load_fenghua
from geo.geocode import (
    AMBIGUOUS,
    MATCHED,
    OUTSIDE,
    RESULT_COLUMNS,
    UNMATCHED,
    Geocoder,
    GeocodeResult,
    normalize_address,
)

CASES = Path(__file__).resolve().parents[1] / "data" / "geocode_cases.csv"
MIN_CASES = 350
MIN_ACCURACY = 0.97
STATUSES = {MATCHED, AMBIGUOUS, UNMATCHED, OUTSIDE}

# Pre-merger names (村规模调整) used by some rows of geocode_cases.csv. They are
# illustrative: "董家村" and "联胜村" deliberately collide with real villages of
# other towns (大堰镇董家村委会, 溪口镇联胜村委会).
TEST_ALIASES = {
    "330213007245": ("王家村", "董家村"),  # 尚田街道王董新村委会
    "330213008254": ("宋家岙村", "陆家村"),  # 莼湖街道宋陆新村委会
    "330213007243": ("双溪村", "联胜村"),  # 尚田街道双溪联村委会
    "330213100255": ("剡溪村",),  # 溪口镇剡东村委会
}

YANTOU = "330213100225"  # 溪口镇岩头村委会
YANKENG = "330213100245"  # 溪口镇岩坑村委会
YINJIAKENG = "330213007234"  # 尚田街道印家坑村委会
CHANGLING_COMMUNITY = "330213001010"  # 锦屏街道长岭社区
CHANGLING_VILLAGE = "330213001212"  # 锦屏街道长岭村委会
HETOU_JINPING = "330213001213"
HETOU_XIWU = "330213004213"
XIKOU_TOWN = "330213100"
XIWU_TOWN = "330213004"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return load_fenghua()


@pytest.fixture(scope="module")
def coder(gaz: Gazetteer) -> Geocoder:
    return Geocoder(gaz)


def _cases() -> list[dict[str, str]]:
    with CASES.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------- the case file


def test_case_file_is_well_formed(gaz: Gazetteer) -> None:
    rows = _cases()
    assert len(rows) >= MIN_CASES
    assert list(rows[0]) == ["address", "expected_code", "expected_status"]
    assert len({r["address"] for r in rows}) == len(rows), "duplicate addresses"
    for r in rows:
        assert r["expected_status"] in STATUSES, r
        if r["expected_status"] == MATCHED:
            assert gaz.has_village(r["expected_code"]), r
        else:
            assert r["expected_code"] == "", r
    statuses = {r["expected_status"] for r in rows}
    assert statuses == STATUSES


def test_case_file_accuracy_and_no_wrong_matches(gaz: Gazetteer) -> None:
    coder = Geocoder(gaz.with_aliases(TEST_ALIASES))
    rows = _cases()
    failures = []
    wrong = []
    for r in rows:
        res = coder.geocode(r["address"])
        got = (res.status, res.village_code or "")
        if got != (r["expected_status"], r["expected_code"]):
            line = (
                f"{r['address']!r}: expected {r['expected_status']} {r['expected_code']}, "
                f"got {res.status} {res.village_code} {res.village_name} "
                f"({res.method}, {res.score:.0f}, candidates={res.candidates})"
            )
            failures.append(line)
            if res.status == MATCHED:
                wrong.append(line)
    accuracy = 1 - len(failures) / len(rows)
    print(f"\n{len(rows)} cases, accuracy {accuracy:.2%}, wrong matches {len(wrong)}")
    print("\n".join(failures))
    assert not wrong, "confident wrong answers:\n" + "\n".join(wrong)
    assert accuracy >= MIN_ACCURACY


# --------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("溪口镇 岩头村 12号", "溪口镇岩头村12号"),
        ("溪口镇岩头村（１２号）", "溪口镇岩头村12号"),
        ("\t溪口镇、岩头村#3-2\n", "溪口镇岩头村32"),
        ("ＡＢ栋", "ab栋"),
        ("", ""),
    ],
)
def test_normalize_address(raw: str, norm: str) -> None:
    assert normalize_address(raw) == norm


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(max_size=30))
def test_normalize_address_is_idempotent(text: str) -> None:
    once = normalize_address(text)
    assert normalize_address(once) == once
    assert not any(ch.isspace() for ch in once)


# --------------------------------------------------------------------- prefixes


@pytest.mark.parametrize(
    "address",
    [
        "浙江省宁波市奉化区溪口镇岩头村",
        "浙江宁波奉化溪口镇岩头村",
        "宁波市奉化市溪口镇岩头村",
        "奉化市溪口镇岩头村委会",
        "奉化溪口岩头村",
        "中国浙江省宁波市奉化区溪口镇岩头村",
        "330213溪口镇岩头村",
        "330283 溪口镇岩头村",
        "宁波市 奉化区 330213100 岩头村",
        "溪口镇岩头村 身份证330283199001011234",
    ],
)
def test_prefixes_and_codes_are_stripped(coder: Geocoder, address: str) -> None:
    res = coder.geocode(address)
    assert (res.status, res.village_code) == (MATCHED, YANTOU)
    assert res.method == "exact"
    assert res.town_name == "溪口镇" and res.village_name == "岩头村委会"


@pytest.mark.parametrize("town", ["尚田街道", "尚田镇", "尚田乡", "尚田", "奉化市尚田镇"])
def test_old_town_names(coder: Geocoder, town: str) -> None:
    res = coder.geocode(f"{town}印家坑村12号")
    assert (res.status, res.village_code, res.town_name) == (MATCHED, YINJIAKENG, "尚田街道")


# --------------------------------------------------------------------- codes


def test_village_code_in_text(coder: Geocoder) -> None:
    res = coder.geocode(YANTOU)
    assert (res.status, res.village_code, res.method, res.score) == (MATCHED, YANTOU, "code", 100)
    assert coder.geocode(f"{YANTOU} 岩头村").village_code == YANTOU


def test_code_disagreeing_with_name_is_ambiguous(coder: Geocoder) -> None:
    res = coder.geocode(f"{YANTOU}西岙村")
    assert res.status == AMBIGUOUS and res.village_code is None
    assert res.candidates[0] == YANTOU and len(res.candidates) == 4


def test_old_county_code_needs_the_name(coder: Geocoder) -> None:
    old = "330283" + YANTOU[6:]
    assert coder.geocode(f"{old}溪口镇岩头村").village_code == YANTOU
    alone = coder.geocode(old)
    assert (alone.status, alone.candidates) == (AMBIGUOUS, (YANTOU,))
    other = coder.geocode(f"{old}尚田街道印家坑村")
    assert other.status == AMBIGUOUS
    assert set(other.candidates) == {YANTOU, YINJIAKENG}


# --------------------------------------------------------------------- ambiguity


def test_bare_name_with_two_kinds_is_ambiguous(coder: Geocoder) -> None:
    res = coder.geocode("锦屏街道长岭")
    assert res.status == AMBIGUOUS
    assert set(res.candidates) == {CHANGLING_COMMUNITY, CHANGLING_VILLAGE}
    assert res.town_name == "锦屏街道" and res.village_code is None


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("锦屏街道长岭村", CHANGLING_VILLAGE),
        ("锦屏街道长岭村委会", CHANGLING_VILLAGE),
        ("长岭社区", CHANGLING_COMMUNITY),
        ("锦屏街道长岭社区居委会", CHANGLING_COMMUNITY),
        ("西坞街道河头村", HETOU_XIWU),
        ("锦屏河头村3组", HETOU_JINPING),
    ],
)
def test_suffix_or_town_decides(coder: Geocoder, address: str, code: str) -> None:
    res = coder.geocode(address)
    assert (res.status, res.village_code) == (MATCHED, code)


def test_name_in_two_towns_is_ambiguous(coder: Geocoder) -> None:
    res = coder.geocode("河头村")
    assert res.status == AMBIGUOUS
    assert set(res.candidates) == {HETOU_JINPING, HETOU_XIWU}
    assert res.town_code is None
    assert len(coder.geocode("西岙村委会").candidates) == 3


def test_town_disagreeing_with_village_is_ambiguous(coder: Geocoder) -> None:
    res = coder.geocode("溪口镇印家坑村")
    assert res.status == AMBIGUOUS and res.candidates == (YINJIAKENG,)


@pytest.mark.parametrize(
    ("address", "town_code"),
    [
        ("西坞街道", XIWU_TOWN),
        ("西坞", XIWU_TOWN),
        ("大堰镇", "330213107"),
        ("溪口镇中兴路12号", XIKOU_TOWN),
        ("溪口镇中山路8号", XIKOU_TOWN),
        ("溪口镇中山东路8号", XIKOU_TOWN),
        ("溪口镇武岭西路", XIKOU_TOWN),
        ("锦屏街道阳光花园3幢", "330213001"),
    ],
)
def test_town_names_and_roads_are_not_villages(
    coder: Geocoder, address: str, town_code: str
) -> None:
    res = coder.geocode(address)
    assert res.status == UNMATCHED and res.method == "town_only"
    assert res.town_code == town_code
    assert res.village_code is None and res.village_name is None and res.candidates == ()


@pytest.mark.parametrize("address", ["", "   ", "不详", "12345", "中山路12号", "奉化区"])
def test_garbage_is_unmatched(coder: Geocoder, address: str) -> None:
    res = coder.geocode(address)
    assert (res.status, res.method, res.town_code, res.score) == (UNMATCHED, "none", None, 0)


def test_other_district_is_outside(coder: Geocoder) -> None:
    res = coder.geocode("宁波市鄞州区姜山镇东山村")
    assert (res.status, res.method) == (OUTSIDE, "outside")
    assert res.village_code is None and res.town_code is None and res.candidates == ()
    # An unknown town is never a confident match either.
    assert coder.geocode("姜山镇东山村").status == AMBIGUOUS


@pytest.mark.parametrize(
    "address",
    [
        "浙江省宁波市海曙区西门街道1号",
        "江苏省南京市玄武区中山路1号",
        "江苏省溪口镇岩头村",  # a village name of this district does not pull it in
        "慈溪市白沙路街道",
        "浙江省杭州市西湖区",
        "内蒙古自治区呼和浩特市",
        "住址：宁波海曙区",
    ],
)
def test_other_province_city_or_district_is_outside(coder: Geocoder, address: str) -> None:
    res = coder.geocode(address)
    assert (res.status, res.method, res.village_code) == (OUTSIDE, "outside", None)


@pytest.mark.parametrize("address", ["农贸市场12号", "溪口镇岩头村（宁波市海曙区西门）"])
def test_admin_words_that_are_not_a_prefix_are_not_outside(coder: Geocoder, address: str) -> None:
    assert coder.geocode(address).status != OUTSIDE


def test_parts_in_another_district_are_outside(coder: Geocoder) -> None:
    # Village column of this district, address of another: never matched here.
    by_address = coder.geocode_parts(
        town="溪口镇", village="岩头村", address="浙江省宁波市海曙区西门街道1号"
    )
    assert (by_address.status, by_address.village_code) == (OUTSIDE, None)
    by_town = coder.geocode_parts(town="海曙区西门街道", village="岩头村")
    assert by_town.status == OUTSIDE
    with_code = coder.geocode_parts(village="岩头村", village_code=YANTOU, address="江苏省南京市")
    assert with_code.status == OUTSIDE
    assert coder.geocode(f"{YANTOU} 宁波市海曙区").status == OUTSIDE


# --------------------------------------------------------------------- another district

# A made-up district: its own prefixes come from its gazetteer, nothing from code.
TEST_COUNTY = Gazetteer.from_records(
    district_code="330999",
    district_name="测试县",
    district_aliases=["旧测试市"],
    former_codes=["330998"],
    parents=["浙江省", "测试市"],
    towns=[
        {"code": "330999001", "name": "甲山镇"},
        {"code": "330999002", "name": "乙水街道"},
    ],
    villages=[
        {"code": "330999001201", "name": "东岭村委会", "town_code": "330999001"},
        {"code": "330999001202", "name": "西岭村委会", "town_code": "330999001"},
        {"code": "330999002001", "name": "河滨社区", "town_code": "330999002"},
        {"code": "330999002201", "name": "岩头村委会", "town_code": "330999002"},
    ],
)


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("浙江省测试市测试县甲山镇东岭村5号", "330999001201"),
        ("测试市测试县乙水街道河滨社区", "330999002001"),
        ("浙江测试测试县甲山西岭村", "330999001202"),
        ("旧测试市甲山镇东岭村", "330999001201"),
        ("测试县乙水街道岩头村", "330999002201"),
        ("330998002201 岩头村", "330999002201"),  # former district code
    ],
)
def test_another_district_strips_its_own_prefixes(address: str, code: str) -> None:
    res = Geocoder(TEST_COUNTY).geocode(address)
    assert (res.status, res.village_code) == (MATCHED, code), res


@pytest.mark.parametrize(
    "address",
    [
        "浙江省宁波市奉化区溪口镇岩头村",  # 岩头村委会 exists here too: still outside
        "奉化区溪口镇岩头村",
        "宁波市奉化区锦屏街道",
        "浙江省宁波市海曙区西门街道",
        "江苏省测试市甲山镇东岭村",  # another province with a city of the same name
    ],
)
def test_fenghua_addresses_are_outside_of_another_district(address: str) -> None:
    res = Geocoder(TEST_COUNTY).geocode(address)
    assert (res.status, res.method, res.village_code) == (OUTSIDE, "outside", None)


def test_fenghua_names_are_not_prefixes_of_another_district() -> None:
    """奉化市/宁波市 are only stripped for 奉化区: elsewhere they are other places."""
    coder = Geocoder(TEST_COUNTY)
    assert coder.geocode("奉化市甲山镇东岭村").status == OUTSIDE
    assert Geocoder(load_fenghua()).geocode("测试县甲山镇东岭村").status == OUTSIDE


def test_longest_name_wins(coder: Geocoder) -> None:
    assert coder.geocode("溪口镇溪口一村").village_name == "溪口一村委会"
    assert coder.geocode("溪口1村").village_name == "溪口一村委会"
    assert coder.geocode("上下张村").village_name == "上下张村委会"
    assert coder.geocode("张村").village_name == "张村委会"
    assert coder.geocode("城西岙村").village_name == "城西岙村委会"


def test_bare_name_needs_a_clean_tail(coder: Geocoder) -> None:
    assert coder.geocode("萧王庙滕头").village_name == "滕头村委会"
    assert coder.geocode("溪口镇岩头12号").village_code == YANTOU
    assert coder.geocode("溪口镇岩头东山").status == AMBIGUOUS
    assert coder.geocode("大堰镇大堰12号").status == AMBIGUOUS  # 居委会 and 村委会


# --------------------------------------------------------------------- typos


def test_homophone_typo_is_pinyin(coder: Geocoder) -> None:
    res = coder.geocode("溪口镇岩投村")
    assert (res.status, res.village_code, res.method) == (MATCHED, YANTOU, "pinyin")
    assert coder.geocode("西澳村").status == AMBIGUOUS  # 西岙 in 3 towns, 溪岙


def test_one_edit_typo_is_fuzzy(coder: Geocoder) -> None:
    res = coder.geocode("尚田镇印家肯村")
    assert (res.status, res.village_code, res.method) == (MATCHED, YINJIAKENG, "fuzzy")
    assert 80 <= res.score < 100
    tie = coder.geocode("溪口镇岩斗村")  # 岩头 or 岩坑
    assert tie.status == AMBIGUOUS and set(tie.candidates) == {YANTOU, YANKENG}


def test_fuzzy_settings_are_honoured(gaz: Gazetteer) -> None:
    strict_margin = Geocoder(gaz, fuzzy_margin=100.0).geocode("尚田镇印家肯村")
    assert strict_margin.status == AMBIGUOUS and strict_margin.candidates == (YINJIAKENG,)
    high_floor = Geocoder(gaz, fuzzy_min_score=90.0).geocode("尚田镇印家肯村")
    assert (high_floor.status, high_floor.method) == (UNMATCHED, "town_only")


# --------------------------------------------------------------------- precedence


def test_corrections_come_first(gaz: Gazetteer) -> None:
    coder = Geocoder(gaz, corrections={"溪口镇岩头村３号": YANKENG})
    res = coder.geocode("溪口镇 岩头村 3号")
    assert (res.status, res.village_code, res.method) == (MATCHED, YANKENG, "correction")
    assert res.address == "溪口镇 岩头村 3号"
    assert coder.geocode("溪口镇岩头村4号").village_code == YANTOU


def test_corrections_with_unknown_code(gaz: Gazetteer) -> None:
    with pytest.raises(GazetteerError, match="村社代码「330213100999」不在村社名录中"):
        Geocoder(gaz, corrections={"溪口镇岩头村": "330213100999"})


def test_alias_beats_fuzzy(gaz: Gazetteer) -> None:
    plain = Geocoder(gaz).geocode("溪口镇岩斗村")
    assert plain.status == AMBIGUOUS
    coder = Geocoder(gaz.with_aliases({YANKENG: ["岩斗村"]}))
    res = coder.geocode("溪口镇岩斗村")
    assert (res.status, res.village_code, res.method) == (MATCHED, YANKENG, "alias")


def test_alias_beats_pinyin(gaz: Gazetteer) -> None:
    coder = Geocoder(gaz.with_aliases({YANKENG: ["岩投村"]}))
    res = coder.geocode("溪口镇岩投村")
    assert (res.village_code, res.method) == (YANKENG, "alias")


def test_alias_colliding_with_real_name_is_ambiguous(gaz: Gazetteer) -> None:
    coder = Geocoder(gaz.with_aliases(TEST_ALIASES))
    assert coder.geocode("董家村").status == AMBIGUOUS
    assert coder.geocode("尚田街道董家村").method == "alias"
    assert coder.geocode("大堰镇董家村").method == "exact"


# --------------------------------------------------------------------- parts


def test_parts_town_and_village(coder: Geocoder) -> None:
    res = coder.geocode_parts(town="尚田镇", village="印家坑村")
    assert (res.status, res.village_code) == (MATCHED, YINJIAKENG)
    assert res.address == "尚田镇 印家坑村"


def test_parts_disagreement_is_ambiguous(coder: Geocoder) -> None:
    res = coder.geocode_parts(town="溪口镇", village="印家坑村")
    assert res.status == AMBIGUOUS and res.candidates == (YINJIAKENG,)
    code = coder.geocode_parts(town="尚田街道", village_code=YANTOU)
    assert code.status == AMBIGUOUS
    mixed = coder.geocode_parts(village="岩头村", address="尚田街道印家坑村")
    assert mixed.status == AMBIGUOUS and set(mixed.candidates) == {YANTOU, YINJIAKENG}


def test_parts_code_wins_when_valid(coder: Geocoder) -> None:
    res = coder.geocode_parts(town="溪口", village="岩头", village_code=YANTOU)
    assert (res.status, res.method, res.village_code) == (MATCHED, "code", YANTOU)
    from_excel = coder.geocode_parts(village_code=float(YANTOU))  # type: ignore[arg-type]
    assert from_excel.village_code == YANTOU
    unknown = coder.geocode_parts(town="溪口镇", village="岩头村", village_code="330213100999")
    assert (unknown.status, unknown.method, unknown.village_code) == (MATCHED, "exact", YANTOU)


def test_parts_address_resolves_ambiguous_village(coder: Geocoder) -> None:
    res = coder.geocode_parts(town="锦屏街道", village="长岭", address="锦屏街道长岭村3组")
    assert res.village_code == CHANGLING_VILLAGE
    only = coder.geocode_parts(town="锦屏街道", village="长岭")
    assert only.status == AMBIGUOUS


def test_parts_fall_back_to_address_and_town(coder: Geocoder) -> None:
    res = coder.geocode_parts(town="西坞", village=None, address="河头村5号")
    assert res.village_code == HETOU_XIWU
    town_only = coder.geocode_parts(town="溪口镇", address="中兴路12号")
    assert (town_only.status, town_only.method, town_only.town_code) == (
        UNMATCHED,
        "town_only",
        XIKOU_TOWN,
    )
    nothing = coder.geocode_parts()
    assert (nothing.status, nothing.method) == (UNMATCHED, "none")


def test_parts_unknown_town_is_never_confident(coder: Geocoder) -> None:
    res = coder.geocode_parts(town="姜山镇", village="东山村")
    assert res.status == AMBIGUOUS


def test_parts_correction(gaz: Gazetteer) -> None:
    coder = Geocoder(gaz, corrections={"溪口镇岩头村": YANKENG})
    res = coder.geocode_parts(town="溪口镇", village="岩头村")
    assert (res.method, res.village_code) == ("correction", YANKENG)


# --------------------------------------------------------------------- many


def test_geocode_many_columns(coder: Geocoder) -> None:
    frame = coder.geocode_many(["溪口镇岩头村", "锦屏街道长岭", "溪口镇", None, float("nan")])  # type: ignore[list-item]
    assert list(frame.columns) == list(RESULT_COLUMNS)
    assert list(frame.columns[:7]) == [
        "address",
        "village_code",
        "village_name",
        "town_name",
        "method",
        "score",
        "status",
    ]
    assert list(frame["status"]) == [MATCHED, AMBIGUOUS, UNMATCHED, UNMATCHED, UNMATCHED]
    assert frame.loc[0, "village_code"] == YANTOU
    assert frame.loc[1, "candidates"] == f"{CHANGLING_COMMUNITY};{CHANGLING_VILLAGE}"
    assert frame.loc[0, "candidates"] == ""
    assert frame["village_code"].isna().iloc[2] and frame.loc[2, "town_code"] == XIKOU_TOWN
    assert frame["score"].dtype == "float64"


def test_results_are_frozen(coder: Geocoder) -> None:
    res = coder.geocode("溪口镇岩头村")
    assert isinstance(res, GeocodeResult) and res.matched
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.status = AMBIGUOUS  # type: ignore[misc]


def test_fifteen_thousand_rows_in_one_call(gaz: Gazetteer) -> None:
    """A register-sized batch in one call: every row gets its village.

    Speed is measured by ``make bench-coverage``, not here (no timed unit tests).
    """
    styles = (
        "浙江省宁波市奉化区{town}{name}{n}号",
        "奉化市{stem}镇{core}村{g}组{n}号",
        "{town}{core}斗村{n}号",
        "{town}中兴路{n}号",
        "{core}村{n}号",
    )
    villages = gaz.villages
    addresses = []
    for i in range(15_000):
        v = villages[(i * 7919) % len(villages)]
        town = gaz.town(v.town_code)
        addresses.append(
            styles[i % len(styles)].format(
                town=town.name, stem=town.stem, name=v.name, core=v.core, n=i % 301, g=i % 13
            )
        )
    coder = Geocoder(gaz)
    frame = coder.geocode_many(addresses)
    assert len(frame) == 15_000
    expected = [villages[(i * 7919) % len(villages)].code for i in range(15_000)]
    matched = frame["status"] == "matched"
    full_address = pd.Series([i % len(styles) == 0 for i in range(15_000)])
    # the full official address always resolves, to the right village
    assert matched[full_address].all()
    assert (frame.loc[full_address, "village_code"] == pd.Series(expected)[full_address]).all()


# --------------------------------------------------------------------- properties

_NAME_CHARS = sorted(set("".join(v.name for v in load_fenghua().villages)))
_ALPHABET = "".join(_NAME_CHARS) + "镇街道路号组0123"


@lru_cache(maxsize=1)
def _property_coder() -> Geocoder:
    return Geocoder(load_fenghua())


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=_ALPHABET, max_size=16))
def test_results_are_always_consistent(text: str) -> None:
    gaz = load_fenghua()
    res = _property_coder().geocode(text)
    assert res.status in STATUSES
    if res.status == MATCHED:
        assert res.village_code is not None and gaz.has_village(res.village_code)
        assert res.village_name == gaz.village(res.village_code).name
        assert res.town_code == gaz.village(res.village_code).town_code
        assert res.candidates == ()
    else:
        assert res.village_code is None and res.village_name is None
    if res.status == AMBIGUOUS:
        assert res.candidates and all(gaz.has_village(c) for c in res.candidates)
    assert 0 <= res.score <= 100


_SUFFIXES = {
    "village": ("村", "村委会", "村民委员会"),
    "community": ("社区", "居委会", "社区居委会"),
    "living_area": ("生活区",),
}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.sampled_from(load_fenghua().villages),
    st.sampled_from(load_fenghua().towns),
    st.sampled_from(["", "12号", "3组", "东路8弄", "5幢201室"]),
    st.data(),
)
def test_town_plus_village_is_never_wrong(
    village: Village, town: Town, tail: str, data: st.DataObject
) -> None:
    suffix = data.draw(st.sampled_from(_SUFFIXES[village.kind]))
    spelling = data.draw(st.sampled_from([town.name, town.stem, f"{town.stem}镇"]))
    res = _property_coder().geocode(f"{spelling}{village.core}{suffix}{tail}")
    same = [
        v
        for v in load_fenghua().villages_of(town.code)
        if v.core == village.core and v.kind == village.kind
    ]
    expected = same[0].code if len(same) == 1 else None
    if res.status == MATCHED:
        assert res.village_code == expected
    if expected is not None:
        assert res.village_code == expected


_ROADS = ("路", "街", "大道", "巷", "弄", "桥", "东路", "中路", "小区", "花园", "新村", "公司")


def test_bare_name_before_a_road_is_never_matched(gaz: Gazetteer, coder: Geocoder) -> None:
    matched = []
    for village in gaz.villages:
        town = gaz.town(village.town_code)
        for spelling in (town.name, town.stem, ""):
            for road in _ROADS:
                res = coder.geocode(f"{spelling}{village.core}{road}8号")
                if res.status == MATCHED:
                    matched.append(f"{res.address} -> {res.village_name}")
    assert not matched, "\n".join(matched)
