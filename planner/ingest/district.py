"""Read the files of ``coverplan init``: an admin-units table and a villages file.

The district's towns and villages come from an admin-units table (``--units``:
``code,name,level,parent_code,parent_name`` or 代码/名称/级别/上级代码/上级名称,
CSV/XLSX/XLS read by :mod:`planner.ingest.readers`), from a villages file
(``--villages``: GeoJSON/GeoPackage/Shapefile/CSV/XLSX with village codes and
names, town code and/or name, points or polygons in WGS-84, GCJ-02 or BD-09,
read like ``coverplan import villages``), or, with neither, from the packaged
reference list when ``data/reference/districts.toml`` has the district.

Everything is read and validated before anything is written; every problem is
reported with file, row, column and reason (:func:`fail`). Merging the files
with the stored district is :mod:`planner.ingest.district_merge`; writing is
:mod:`planner.store.district`; :func:`planner.services.district.init_district`
composes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from geo import crs as geocrs
from geo.gazetteer import DISTRICT_CODE_LEN, TOWN_CODE_LEN, VILLAGE_CODE_LEN
from planner.errors import InputError
from planner.ingest import normalize as nz
from planner.ingest.columns import header_key, map_columns, score_header
from planner.ingest.normalize import COORD_DIGITS, POLYGON_PRECISION_DEG, in_china
from planner.ingest.readers import RawRow, RawTable, read_table

__all__ = [
    "UnitProblem",
    "UnitRow",
    "UnitsFile",
    "VillageGeometry",
    "VillagesFile",
    "fail",
    "file_digests",
    "parse_district_code",
    "read_units",
    "read_village_file",
]

MAX_PROBLEMS_SHOWN = 20
_PADDED_COUNTY = "000000"  # NBS 12-digit form of a county code: 330213000000
_PADDED_TOWN = "000"  # ... of a town code: 330213001000

LEVEL_COUNTY = "county"
LEVEL_TOWN = "town"
LEVEL_VILLAGE = "village"
_LEVELS = {
    "county": LEVEL_COUNTY,
    "区县": LEVEL_COUNTY,
    "县区": LEVEL_COUNTY,
    "区": LEVEL_COUNTY,
    "县": LEVEL_COUNTY,
    "县级": LEVEL_COUNTY,
    "town": LEVEL_TOWN,
    "镇街": LEVEL_TOWN,
    "乡镇": LEVEL_TOWN,
    "乡镇街道": LEVEL_TOWN,
    "镇": LEVEL_TOWN,
    "街道": LEVEL_TOWN,
    "乡": LEVEL_TOWN,
    "乡级": LEVEL_TOWN,
    "village": LEVEL_VILLAGE,
    "村社": LEVEL_VILLAGE,
    "村居": LEVEL_VILLAGE,
    "村": LEVEL_VILLAGE,
    "社区": LEVEL_VILLAGE,
    "村级": LEVEL_VILLAGE,
}
UNIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "代码", "区划代码", "统计用区划代码", "行政区划代码"),
    "name": ("name", "名称", "区划名称"),
    "level": ("level", "级别", "层级"),
    "parent_code": ("parent_code", "上级代码", "上级区划代码"),
    "parent_name": ("parent_name", "上级名称"),
}
_UNIT_LOOKUP = {header_key(n): f for f, names in UNIT_COLUMNS.items() for n in names}

# --------------------------------------------------------------------- problems


@dataclass(frozen=True)
class UnitProblem:
    """A problem of an init file: file, row, column, value shown and reason."""

    file: str
    line: int | None
    column: str | None
    value: str | None
    reason: str

    def text(self) -> str:
        return str(
            InputError(
                self.reason, file=self.file, row=self.line, column=self.column, value=self.value
            )
        )


def fail(problems: Sequence[UnitProblem]) -> NoReturn:
    """Raise one :class:`~planner.errors.InputError` listing the problems (at most 20)."""
    lines = [p.text() for p in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"……另有 {len(problems) - MAX_PROBLEMS_SHOWN} 处问题")
    lines.append("数据库未做任何更改；请改正后重新运行 coverplan init。")
    raise InputError("\n".join(lines))


def parse_district_code(code: str) -> str:
    """The 6-digit district code of ``--district``.

    Raises
    ------
    InputError
        When it is not 6 digits.
    """
    text = nz.compact(code) or ""
    if not (text.isdigit() and len(text) == DISTRICT_CODE_LEN):
        raise InputError(
            f"--district「{code}」应为 6 位区县代码（统计用区划代码前 6 位，如 330213）"
        )
    return text


def file_digests(*paths: Path | str | None) -> dict[str, str]:
    """File name → SHA-256 of its bytes, for the given paths (None skipped)."""
    return {Path(p).name: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths if p}


# --------------------------------------------------------------------- reading


@dataclass(frozen=True)
class UnitRow:
    """One town or village of a units or villages file (``line``: the file's row)."""

    file: str
    line: int
    code: str
    name: str
    town_code: str | None = None  # villages: the 9-digit town code


@dataclass
class UnitsFile:
    """An admin-units table: the county row (if any), towns and villages."""

    file: str
    county_name: str | None = None
    towns: list[UnitRow] = field(default_factory=list)
    villages: list[UnitRow] = field(default_factory=list)


@dataclass(frozen=True)
class VillageGeometry:
    """A village's point and polygon (GeoJSON text), WGS-84."""

    lon: float | None
    lat: float | None
    polygon: str | None


@dataclass
class VillagesFile:
    """A villages file: villages, the town names it gives, and their geometry."""

    file: str
    villages: list[UnitRow] = field(default_factory=list)
    town_names: dict[str, str] = field(default_factory=dict)  # town code -> first name given
    town_lines: dict[str, int] = field(default_factory=dict)  # town code -> first row
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    geometry: dict[str, VillageGeometry] = field(default_factory=dict)


def _unit_code(raw: object, *, level: str) -> str | None:
    """A town (9-digit) or village (12-digit) code; NBS's 12-digit padded forms are accepted."""
    code = nz.compact(raw)
    if code is None:
        return None
    if level == LEVEL_COUNTY and len(code) == VILLAGE_CODE_LEN and code.endswith(_PADDED_COUNTY):
        return code[:DISTRICT_CODE_LEN]
    if level == LEVEL_TOWN and len(code) == VILLAGE_CODE_LEN and code.endswith(_PADDED_TOWN):
        return code[:TOWN_CODE_LEN]
    return code


def _check_code(code: str, *, level: str, district: str) -> str | None:
    """Why ``code`` is not a valid code of ``level`` in ``district`` (None: valid)."""
    length = {LEVEL_COUNTY: DISTRICT_CODE_LEN, LEVEL_TOWN: TOWN_CODE_LEN}.get(
        level, VILLAGE_CODE_LEN
    )
    label = {LEVEL_COUNTY: "区县", LEVEL_TOWN: "镇街"}.get(level, "村社")
    if not (code.isdigit() and len(code) == length):
        return f"{label}代码应为 {length} 位数字（统计用区划代码）"
    if not code.startswith(district):
        if level == LEVEL_COUNTY:
            return f"区县代码与 --district {district} 不一致"
        return f"{label}代码不以区县代码 {district} 开头；是否混入了其他区县的数据？"
    return None


def _score_units_header(cells: list[object]) -> int:
    return len({_UNIT_LOOKUP[k] for c in cells if (k := header_key(c)) in _UNIT_LOOKUP})


def _unit_columns(table: RawTable, path: Path) -> dict[str, str]:
    """Field → header of an admin-units table; every required column present."""
    cols: dict[str, str] = {}
    for h in table.headers:
        fld = _UNIT_LOOKUP.get(header_key(h))
        if fld and fld not in cols:
            cols[fld] = h
    missing = [
        f"{UNIT_COLUMNS[f][0]}/{UNIT_COLUMNS[f][1]}"
        for f in ("code", "name", "level")
        if f not in cols
    ]
    if missing:
        raise InputError(
            f"区划表缺少必需的列：{'、'.join(missing)}"
            "（应有 code,name,level,parent_code,parent_name 或 代码/名称/级别/上级代码/上级名称）",
            file=path.name,
            row=table.header_line or None,
        )
    return cols


Report = Callable[[int, str, object, str], None]


def _unit_row(
    row: RawRow,
    cols: dict[str, str],
    *,
    file: str,
    district: str,
    seen: dict[str, int],
    problem: Report,
) -> tuple[str, UnitRow] | None:
    """The level and unit of one row of an admin-units table (None: reported)."""
    raw_level = nz.compact(row.values.get(cols["level"]))
    level = _LEVELS.get((raw_level or "").lower())
    if level is None:
        problem(row.line, "level", raw_level, "级别应为 county/town/village 或 区县/镇街/村社")
        return None
    code = _unit_code(row.values.get(cols["code"]), level=level)
    name = nz.compact(row.values.get(cols["name"]))
    if code is None:
        problem(row.line, "code", None, "代码为空")
        return None
    if (why := _check_code(code, level=level, district=district)) is not None:
        problem(row.line, "code", code, why)
        return None
    if not name:
        problem(row.line, "name", None, f"代码 {code} 缺少名称")
        return None
    if code in seen:
        problem(row.line, "code", code, f"代码与第 {seen[code]} 行重复；每个代码只能出现一次")
        return None
    seen[code] = row.line
    if level != LEVEL_VILLAGE:
        return level, UnitRow(file, row.line, code, name)
    parent = (
        _unit_code(row.values.get(cols["parent_code"]), level=LEVEL_TOWN)
        if "parent_code" in cols
        else None
    )
    if parent is not None and parent != code[:TOWN_CODE_LEN]:
        problem(
            row.line,
            "parent_code",
            parent,
            f"上级代码与村社代码 {code} 的前 9 位 {code[:TOWN_CODE_LEN]} 不一致",
        )
        return None
    return level, UnitRow(file, row.line, code, name, code[:TOWN_CODE_LEN])


def read_units(path: Path | str, *, district: str, search_rows: int = 15) -> UnitsFile:
    """Read an admin-units table of ``district``.

    Parameters
    ----------
    path
        CSV (UTF-8/GBK/GB18030/UTF-16, detected) or XLSX/XLS with the columns
        ``code,name,level`` (代码/名称/级别) and optionally ``parent_code,
        parent_name`` (上级代码/上级名称). ``level``: ``county``/``town``/
        ``village`` or 区县/镇街/村社. Codes are the 6/9/12-digit 统计用区划代码
        (12-digit padded forms of county and town codes are accepted).
    district
        The 6-digit district code every row must belong to.
    search_rows
        Leading rows searched for the header (title rows may sit above it).

    Raises
    ------
    InputError
        With every problem's row, column and reason, when any row is invalid.
    """
    path = Path(path)
    table = read_table(path, score=_score_units_header, search_rows=search_rows)
    cols = _unit_columns(table, path)
    out = UnitsFile(file=path.name)
    problems: list[UnitProblem] = []
    seen: dict[str, int] = {}
    counties: list[int] = []

    def problem(line: int, fld: str, value: object, reason: str) -> None:
        shown = None if value is None else str(value)
        problems.append(UnitProblem(path.name, line, cols.get(fld, fld), shown, reason))

    for row in table.rows:
        unit = _unit_row(row, cols, file=path.name, district=district, seen=seen, problem=problem)
        if unit is None:
            continue
        level, item = unit
        if level == LEVEL_COUNTY:
            counties.append(row.line)
            out.county_name = item.name
        elif level == LEVEL_TOWN:
            out.towns.append(item)
        else:
            out.villages.append(item)
    if len(counties) > 1:
        problems.append(
            UnitProblem(
                path.name,
                counties[1],
                cols["level"],
                None,
                f"区划表只能有一个区县行（第 {counties[0]} 行已是区县）",
            )
        )
    if not table.rows:
        problems.append(UnitProblem(path.name, None, None, None, "区划表没有数据行"))
    if problems:
        fail(problems)
    return out


VillageReport = Callable[[int, str | None, object, str], None]


def _village_geometry(
    row: RawRow, raw: Callable[[RawRow, str], Any], *, crs: str, problem: VillageReport
) -> VillageGeometry | None:
    """The point and/or boundary a villages row gives (WGS-84).

    None when it gives none, or when it is invalid (then reported).
    """
    import shapely
    from shapely.geometry import mapping

    try:
        lon = nz.parse_float(raw(row, "lon"), what="经度")
        lat = nz.parse_float(raw(row, "lat"), what="纬度")
    except ValueError as exc:
        problem(row.line, "lon", raw(row, "lon") or raw(row, "lat"), str(exc))
        return None
    geom = row.geometry
    kind = getattr(geom, "geom_type", None)
    if kind == "Point":
        lon, lat = float(geom.x), float(geom.y)
    elif geom is not None and kind not in ("Polygon", "MultiPolygon"):
        problem(row.line, None, kind, "村社几何应为点或面（Polygon/MultiPolygon）")
        return None
    if (lon is None) != (lat is None):
        problem(row.line, "lon" if lon is None else "lat", None, "经度与纬度要同时填写")
        return None
    point: tuple[float, float] | None = None
    if lon is not None and lat is not None:
        if not in_china(lon, lat):
            problem(row.line, "lon", f"{lon},{lat}", "坐标不在中国境内（经纬度是否写反？）")
            return None
        x, y = geocrs.to_wgs84(lon, lat, crs=crs)
        point = (round(float(x), COORD_DIGITS), round(float(y), COORD_DIGITS))
    polygon = None
    if kind in ("Polygon", "MultiPolygon"):
        shape = geocrs.geometry_to_wgs84(geom, crs=crs)
        if not shape.is_valid:
            shape = shapely.make_valid(shape)
        rp = shape.representative_point()
        if not in_china(rp.x, rp.y):
            problem(row.line, None, None, "边界不在中国境内（坐标系或经纬度顺序是否有误？）")
            return None
        shape = shapely.set_precision(shape, POLYGON_PRECISION_DEG)
        polygon = json.dumps(mapping(shape), ensure_ascii=False)
        if point is None:
            point = (round(rp.x, COORD_DIGITS), round(rp.y, COORD_DIGITS))
    if point is None and polygon is None:
        return None
    return VillageGeometry(
        lon=point[0] if point else None, lat=point[1] if point else None, polygon=polygon
    )


def _village_row(
    row: RawRow,
    raw: Callable[[RawRow, str], Any],
    *,
    file: str,
    district: str,
    seen: dict[str, int],
    problem: VillageReport,
) -> UnitRow | None:
    """The village of one row of a villages file (None: reported)."""
    code = nz.compact(raw(row, "code"))
    name = nz.compact(raw(row, "name"))
    if code is None:
        problem(row.line, "code", None, "缺少村社代码（init 需要 12 位统计用区划代码）")
        return None
    if (why := _check_code(code, level=LEVEL_VILLAGE, district=district)) is not None:
        problem(row.line, "code", code, why)
        return None
    if not name:
        problem(row.line, "name", None, f"村社 {code} 缺少名称")
        return None
    if code in seen:
        problem(row.line, "code", code, f"村社代码与第 {seen[code]} 行重复")
        return None
    town = code[:TOWN_CODE_LEN]
    given_town = _unit_code(raw(row, "town_code"), level=LEVEL_TOWN)
    if given_town is not None and given_town != town:
        problem(
            row.line,
            "town_code",
            given_town,
            f"镇街代码与村社代码 {code} 的前 9 位 {town} 不一致",
        )
        return None
    seen[code] = row.line
    return UnitRow(file, row.line, code, name, town)


def read_village_file(
    path: Path | str,
    *,
    district: str,
    crs: str = "wgs84",
    geometry: bool = True,
    search_rows: int = 15,
) -> VillagesFile:
    """Read a villages file of ``district`` (the same columns as ``import villages``).

    Parameters
    ----------
    path
        GeoJSON/GeoPackage/Shapefile (points or polygons; projected CRSs are
        reprojected) or CSV/XLSX with 经度/纬度 columns. Needs a village code
        (村社代码, 12 digits) and a name per row; the town code (镇街代码) and/or
        the town name (镇街) are optional; the town is the code's first 9 digits.
    district
        The 6-digit district code every village must belong to.
    crs
        ``wgs84``, ``gcj02`` or ``bd09``: the system of the lon/lat columns and
        geometries; stored values are WGS-84.
    geometry
        False: read codes and names only.

    Raises
    ------
    InputError
        With every problem's row, column and reason, when any row is invalid.
    """
    path = Path(path)
    crs_name = geocrs.parse_crs(crs)
    table: RawTable = read_table(
        path, score=partial(score_header, "villages"), search_rows=search_rows
    )
    cmap = map_columns("villages", table.headers)
    missing = [f for f in ("code", "name") if f not in cmap.fields]
    if missing:
        labels = {"code": "村社代码（12 位统计用区划代码）", "name": "村社名称"}
        raise InputError(
            f"村社文件缺少必需的列：{'、'.join(labels[f] for f in missing)}（列名对照见 README）",
            file=path.name,
            row=table.header_line or None,
        )
    out = VillagesFile(file=path.name)
    problems: list[UnitProblem] = []
    seen: dict[str, int] = {}

    def raw(row: RawRow, fld: str) -> Any:
        col = cmap.fields.get(fld)
        return row.values.get(col) if col else None

    def problem(line: int, fld: str | None, value: object, reason: str) -> None:
        col = cmap.fields.get(fld, fld) if fld else None
        shown = None if value is None else str(value)
        problems.append(UnitProblem(path.name, line, col, shown, reason))

    for row in table.rows:
        unit = _village_row(row, raw, file=path.name, district=district, seen=seen, problem=problem)
        if unit is None:
            continue
        town = unit.town_code or ""
        town_name = nz.compact(raw(row, "town"))
        if town_name and town not in out.town_names:
            out.town_names[town] = town_name
        out.town_lines.setdefault(town, row.line)
        out.villages.append(unit)
        if aliases := nz.split_aliases(raw(row, "aliases")):
            out.aliases[unit.code] = tuple(aliases)
        if not geometry:
            continue
        geo = _village_geometry(row, raw, crs=crs_name, problem=problem)
        if geo is not None:
            out.geometry[unit.code] = geo
    if not table.rows:
        problems.append(UnitProblem(path.name, None, None, None, "村社文件没有数据行"))
    if problems:
        fail(problems)
    return out
