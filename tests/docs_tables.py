"""The generated tables of ``docs/import-columns.md``: column names from
``planner/ingest/columns.py``, accepted values from ``planner/ingest/normalize.py``,
the configuration's categories and facility types, and the route sheet's columns,
outcomes and services from ``planner/domain/visits.py``.

``python -m tests.docs_tables`` prints every block; ``tests/test_docs.py`` checks
that the document holds each one verbatim (a column or spelling the code accepts
and the document does not list fails the test). A new field without a note in
:data:`NOTES` raises ``KeyError``: write its note.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime

from planner.domain import visits as dv
from planner.ingest import normalize as nz
from planner.ingest import visits as iv
from planner.ingest.columns import FIELDS, KINDS, REQUIRED, Kind
from planner.settings import Config, load_config

REJECT = "**拒收**整行"
FLAG = "该值不导入，行照常入库并列入问题清单（待核查）"
VILLAGE = (
    "四列合起来确定所在村社（代码优先，其次镇街+村社名，再次地址）；定不下来时按 "
    "`[import] unresolved_village`：默认入库并标记待核查，或拒收；代码属外区、或与村社名不符："
    + REJECT
)
COORD = "十进制度数；高德/腾讯坐标加 `--crs gcj02`，百度加 `--crs bd09`"

# Per kind and field: (what to write, what a bad value does).
NOTES: dict[Kind, dict[str, tuple[str, str]]] = {
    "residents": {
        "name": ("姓名", "为空：" + REJECT),
        "sex": ("男/男性/M/1，女/女性/F/2", "与身份证号不符：按身份证号记录并标记待核查；" + FLAG),
        "id_number": (
            "18 位（末位可为 x/X），15 位旧号自动转换；须设为文本列",
            "校验位或出生日期不对、Excel 存成数字：" + REJECT,
        ),
        "birth_date": ("日期，见下文「日期」", "与身份证号不符：按身份证号记录并标记待核查"),
        "category": ("见下文「残疾类别」", "为空或无法识别：" + REJECT),
        "grade": ("见下文「残疾等级」", "为空或无法识别：" + REJECT),
        "town": ("镇街名称", VILLAGE),
        "village": ("村社名称", VILLAGE),
        "village_code": ("12 位统计用区划代码", VILLAGE),
        "address": ("现住址全文", VILLAGE),
        "household_id": ("户号（文本）", "Excel 科学计数法或超过 64 字：" + FLAG),
        "phone": ("手机 11 位或座机", "格式不对：" + FLAG),
        "living_subsidy": ("是/否", FLAG),
        "care_subsidy": ("是/否", FLAG),
        "low_income": ("低保、低边；空或 无/否/一般户 表示都不是", FLAG),
        "lives_alone": ("是/否", FLAG),
        "elderly_carer": ("是/否", FLAG),
        "bedridden": ("是/否（是：只计上门服务，不计入设施覆盖）", FLAG),
        "wheelchair": ("是/否", FLAG),
        "supervised_medication": ("是/否", FLAG),
        "stroke_aftercare": ("是/否", FLAG),
        "employment": ("见下文「就业情况」", FLAG),
        "retrofit_year": ("四位年份，1949 至今年", FLAG),
        "reassessment_due": ("日期", FLAG),
        "last_visit": ("日期", FLAG),
        "pension_insured": ("是/否（指标 7）", FLAG),
        "medical_insured": ("是/否（指标 8）", FLAG),
        "family_doctor": ("是/否（家庭医生签约率）", FLAG),
        "rehab_needed": ("是/否（指标 11）", FLAG),
        "rehab_received": ("是/否（指标 11）", FLAG),
        "device_needed": ("是/否（指标 12）", FLAG),
        "culture_sports": ("是/否（指标 14）", FLAG),
        "education_stage": ("见下文「在读学段」（指标 10）", FLAG),
        "lon": (COORD, "不是数字、不在中国境内、离村社超过 `household_point_max_km`：" + FLAG),
        "lat": (COORD, "同经度"),
    },
    "facilities": {
        "code": ("设施编号；没有时按 类型+名称 识别", "—"),
        "name": ("设施名称", "为空：" + REJECT),
        "type": ("见下文「设施类型」", "为空或无法识别：" + REJECT),
        "town": ("镇街名称", "与经纬度合起来定村社；都定不下来：" + REJECT),
        "village": ("村社名称", "同镇街"),
        "village_code": ("12 位区划代码", "同镇街"),
        "address": ("地址", "同镇街"),
        "capacity": ("整数", FLAG),
        "placed": ("整数", FLAG),
        "star": ("星级（原样保存）", "—"),
        "lon": (COORD, "不是数字或不在中国境内：" + FLAG),
        "lat": (COORD, "同经度"),
        "notes": ("备注（原样保存）", "—"),
    },
    "villages": {
        "code": (
            "12 位代码，前 6 位为本区代码（或曾用代码）；没有代码时按名称在区划库中找",
            "不是 12 位数字、属外区、镇街不在本库：" + REJECT,
        ),
        "name": (
            "村社名称",
            "新村社缺名称：" + REJECT + "；与区划库名称不同：保留区划库名称并列入问题清单",
        ),
        "town_code": ("9 位镇街代码（镇街取村社代码前 9 位）", "—"),
        "town": ("镇街名称", "—"),
        "aliases": ("曾用名，多个用 、；, / 分隔", "—"),
        "lon": (
            COORD,
            "不是数字、不在中国境内、远离本区 `village_area_margin_km`：该点不导入，保留原点",
        ),
        "lat": (COORD, "同经度"),
        "notes": ("说明（原样保存）", "—"),
    },
    "devices": {
        "id_number": ("持有人身份证号", "无效：" + REJECT),
        "device_type": ("辅具名称，如 轮椅、助听器", "为空：" + REJECT),
        "issued_on": ("日期", "为空、无法识别或晚于今天：" + REJECT),
        "service_years": ("正数（年）", "不是正数：" + REJECT),
        "replaced_on": ("日期", FLAG),
    },
    "leads": {
        "name": ("姓名", "为空：" + REJECT),
        "sex": ("男/女", FLAG),
        "id_number": ("可空", "无效：身份证号不导入，行照常入库并标记待核查"),
        "town": ("镇街名称", VILLAGE),
        "village": ("村社名称", VILLAGE),
        "village_code": ("12 位区划代码", VILLAGE),
        "address": ("地址", VILLAGE),
        "phone": ("手机或座机", FLAG),
        "suspected_category": ("残疾类别；待定/不详/未知 可填", FLAG),
        "source": ("线索来源（原样保存）", "—"),
        "reported_on": ("日期", FLAG),
        "notes": ("备注（原样保存）", "—"),
    },
}


def _required(kind: Kind, fld: str) -> str:
    for group in REQUIRED[kind]:
        if fld in group:
            return "是" if len(group) == 1 else "四选一" if len(group) > 3 else "其一"
    return ""


def columns_table(kind: Kind) -> str:
    """The columns of ``kind``: field, required, every accepted name, values, bad value."""
    lines = [
        "| 字段 | 必填 | 可用的列名（任选其一） | 填什么 | 填错时 |",
        "|---|---|---|---|---|",
    ]
    for fld, names in FIELDS[kind].items():
        what, bad = NOTES[kind][fld]
        lines.append(f"| `{fld}` | {_required(kind, fld)} | {'、'.join(names)} | {what} | {bad} |")
    return "\n".join(lines)


def _spellings(words: Iterable[str]) -> str:
    return "、".join(f"`{w}`" for w in dict.fromkeys(words))


def values_table(config: Config) -> str:
    """Accepted spellings of the coded values (categories and facility types from config)."""
    lines = ["| 取值 | 可写作 |", "|---|---|"]
    for key, cat in config.categories.items():
        lines.append(
            f"| 残疾类别 {cat.label}（`{key}`） | {_spellings([cat.label, *cat.aliases])} |"
        )
    for key, ft in config.facility_types.items():
        lines.append(f"| 设施类型 {ft.label}（`{key}`） | {_spellings([ft.label, *ft.aliases])} |")
    for grade in (1, 2, 3, 4):
        words = [w for w, g in nz._GRADES.items() if g == grade]
        lines.append(f"| 残疾等级 {grade} | {_spellings(words)}，可加「级」「残疾」 |")
    lines.append(f"| 是 | {_spellings(sorted(nz._TRUE))} |")
    lines.append(f"| 否 | {_spellings(sorted(nz._FALSE))} |")
    for kind in ("dibao", "dibian"):
        words = [w for w, k in nz._LOW_INCOME.items() if k == kind]
        lines.append(f"| 低保低边 `{kind}` | {_spellings(words)} |")
    lines.append(f"| 低保低边：都不是 | 空、{_spellings(sorted(nz._NONE_WORDS))} |")
    for kind in dict.fromkeys(nz._EMPLOYMENT.values()):
        words = [w for w, k in nz._EMPLOYMENT.items() if k == kind]
        lines.append(f"| 就业情况 `{kind}` | {_spellings(words)} |")
    for stage in nz.EDUCATION_STAGES:
        words = [w for w, k in nz._EDUCATION.items() if k == stage]
        lines.append(f"| 在读学段 `{stage}` | {_spellings(words)} |")
    example = datetime(2027, 1, 5, 9, 30)
    dates = [example.strftime(f) for f in nz._DATE_FORMATS]
    lines.append(f"| 日期（例：2027 年 1 月 5 日） | {_spellings(dates)}，或 Excel 日期 |")
    return "\n".join(lines)


def sheet_table() -> str:
    """The columns of a completed route sheet the import reads, outcomes and services."""
    lines = ["| 列 | 填什么 |", "|---|---|"]
    lines.append(f"| {dv.KEY_COLUMN} | 系统写好的走访编号（如 `R123-2027-01-12-A`），不要改 |")
    for key, label in dv.OUTCOMES.items():
        words = [w for w, k in iv._OUTCOME_LOOKUP.items() if k == key]
        lines.append(f"| {dv.OUTCOME_COLUMN}「{label}」 | {_spellings(words)} |")
    lines.append(f"| {dv.OUTCOME_COLUMN}（空） | 尚未走访：这一行不导入 |")
    services = [f"`{label}`（`{key}`）" for key, label in dv.SERVICE_LABELS.items()]
    lines.append(
        f"| {dv.SERVICES_COLUMN} | 仅结果为「完成」时填，多项用顿号分隔：{'、'.join(services)} |"
    )
    lines.append(f"| {dv.NOTES_COLUMN} | 自由填写 |")
    lines.append(f"| {dv.MASKED_ID_COLUMN} | 系统写好的脱敏身份证号，用于问题清单 |")
    lines.append(f"| {dv.POINT_GCJ_COLUMN} | 在高德地图长按复制的「经度,纬度」 |")
    lines.append(
        f"| {dv.POINT_LON_COLUMN}、{dv.POINT_LAT_COLUMN} | 手机 GPS 经纬度（与高德坐标只填一种） |"
    )
    return "\n".join(lines)


def blocks(config: Config | None = None) -> dict[str, str]:
    """Every generated block by name: one per import kind, ``values`` and ``sheets``."""
    cfg = config or load_config()
    out: dict[str, str] = {kind: columns_table(kind) for kind in KINDS}
    out["values"] = values_table(cfg)
    out["sheets"] = sheet_table()
    return out


if __name__ == "__main__":
    for name, block in blocks().items():
        sys.stdout.write(f"<!-- {name} -->\n{block}\n\n")
