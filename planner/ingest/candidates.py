"""A user's candidate sites for ``coverplan site --candidates`` (CSV/XLSX).

Each row names a plot (``名称``) and where it is: a village (``村社``, code or
name, placed at its committee point) and/or a point (``经度``/``纬度`` in the
file's coordinate system), with an optional build cost (``建设费用``, yuan) and
capacity (``容量``, places). Read through :mod:`planner.ingest.readers`, so
every encoding and spreadsheet format of the registers is accepted, and title
rows above the header are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import to_wgs84
from planner.errors import InputError
from planner.ingest.readers import RawRow, read_table

__all__ = ["CANDIDATE_COLUMNS", "find_place", "read_candidates"]

#: Field → accepted column names (Chinese or English, any case).
CANDIDATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "名称", "地块", "候选点"),
    "village": ("village", "village_code", "村社", "村社代码", "村", "社区"),
    "lon": ("lon", "经度", "longitude"),
    "lat": ("lat", "纬度", "latitude"),
    "cost": ("cost", "build_cost", "建设费用", "费用"),
    "capacity": ("capacity", "容量", "床位", "名额"),
}
_FRAME_COLUMNS = ["name", "village_code", "lon", "lat", "build_cost", "capacity"]
#: Suffix of a committee's name → the plain name's ending (溪岙村委会 → 溪岙村).
_COMMITTEE_SUFFIXES = {"村委会": "村", "居委会": "社区"}


def _pick(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {str(c).strip().lower(): str(c) for c in columns}
    for n in names:
        if n.lower() in lowered:
            return lowered[n.lower()]
    return None


def _header_score(row: list[object]) -> int:
    """Recognised column names in a row, doubled: one is enough for a header."""
    cells = [str(c) for c in row if c is not None]
    return 2 * sum(_pick(cells, names) is not None for names in CANDIDATE_COLUMNS.values())


def _village_names(villages: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """Village name variants (with and without town; 溪岙村委会 also as 溪岙村 and
    溪岙, 松岙居委会 as 松岙社区 and 松岙) → codes."""
    by_name: dict[str, list[str]] = {}
    for v in villages.itertuples():
        names = {str(v.name)}
        for suffix, plain in _COMMITTEE_SUFFIXES.items():
            if str(v.name).endswith(suffix):
                core = str(v.name).removesuffix(suffix)
                names |= {core, core + plain}
        for name in sorted(names):
            for key in (name, f"{v.town_name}{name}"):
                codes = by_name.setdefault(key, [])
                if str(v.code) not in codes:
                    codes.append(str(v.code))
    return by_name


class _Row:
    """One candidate row: text and number cells with errors naming line and column."""

    def __init__(self, raw: RawRow, *, cols: Mapping[str, str | None], file: str) -> None:
        self.line, self.values, self.cols, self.file = raw.line, raw.values, cols, file

    def text(self, key: str) -> str | None:
        col = self.cols[key]
        if col is None:
            return None
        v = self.values.get(col)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        return str(v).strip()

    def number(self, key: str) -> float | None:
        text = self.text(key)
        if not text:
            return None
        try:
            return float(text.replace(",", ""))
        except ValueError:
            raise self.error(f"不是数字：{text}", key=key, value=text) from None

    def error(
        self, message: str, *, key: str | None = None, value: str | None = None
    ) -> InputError:
        column = self.cols[key] if key else None
        return InputError(message, file=self.file, row=self.line, column=column, value=value)


def _village_code(
    row: _Row, *, by_code: pd.DataFrame, by_name: Mapping[str, list[str]]
) -> str | None:
    village = row.text("village")
    if not village:
        return None
    if village in by_code.index:
        return village
    hits = sorted(set(by_name.get(village, [])))
    if len(hits) != 1:
        why = "找不到该村社" if not hits else "村社名称有重名，请写镇街+村社或村社代码"
        raise row.error(why, key="village", value=village)
    return hits[0]


def _point(row: _Row, code: str | None, *, by_code: pd.DataFrame, crs: str) -> tuple[float, float]:
    """The row's WGS-84 point: its own, else its village's committee point."""
    lon, lat = row.number("lon"), row.number("lat")
    if lon is not None and lat is not None:
        lo, la = to_wgs84(lon, lat, crs=crs)
        return float(np.atleast_1d(lo)[0]), float(np.atleast_1d(la)[0])
    if code is None:
        raise row.error("需要村社或经纬度")
    lon, lat = float(by_code.at[code, "lon"]), float(by_code.at[code, "lat"])  # type: ignore[arg-type]
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise row.error(
            f"村社 {by_code.at[code, 'name']!s}（{code}）没有点位或边界；"
            "请在该行填写经度、纬度，或先用 coverplan import villages 导入村社点位",
            key="village",
            value=row.text("village"),
        )
    return lon, lat


def read_candidates(path: Path, *, villages: gpd.GeoDataFrame, crs: str = "wgs84") -> pd.DataFrame:
    """A user's candidate sites (CSV/XLSX): name and a village or a point.

    Parameters
    ----------
    path
        The file. Columns (Chinese or English): ``名称/name``; ``村社/village``
        (code or name) and/or ``经度/lon`` + ``纬度/lat`` (in ``crs``); optional
        ``建设费用/cost`` (yuan) and ``容量/capacity`` (places). A row with only a
        village is placed at the village's committee point.
    villages
        The district's villages (``code, name, town_name, lon, lat``), as
        :func:`planner.store.frames.villages_frame` gives them.
    crs
        Coordinate system of the file's points: ``wgs84``, ``gcj02`` or ``bd09``.

    Returns
    -------
    pandas.DataFrame
        ``name, village_code, lon, lat, build_cost, capacity`` (WGS-84; cost and
        capacity ``None`` when not given), one row per candidate in file order.

    Raises
    ------
    InputError
        Naming the file, row and column of the first bad value.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"候选点文件不存在：{path}", file=str(path))
    try:
        table = read_table(path, score=_header_score)
    except InputError:
        raise
    except (UnicodeDecodeError, ValueError, OSError) as exc:
        raise InputError(
            f"无法读取候选点文件 {path.name}：{exc}（请另存为 UTF-8 CSV 或 XLSX）", file=str(path)
        ) from exc
    cols = {k: _pick(table.headers, v) for k, v in CANDIDATE_COLUMNS.items()}
    if cols["village"] is None and (cols["lon"] is None or cols["lat"] is None):
        raise InputError(
            f"候选点文件 {path.name} 需要“村社”列或“经度”“纬度”两列",
            file=str(path),
            row=table.header_line,
        )
    by_code = villages.set_index("code")
    by_name = _village_names(villages)
    rows: list[dict[str, Any]] = []
    for raw in table.rows:
        row = _Row(raw, cols=cols, file=str(path))
        code = _village_code(row, by_code=by_code, by_name=by_name)
        lon, lat = _point(row, code, by_code=by_code, crs=crs)
        capacity = row.number("capacity")
        fallback = f"{by_code.at[code, 'name']}候选点" if code else f"候选点{row.line}"
        rows.append(
            {
                "name": row.text("name") or fallback,
                "village_code": code,
                "lon": lon,
                "lat": lat,
                "build_cost": row.number("cost"),
                "capacity": capacity,
            }
        )
    if not rows:
        raise InputError(f"候选点文件 {path.name} 没有数据行", file=str(path))
    return pd.DataFrame(rows, columns=_FRAME_COLUMNS)


def _lonlat_text(text: str) -> tuple[float, float] | None:
    """``LON,LAT`` (also with a Chinese comma or spaces) as two numbers, else ``None``."""
    parts = [p for p in text.replace("，", ",").replace(" ", ",").split(",") if p]
    if len(parts) != 2:
        return None
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        return None


def find_place(
    text: str,
    *,
    villages: gpd.GeoDataFrame,
    candidates: pd.DataFrame | None = None,
    crs: str = "wgs84",
    option: str = "--to",
) -> dict[str, Any]:
    """The place a user names for a relocation: a row of the candidates file (by
    name), a village (code or name: its committee point) or ``LON,LAT`` (in ``crs``).

    Returns
    -------
    dict
        ``name, village_code, lon, lat`` (WGS-84), ``build_cost`` and ``capacity``
        (the candidate row's, else ``None``).

    Raises
    ------
    InputError
        Nothing matches, the village name is ambiguous, or the village has no point.
    """
    text = text.strip()
    if candidates is not None:
        rows = candidates[candidates["name"].astype(str) == text]
        if len(rows):
            r = rows.iloc[0]
            return {
                "name": str(r["name"]),
                "village_code": r["village_code"],
                "lon": float(r["lon"]),
                "lat": float(r["lat"]),
                "build_cost": None if pd.isna(r["build_cost"]) else float(r["build_cost"]),
                "capacity": None if pd.isna(r["capacity"]) else float(r["capacity"]),
            }
    by_code = villages.set_index("code")
    codes = [text] if text in by_code.index else sorted(set(_village_names(villages).get(text, [])))
    if len(codes) > 1:
        raise InputError(
            f"{option} 给出的村社「{text}」有重名：请写镇街+村社名称或村社代码"
            f"（{'、'.join(codes)}）",
            value=text,
        )
    if codes:
        code = codes[0]
        lon, lat = float(by_code.at[code, "lon"]), float(by_code.at[code, "lat"])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise InputError(
                f"{option} 给出的村社 {by_code.at[code, 'name']!s}（{code}）没有点位：请改写"
                "经度,纬度，或先用 coverplan import villages 导入村社点位",
                value=text,
            )
        name = f"{by_code.at[code, 'town_name']!s}{by_code.at[code, 'name']!s}"
        return {
            "name": name,
            "village_code": code,
            "lon": lon,
            "lat": lat,
            "build_cost": None,
            "capacity": None,
        }
    point = _lonlat_text(text)
    if point is not None:
        lo, la = to_wgs84(point[0], point[1], crs=crs)
        lon, lat = float(np.atleast_1d(lo)[0]), float(np.atleast_1d(la)[0])
        return {
            "name": f"地块（{point[0]:g},{point[1]:g}）",
            "village_code": None,
            "lon": lon,
            "lat": lat,
            "build_cost": None,
            "capacity": None,
        }
    hint = "候选点文件（--candidates）中的名称、" if candidates is not None else ""
    raise InputError(
        f"{option} 给出的地块「{text}」找不到：请写{hint}村社代码或名称、经度,纬度，"
        "或 best（由求解器在候选点中选最佳地块）",
        value=text,
    )
