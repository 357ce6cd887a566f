"""Tests for geo.gazetteer: the packaged 奉化区 list, name helpers, validation."""

from __future__ import annotations

import dataclasses

import pytest

from geo.errors import GazetteerError
from geo.gazetteer import (
    COMMUNITY,
    LIVING_AREA,
    VILLAGE,
    Gazetteer,
    Town,
    Village,
    core_name,
    load_fenghua,
    town_stem,
    town_variants,
    village_kind,
)

SHANGTIAN = "330213007"
JINPING = "330213001"
YANTOU = "330213100225"
CHANGLING_COMMUNITY = "330213001010"
CHANGLING_VILLAGE = "330213001212"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return load_fenghua()


def _small(**overrides: object) -> dict[str, object]:
    records: dict[str, object] = {
        "district_code": "330213",
        "district_name": "奉化区",
        "towns": [{"code": "330213100", "name": "溪口镇"}],
        "villages": [{"code": "330213100225", "name": "岩头村委会", "town_code": "330213100"}],
    }
    records.update(overrides)
    return records


# --------------------------------------------------------------------- packaged list


def test_load_fenghua_counts(gaz: Gazetteer) -> None:
    assert gaz.district_code == "330213"
    assert gaz.district_name == "奉化区"
    assert len(gaz.towns) == 12
    assert len(gaz.villages) == 337
    assert all(v.lon is None and v.lat is None for v in gaz.villages)


def test_load_fenghua_is_cached_and_frozen(gaz: Gazetteer) -> None:
    assert load_fenghua() is gaz
    with pytest.raises(dataclasses.FrozenInstanceError):
        gaz.district_name = "x"  # type: ignore[misc]
    assert hash(gaz) == hash(load_fenghua())


def test_load_fenghua_knows_old_county(gaz: Gazetteer) -> None:
    assert gaz.former_codes == ("330283",)
    assert {"奉化区", "奉化市", "奉化县"} <= set(gaz.district_names)
    assert gaz.parents == ("浙江省", "宁波市")


def test_lookup_by_code(gaz: Gazetteer) -> None:
    assert gaz.town(SHANGTIAN).name == "尚田街道"
    assert gaz.village(YANTOU).name == "岩头村委会"
    assert gaz.town_of(YANTOU).name == "溪口镇"
    assert gaz.has_village(YANTOU)
    assert not gaz.has_village("330213100999")
    assert gaz.has_town(JINPING)


def test_unknown_codes_raise_actionable_errors(gaz: Gazetteer) -> None:
    with pytest.raises(GazetteerError, match="未知的村社代码「330213100999」"):
        gaz.village("330213100999")
    with pytest.raises(GazetteerError, match="未知的镇街代码「330213999」"):
        gaz.town("330213999")
    with pytest.raises(GazetteerError, match="未知的镇街代码"):
        gaz.villages_of("330213999")


def test_villages_of(gaz: Gazetteer) -> None:
    jinping = gaz.villages_of(JINPING)
    assert {v.town_code for v in jinping} == {JINPING}
    codes = [v.code for v in jinping]
    assert CHANGLING_COMMUNITY in codes and CHANGLING_VILLAGE in codes
    assert sum(len(gaz.villages_of(t.code)) for t in gaz.towns) == 337


def test_duplicate_names_in_real_list(gaz: Gazetteer) -> None:
    hetou = [v for v in gaz.villages if v.name == "河头村委会"]
    xiao = [v for v in gaz.villages if v.name == "西岙村委会"]
    assert len(hetou) == 2 and len(xiao) == 3
    assert len({v.town_code for v in xiao}) == 3


def test_find_town_any_spelling(gaz: Gazetteer) -> None:
    for spelling in ("尚田街道", "尚田镇", "尚田乡", "尚田", " 尚田 镇 "):
        town = gaz.find_town(spelling)
        assert town is not None and town.code == SHANGTIAN
    xikou = gaz.find_town("溪口")
    assert xikou is not None and xikou.name == "溪口镇"
    assert gaz.find_town("姜山镇") is None


# --------------------------------------------------------------------- name helpers


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("岩头村委会", "岩头"),
        ("岩头村", "岩头"),
        ("岩头村民委员会", "岩头"),
        ("岩头村村委会", "岩头"),
        ("长岭社区", "长岭"),
        ("长岭社区居委会", "长岭"),
        ("西坞居委会", "西坞"),
        ("裘村居委会", "裘村"),
        ("长岭社区居民委员会", "长岭"),
        ("三溪农场生活区", "三溪农场"),
        ("周村委会", "周"),
        ("溪口一村委会", "溪口一"),
        ("岩头", "岩头"),
        ("村", "村"),
        (" 岩头村委会 ", "岩头"),
    ],
)
def test_core_name(name: str, core: str) -> None:
    assert core_name(name) == core


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("岩头村委会", VILLAGE),
        ("岩头村", VILLAGE),
        ("岩头村民委员会", VILLAGE),
        ("长岭社区", COMMUNITY),
        ("西坞居委会", COMMUNITY),
        ("长岭社区居委会", COMMUNITY),
        ("三溪农场生活区", LIVING_AREA),
        ("岩头", VILLAGE),
    ],
)
def test_village_kind(name: str, kind: str) -> None:
    assert village_kind(name) == kind


def test_every_real_name_has_a_known_kind(gaz: Gazetteer) -> None:
    kinds = {v.kind for v in gaz.villages}
    assert kinds == {VILLAGE, COMMUNITY, LIVING_AREA}
    assert all(v.core and v.core != v.name for v in gaz.villages)


def test_town_names() -> None:
    assert town_stem("尚田街道") == "尚田"
    assert town_stem("溪口镇") == "溪口"
    assert town_stem("锦屏街道办事处") == "锦屏"
    assert town_variants("尚田街道") == ("尚田街道", "尚田镇", "尚田乡")
    assert town_variants("溪口镇") == ("溪口镇", "溪口街道", "溪口乡")
    town = Town(code="330213106", name="裘村镇", aliases=("裘村乡",))
    assert town.stem == "裘村"
    assert town.stems == ("裘村",)
    assert "裘村街道" in town.spellings


# --------------------------------------------------------------------- building


def test_from_records_accepts_mappings_and_objects() -> None:
    gaz = Gazetteer.from_records(
        district_code="330213",
        district_name="奉化区",
        towns=[Town(code="330213100", name="溪口镇")],
        villages=[
            {
                "code": "330213100225",
                "name": "岩头村委会",
                "parent_code": "330213100",
                "aliases": "上岩头村；下岩头村",
                "lon": "121.2",
                "lat": "29.6",
            },
            Village(code="330213100245", name="岩坑村委会", town_code="330213100"),
        ],
    )
    yantou = gaz.village(YANTOU)
    assert yantou.aliases == ("上岩头村", "下岩头村")
    assert yantou.has_point and yantou.lon == pytest.approx(121.2)
    assert not gaz.village("330213100245").has_point
    # Nothing is assumed from the code: former codes and parents come from the
    # store or the packaged districts.toml (load_reference), never from code.
    assert gaz.former_codes == () and gaz.parents == () and gaz.district_aliases == ()


def test_from_records_explicit_extras_override_defaults() -> None:
    gaz = Gazetteer.from_records(**_small(), former_codes=(), parents=())  # type: ignore[arg-type]
    assert gaz.former_codes == () and gaz.parents == ()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"district_code": "3302"}, "区县代码「3302」应为 6 位数字"),
        ({"towns": [{"code": "33021310", "name": "溪口镇"}]}, "应为 9 位数字"),
        ({"towns": [{"code": "330212100", "name": "溪口镇"}]}, "不以区县代码 330213 开头"),
        (
            {
                "towns": [
                    {"code": "330213100", "name": "溪口镇"},
                    {"code": "330213100", "name": "溪口乡"},
                ]
            },
            "镇街代码「330213100」重复",
        ),
        (
            {"villages": [{"code": "3302131002", "name": "岩头村委会", "town_code": "330213100"}]},
            "应为 12 位数字",
        ),
        (
            {"villages": [{"code": "330213100225", "name": "岩头", "town_code": "330213999"}]},
            "不在镇街名录中",
        ),
        (
            {"villages": [{"code": "330213007225", "name": "岩头", "town_code": "330213100"}]},
            "村社代码应以镇街代码开头",
        ),
        (
            {
                "villages": [
                    {"code": "330213100225", "name": "岩头村委会", "town_code": "330213100"},
                    {"code": "330213100225", "name": "岩坑村委会", "town_code": "330213100"},
                ]
            },
            "村社代码「330213100225」重复",
        ),
        ({"villages": [{"code": "330213100225", "name": "岩头"}]}, "缺少所属镇街代码"),
        ({"villages": [{"name": "岩头", "town_code": "330213100"}]}, "缺少字段"),
        (
            {
                "villages": [
                    {
                        "code": "330213100225",
                        "name": "岩头",
                        "town_code": "330213100",
                        "lon": "东经121",
                    }
                ]
            },
            "经度「东经121」不是数字",
        ),
    ],
)
def test_from_records_rejects_inconsistent_lists(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(GazetteerError, match=message):
        Gazetteer.from_records(**_small(**overrides))  # type: ignore[arg-type]


def test_with_aliases_returns_new_gazetteer(gaz: Gazetteer) -> None:
    more = gaz.with_aliases({YANTOU: ["上岩头村", "岩头村委会"], SHANGTIAN: "尚田乡"})
    assert more is not gaz
    assert more.village(YANTOU).aliases == ("上岩头村",)  # the official name is not an alias
    assert more.town(SHANGTIAN).aliases == ("尚田乡",)
    assert gaz.village(YANTOU).aliases == ()
    again = more.with_aliases({YANTOU: "上岩头村"})
    assert again.village(YANTOU).aliases == ("上岩头村",)


def test_with_aliases_unknown_code(gaz: Gazetteer) -> None:
    with pytest.raises(GazetteerError, match="别名指向的代码「330213100999」不在"):
        gaz.with_aliases({"330213100999": ["某村"]})


def test_with_points_and_frame(gaz: Gazetteer) -> None:
    located = gaz.with_points({YANTOU: (121.25, 29.65)})
    assert located.village(YANTOU).has_point
    assert not gaz.village(YANTOU).has_point
    with pytest.raises(GazetteerError, match="未知的村社代码"):
        gaz.with_points({"330213100999": (121.0, 29.0)})
    frame = located.to_frame()
    assert list(frame.columns) == [
        "code",
        "name",
        "town_code",
        "town_name",
        "kind",
        "core",
        "aliases",
        "lon",
        "lat",
    ]
    assert len(frame) == 337
    row = frame.set_index("code").loc[YANTOU]
    assert row["town_name"] == "溪口镇" and row["core"] == "岩头"
    assert row["lon"] == pytest.approx(121.25)
    assert frame["lat"].isna().sum() == 336
