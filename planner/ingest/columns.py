"""Header mapping: the column names government exports use, per import kind.

Headers are compared after NFKC normalisation with white space removed and
brackets unified, so ``乡镇（街道）``, ``乡镇(街道)`` and ``乡镇 (街道)`` are one name.
The README's "Column names" section is generated from this table.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["residents", "facilities", "villages", "devices", "leads"]
KINDS: tuple[Kind, ...] = ("residents", "facilities", "villages", "devices", "leads")

_TOWN = (
    "镇街",
    "乡镇（街道）",
    "乡镇街道",
    "镇（街道）",
    "镇街道",
    "乡镇",
    "街道",
    "所属镇街",
    "所属乡镇",
)
_VILLAGE = (
    "村社",
    "村（社区）",
    "社区（村）",
    "村社区",
    "村居",
    "村",
    "社区",
    "所属村社",
    "村委会",
)
_VILLAGE_CODE = ("村社代码", "村级代码", "区划代码", "统计用区划代码", "行政区划代码", "村社编码")
_ADDRESS = ("现住址", "住址", "居住地址", "家庭住址", "户籍地址", "详细地址", "地址")
_PHONE = ("联系电话", "电话", "手机", "手机号码", "手机号", "联系方式")
_ID = ("公民身份号码", "身份证号", "身份证号码", "证件号码", "身份证", "身份号码")
_LON = ("经度", "lon", "lng", "longitude", "x")
_LAT = ("纬度", "lat", "latitude", "y")

FIELDS: dict[Kind, dict[str, tuple[str, ...]]] = {
    "residents": {
        "name": ("姓名", "残疾人姓名"),
        "sex": ("性别",),
        "id_number": _ID,
        "birth_date": ("出生日期", "出生年月日", "生日"),
        "category": ("残疾类别", "残疾类型", "类别"),
        "grade": ("残疾等级", "等级"),
        "town": _TOWN,
        "village": _VILLAGE,
        "village_code": _VILLAGE_CODE,
        "address": _ADDRESS,
        "household_id": ("户号", "家庭户号", "户编号"),
        "phone": _PHONE,
        "living_subsidy": ("困难残疾人生活补贴", "生活补贴"),
        "care_subsidy": ("重度残疾人护理补贴", "护理补贴"),
        "low_income": ("低保低边", "低保/低边", "低保情况", "困难类型", "低保"),
        "lives_alone": ("独居", "是否独居"),
        "elderly_carer": ("老养残", "是否老养残"),
        "bedridden": ("长期卧床", "卧床", "是否卧床"),
        "wheelchair": ("使用轮椅", "轮椅使用", "是否使用轮椅"),
        "supervised_medication": ("精神病服药监护", "服药监护", "监护服药"),
        "stroke_aftercare": ("脑卒中康复", "卒中后康复", "脑卒中"),
        "employment": ("就业情况", "就业状态"),
        "retrofit_year": ("无障碍改造年份", "家庭无障碍改造年份", "改造年份"),
        "reassessment_due": ("复评到期日期", "复评日期", "残疾证复评日期"),
        "last_visit": ("最近入户走访日期", "上次走访日期", "最近访视日期", "最近走访日期"),
        "pension_insured": (
            "养老保险",
            "城乡居民基本养老保险参保",
            "城乡居民基本养老保险",
            "养老保险参保",
            "基本养老保险",
        ),
        "medical_insured": (
            "医疗保险",
            "城乡居民基本医疗保险参保",
            "城乡居民基本医疗保险",
            "医疗保险参保",
            "基本医疗保险",
            "医保",
        ),
        "family_doctor": ("家庭医生签约", "签约家庭医生", "家医签约"),
        "rehab_needed": ("康复需求", "基本康复服务需求", "有康复需求"),
        "rehab_received": ("已获康复服务", "基本康复服务", "获得基本康复服务", "康复服务"),
        "device_needed": ("辅具需求", "辅助器具适配需求", "辅具适配需求"),
        "culture_sports": ("文体服务", "获得文体服务", "文体活动"),
        "education_stage": ("在读学段", "受教育阶段", "就读学段", "学段"),
        "lon": _LON,
        "lat": _LAT,
    },
    "facilities": {
        "code": ("设施编号", "编号", "机构编号", "code"),
        "name": ("设施名称", "名称", "机构名称", "name"),
        "type": ("设施类型", "类型", "机构类型", "type"),
        "town": _TOWN,
        "village": _VILLAGE,
        "village_code": _VILLAGE_CODE,
        "address": _ADDRESS,
        "capacity": ("容量", "核定容量", "床位数", "服务容量", "核定人数"),
        "placed": ("在册人数", "已安置人数", "在托人数", "服务人数"),
        "star": ("星级",),
        "lon": _LON,
        "lat": _LAT,
        "notes": ("备注", "说明"),
    },
    "villages": {
        "code": ("村社代码", "代码", "统计用区划代码", "区划代码", "行政区划代码", "code"),
        "name": ("村社名称", "名称", "村社", "村（社区）", "name"),
        "town_code": ("镇街代码", "乡镇代码", "town_code"),
        "town": _TOWN,
        "aliases": ("别名", "曾用名", "原村名", "aliases"),
        "lon": _LON,
        "lat": _LAT,
        "notes": ("数据说明", "备注"),
    },
    "devices": {
        "id_number": _ID,
        "device_type": ("辅具名称", "辅具类型", "辅助器具名称", "辅具"),
        "issued_on": ("发放日期", "适配日期", "配发日期"),
        "service_years": ("使用年限", "使用年限（年）", "年限"),
        "replaced_on": ("更换日期",),
    },
    "leads": {
        "name": ("姓名",),
        "sex": ("性别",),
        "id_number": _ID,
        "town": _TOWN,
        "village": _VILLAGE,
        "village_code": _VILLAGE_CODE,
        "address": _ADDRESS,
        "phone": _PHONE,
        "suspected_category": ("疑似残疾类别", "疑似类别", "残疾类别"),
        "source": ("线索来源", "来源"),
        "reported_on": ("发现日期", "登记日期", "上报日期"),
        "notes": ("备注",),
    },
}

# Fields that identify a row or its village: when a file has two columns for one of
# them (身份证号 and 公民身份号码), their values must agree (see ``ColumnMap.alternates``).
IDENTIFIER_FIELDS = frozenset({"id_number", "village_code", "code"})
# A file whose columns fit another kind better is refused when at least this many
# of its columns belong only to that other kind (one when its own required columns
# are missing anyway).
_TELLING_COLUMNS = 2
_TELLING_SHOWN = 3

REQUIRED: dict[Kind, tuple[tuple[str, ...], ...]] = {
    # each inner tuple: at least one of these fields must be a column
    "residents": (
        ("name",),
        ("id_number",),
        ("category",),
        ("grade",),
        ("village", "village_code", "address"),
    ),
    "facilities": (("name",), ("type",), ("village", "village_code", "address", "lon")),
    "villages": (("code", "name"),),
    "devices": (("id_number",), ("device_type",), ("issued_on",), ("service_years",)),
    "leads": (("name",), ("village", "village_code", "address")),
}


def header_key(name: object) -> str:
    """Normalise a header for comparison (NFKC, no spaces, ASCII brackets, lower)."""
    s = unicodedata.normalize("NFKC", "" if name is None else str(name))
    s = re.sub(r"\s+", "", s).lower()
    s = s.replace("(", "（").replace(")", "）")
    return s.strip("*：:")


@dataclass(frozen=True)
class ColumnMap:
    """Which file column feeds which field, and what was left unused.

    ``alternates`` lists, per field, the further columns that also name it (the
    first column feeds the field; for :data:`IDENTIFIER_FIELDS` the importer checks
    that all of them agree).
    """

    fields: dict[str, str]  # field -> header as written in the file
    ignored: tuple[str, ...]
    alternates: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def missing(self, kind: Kind, *, also: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
        """Required field groups with no column (``also``: fields given otherwise)."""
        have = set(self.fields) | also
        return [group for group in REQUIRED[kind] if not any(f in have for f in group)]


def _lookup(kind: Kind) -> dict[str, str]:
    table: dict[str, str] = {}
    for fld, names in FIELDS[kind].items():
        for n in names:
            table.setdefault(header_key(n), fld)
    return table


def map_columns(kind: Kind, headers: list[str]) -> ColumnMap:
    """Map file headers to fields; the first column wins when two map to one field.

    Further columns of an identifier field (:data:`IDENTIFIER_FIELDS`) are kept in
    ``alternates`` (they are checked, not ignored); those of other fields are
    reported as ignored.
    """
    lookup = _lookup(kind)
    fields: dict[str, str] = {}
    alternates: dict[str, list[str]] = {}
    ignored: list[str] = []
    for h in headers:
        fld = lookup.get(header_key(h))
        if fld and fld not in fields:
            fields[fld] = h
        elif fld in IDENTIFIER_FIELDS:
            alternates.setdefault(fld, []).append(h)
        elif str(h).strip():
            ignored.append(str(h))
    return ColumnMap(
        fields=fields,
        ignored=tuple(ignored),
        alternates={f: tuple(hs) for f, hs in alternates.items()},
    )


@dataclass(frozen=True)
class KindGuess:
    """Another import kind that a file's columns fit better than the one asked for."""

    kind: Kind
    columns: tuple[str, ...]  # the file's columns that only that kind knows, file order

    def shown(self) -> str:
        """The telling columns for a message: at most three, then 等."""
        return "、".join(self.columns[:_TELLING_SHOWN])


def other_kind(
    kind: Kind, headers: list[str], *, also: frozenset[str] = frozenset()
) -> KindGuess | None:
    """The kind these columns really belong to, when it is not ``kind``.

    Another kind is named when the file has all its required columns, more of its
    fields than of ``kind``'s, and columns that only it knows: at least two, or
    one when that one is required by the other kind (残疾等级 for residents) or
    the file lacks columns ``kind`` requires anyway. A residents register
    given as villages (姓名、公民身份号码、残疾类别 … beside 村（社区）) is caught
    here before anything is written.

    Parameters
    ----------
    kind
        The kind the user asked for.
    headers
        The file's column names.
    also
        Fields given otherwise (``lon``/``lat`` by point geometry).
    """
    own_keys = set(_lookup(kind))
    own = map_columns(kind, headers)
    own_missing = bool(own.missing(kind, also=also))
    best: tuple[int, KindGuess] | None = None
    for other in KINDS:
        if other == kind:
            continue
        cmap = map_columns(other, headers)
        if cmap.missing(other, also=also) or len(cmap.fields) <= len(own.fields):
            continue
        mapped = {header_key(h): f for f, h in cmap.fields.items()}
        telling = tuple(
            str(h) for h in headers if header_key(h) in mapped and header_key(h) not in own_keys
        )
        required = {f for group in REQUIRED[other] for f in group}
        decisive = any(mapped[header_key(h)] in required for h in telling)
        if not (own_missing or decisive or len(telling) >= _TELLING_COLUMNS) or not telling:
            continue
        if best is None or len(cmap.fields) > best[0]:
            best = (len(cmap.fields), KindGuess(other, telling))
    return best[1] if best else None


def best_header_score(cells: list[object]) -> int:
    """The best :func:`score_header` of a row over all kinds (header detection
    when a file has no header of the kind asked for)."""
    return max(score_header(k, cells) for k in KINDS)


def score_header(kind: Kind, cells: list[object]) -> int:
    """How many cells of a row are known headers of ``kind`` (header detection)."""
    lookup = _lookup(kind)
    return len({lookup[k] for c in cells if (k := header_key(c)) in lookup})


_FIELD_LABELS = {
    "name": "姓名/名称",
    "sex": "性别",
    "id_number": "身份证号",
    "birth_date": "出生日期",
    "category": "残疾类别",
    "grade": "残疾等级",
    "town": "镇街",
    "village": "村社",
    "village_code": "村社代码",
    "address": "地址",
    "household_id": "户号",
    "phone": "电话",
    "lon": "经度",
    "lat": "纬度",
    "code": "编号/代码",
    "type": "设施类型",
    "capacity": "容量",
    "placed": "在册人数",
}


def markdown_table(kind: Kind) -> str:
    """The accepted column names of ``kind`` as a Markdown table (for the README)."""
    required = {f for group in REQUIRED[kind] for f in group}
    lines = ["| field | required | accepted column names |", "|---|---|---|"]
    for fld, names in FIELDS[kind].items():
        need = "yes" if fld in required else ""
        lines.append(f"| `{fld}` | {need} | {'、'.join(names)} |")
    return "\n".join(lines)
