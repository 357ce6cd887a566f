"""Named planning scenarios kept in the store, and their side-by-side comparison.

A scenario is a named record of one planning run: its inputs (budget, number of
new sites, …), the full JSON form of its result, flat headline ``metrics``
(metric key → number or text) and the same metrics per town (``by_town``). Leaders
compare proposals such as "two new homes + three upgrades, budget 300万" against
"three new homes": :func:`compare_scenarios` lines the saved scenarios up in one
table per aspect, :func:`write_comparison` writes them for Excel.

Saving a name that exists replaces that scenario (its ``created_at`` is kept);
saves and deletes are recorded in the audit log.
"""

from __future__ import annotations

import csv
import json
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.errors import ScenarioError
from planner.store import schema as t
from planner.store.core import Store, audit

__all__ = [
    "METRIC_LABELS",
    "NAME_MAX_CHARS",
    "TOWN_COLUMN_SEP",
    "Scenario",
    "ScenarioComparison",
    "compare_scenarios",
    "delete_scenario",
    "list_scenarios",
    "load_scenario",
    "metric_label",
    "render_input",
    "save_scenario",
    "write_comparison",
]

NAME_MAX_CHARS = 64
_KIND_MAX_CHARS = 16
_FACILITY_TYPE_MAX_CHARS = 32
#: Names that would collide with the key columns of the comparison tables.
_RESERVED_NAMES = frozenset({"key", "label", "town"})
#: Joins scenario name and metric in the column names of the towns table.
TOWN_COLUMN_SEP = "·"

METRIC_LABELS: dict[str, str] = {
    "objective": "目标值",
    "bound": "界",
    "gap": "最优性差距",
    "seconds": "求解秒数",
    "cost": "费用（元）",
    "new_sites": "新建点数",
    "upgrades": "改造升级数",
    "eligible": "符合条件人数",
    "covered_before": "覆盖人数（前）",
    "covered_after": "覆盖人数（后）",
    "within_capacity_before": "容量内人数（前）",
    "within_capacity_after": "容量内人数（后）",
    "coverage_pct_before": "覆盖率%（前）",
    "coverage_pct_after": "覆盖率%（后）",
    "mean_minutes_before": "平均用时（前）",
    "mean_minutes_after": "平均用时（后）",
    "households": "改造户数",
    "retrofit_pct_before": "改造率%（前）",
    "retrofit_pct_after": "改造率%（后）",
}
"""Chinese labels of the metric keys the planners write (unknown keys show as is)."""


def metric_label(key: str) -> str:
    """The Chinese label of metric ``key`` (the key itself when it has none)."""
    return METRIC_LABELS.get(key, key)


@dataclass(frozen=True)
class Scenario:
    """One saved planning scenario.

    Attributes
    ----------
    name
        Unique name (at most 64 characters, no surrounding spaces).
    kind
        What was planned: ``"site"``, ``"retrofit"`` or another short code.
    facility_type
        The facility type code the scenario is about, if any.
    created_at, updated_at
        Local time of the first save and of the latest save.
    inputs
        The parameters of the run (JSON values).
    result
        The full JSON form of the result.
    metrics
        Headline figures: metric key → number or text (see :data:`METRIC_LABELS`).
    by_town
        Town name → metric key → number.
    """

    name: str
    kind: str
    facility_type: str | None
    created_at: datetime
    updated_at: datetime
    inputs: dict[str, Any]
    result: dict[str, Any]
    metrics: dict[str, Any]
    by_town: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The scenario as a JSON-serialisable dict (times in ISO 8601)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "facility_type": self.facility_type,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "inputs": self.inputs,
            "result": self.result,
            "metrics": self.metrics,
            "by_town": self.by_town,
        }


@dataclass(frozen=True)
class ScenarioComparison:
    """Saved scenarios side by side.

    Attributes
    ----------
    names
        The scenarios compared, in the order asked for.
    metrics
        Index ``key`` (metric keys in the order first seen across the scenarios);
        column ``label`` (Chinese label), then one column per scenario name.
        A metric a scenario does not have is NaN.
    towns
        Index ``town`` (every town of any scenario, sorted); one column
        ``"<scenario>·<metric key>"`` per town metric a scenario has, grouped by
        metric (in the order first seen), then by scenario. Missing values are NaN.
    inputs
        Index ``key`` (input keys in the order first seen); one column per
        scenario with the value rendered as text (lists and dicts as JSON,
        booleans as 是/否, None as an empty string). A key a scenario does not
        have is NaN.
    """

    names: tuple[str, ...]
    metrics: pd.DataFrame
    towns: pd.DataFrame
    inputs: pd.DataFrame

    def town_columns(self) -> list[tuple[str, str, str]]:
        """``(column, scenario, metric key)`` for every column of :attr:`towns`."""
        out = []
        for column in self.towns.columns:
            scenario, _, key = str(column).rpartition(TOWN_COLUMN_SEP)
            out.append((str(column), scenario, key))
        return out

    def to_json(self) -> dict[str, Any]:
        """The comparison as a JSON-serialisable dict; NaN becomes ``null``.

        ``{"names": [...], "metrics": [{"key", "label", <name>: value, …}],
        "towns": [{"town", "<name>·<metric>": value, …}], "inputs": [{"key",
        <name>: text, …}]}``. Whole numbers are integers.
        """
        metrics = [
            {"key": str(key), **{c: _json_cell(v) for c, v in row.items()}}
            for key, row in self.metrics.iterrows()
        ]
        towns = [
            {"town": str(town), **{str(c): _json_cell(v) for c, v in row.items()}}
            for town, row in self.towns.iterrows()
        ]
        inputs = [
            {"key": str(key), **{str(c): _json_cell(v) for c, v in row.items()}}
            for key, row in self.inputs.iterrows()
        ]
        return {"names": list(self.names), "metrics": metrics, "towns": towns, "inputs": inputs}


# ---------------------------------------------------------------- validation


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ScenarioError("方案名称不能为空；请给方案起一个简短的名称，例如「新建2处+改造3处」。")
    if len(name) > NAME_MAX_CHARS:
        raise ScenarioError(
            f"方案名称「{name}」有 {len(name)} 个字符，超过 {NAME_MAX_CHARS} 个；请改用更短的名称。"
        )
    if name != name.strip():
        raise ScenarioError(f"方案名称「{name}」首尾有空格；请去掉首尾的空格后再保存。")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ScenarioError(f"方案名称「{name!r}」含换行或控制字符；请只用文字、数字和标点。")
    if name in _RESERVED_NAMES:
        raise ScenarioError(
            f"方案名称「{name}」与比较表的列名冲突（保留：key、label、town）；请换一个名称。"
        )
    return name


def _check_code(
    value: object, *, what: str, example: str, max_chars: int, optional: bool
) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"方案的{what}不能为空；请给出一个简短的代码（如 {example}）。")
    if len(value) > max_chars:
        raise ScenarioError(f"方案的{what}「{value}」超过 {max_chars} 个字符；请改用更短的代码。")
    return value


def _plain(value: Any, *, where: str) -> Any:
    """``value`` as plain JSON: numpy scalars unwrapped, NaN/inf → None, dates ISO."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return _plain(value.item(), where=where)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise TypeError(f"{where}: key {key!r} is not a JSON object key")
            out[key if isinstance(key, str) else json.dumps(key)] = _plain(
                item, where=f"{where}.{key}"
            )
        return out
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v, where=f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where}: {type(value).__name__} is not a JSON value")


def _check_metrics(metrics: Mapping[str, Any], *, where: str, text_ok: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in _plain(dict(metrics), where=where).items():
        ok = value is None or isinstance(value, int | float) or (text_ok and isinstance(value, str))
        if not ok:
            kinds = "数字或文字" if text_ok else "数字"
            raise ScenarioError(f"{where} 的指标「{key}」值为「{value}」；指标值只能是{kinds}。")
        out[key] = value
    return out


def _to_record(row: t.Scenario) -> Scenario:
    return Scenario(
        name=row.name,
        kind=row.kind,
        facility_type=row.facility_type,
        created_at=row.created_at,
        updated_at=row.updated_at,
        inputs=dict(row.inputs or {}),
        result=dict(row.result or {}),
        metrics=dict(row.metrics or {}),
        by_town={str(town): dict(m) for town, m in (row.by_town or {}).items()},
    )


def _missing(name: str, saved: Sequence[str]) -> ScenarioError:
    if saved:
        return ScenarioError(f"没有名为「{name}」的方案；已保存的方案：{'、'.join(saved)}。")
    return ScenarioError(f"没有名为「{name}」的方案；数据库中还没有保存任何方案。")


def _saved_names(session: Session) -> list[str]:
    query = select(t.Scenario.name).order_by(t.Scenario.created_at, t.Scenario.name)
    return list(session.scalars(query))


# ---------------------------------------------------------------- store


def save_scenario(
    store: Store,
    *,
    name: str,
    kind: str,
    inputs: Mapping[str, Any],
    result: Mapping[str, Any],
    metrics: Mapping[str, Any],
    by_town: Mapping[str, Mapping[str, Any]],
    facility_type: str | None = None,
    overwrite: bool = True,
) -> Scenario:
    """Save a scenario under ``name`` (one write transaction, audited).

    Parameters
    ----------
    store
        The store to write to.
    name
        Unique name: not empty, at most 64 characters, no leading or trailing
        spaces, not ``key``, ``label`` or ``town``.
    kind
        ``"site"``, ``"retrofit"`` or another code of at most 16 characters.
    inputs
        The run's parameters. Values must be JSON values; numpy scalars and
        arrays, dates and paths are converted, NaN and infinities become null,
        tuples become lists.
    result
        The full JSON form of the result (converted like ``inputs``).
    metrics
        Metric key → number or text (None for not available).
    by_town
        Town name → metric key → number (None for not available).
    facility_type
        The facility type code the scenario is about, if any (≤ 32 characters).
    overwrite
        Replace a scenario of the same name (keeping its ``created_at``). When
        false, an existing name raises :class:`ScenarioError`.

    Returns
    -------
    Scenario
        The scenario as stored.

    Raises
    ------
    ScenarioError
        For an invalid name, kind or metric value, or an existing name with
        ``overwrite=False``.
    TypeError
        When ``inputs`` or ``result`` hold something that is not a JSON value.
    """
    name = _check_name(name)
    checked_kind = _check_code(
        kind, what="类型", example="site、retrofit", max_chars=_KIND_MAX_CHARS, optional=False
    )
    assert checked_kind is not None
    facility_type = _check_code(
        facility_type,
        what="设施类型",
        example="home",
        max_chars=_FACILITY_TYPE_MAX_CHARS,
        optional=True,
    )
    plain_inputs = _plain(dict(inputs), where="inputs")
    plain_result = _plain(dict(result), where="result")
    plain_metrics = _check_metrics(metrics, where="方案指标", text_ok=True)
    plain_towns: dict[str, dict[str, Any]] = {}
    for town, values in by_town.items():
        if not isinstance(town, str) or not town:
            raise ScenarioError(f"by_town 的镇街名称「{town}」无效；请用镇街的名称作键。")
        plain_towns[town] = _check_metrics(values, where=f"镇街「{town}」", text_ok=False)

    now = datetime.now()
    with store.write() as s:
        row = s.scalars(select(t.Scenario).where(t.Scenario.name == name)).one_or_none()
        replaced = row is not None
        if row is None:
            row = t.Scenario(name=name, created_at=now)
            s.add(row)
        elif not overwrite:
            raise ScenarioError(
                f"方案「{name}」已存在（{row.created_at:%Y-%m-%d %H:%M} 保存）；"
                "请换一个名称，或允许覆盖，或先删除：coverplan scenarios delete "
                f"「{name}」。"
            )
        row.kind = checked_kind
        row.facility_type = facility_type
        row.updated_at = max(now, row.created_at)
        row.inputs = plain_inputs
        row.result = plain_result
        row.metrics = plain_metrics
        row.by_town = plain_towns
        s.flush()
        audit(
            s,
            action="replace" if replaced else "save",
            entity="scenario",
            detail={"name": name, "kind": checked_kind, "facility_type": facility_type},
        )
        return _to_record(row)


def load_scenario(store: Store, name: str) -> Scenario:
    """The scenario saved as ``name``.

    Raises
    ------
    ScenarioError
        When there is none; the message lists the saved names.
    """
    with store.read() as s:
        row = s.scalars(select(t.Scenario).where(t.Scenario.name == name)).one_or_none()
        if row is None:
            raise _missing(name, _saved_names(s))
        return _to_record(row)


def list_scenarios(store: Store) -> list[Scenario]:
    """All saved scenarios, oldest first (by ``created_at``, then name)."""
    with store.read() as s:
        query = select(t.Scenario).order_by(t.Scenario.created_at, t.Scenario.name)
        return [_to_record(row) for row in s.scalars(query)]


def delete_scenario(store: Store, name: str) -> None:
    """Delete the scenario saved as ``name`` (audited).

    Raises
    ------
    ScenarioError
        When there is none; the message lists the saved names.
    """
    with store.write() as s:
        row = s.scalars(select(t.Scenario).where(t.Scenario.name == name)).one_or_none()
        if row is None:
            raise _missing(name, _saved_names(s))
        detail = {"name": row.name, "kind": row.kind, "created_at": row.created_at}
        s.delete(row)
        audit(s, action="delete", entity="scenario", detail=detail)


# ---------------------------------------------------------------- comparison


def render_input(value: Any) -> str:
    """An input value as text: None → "", booleans 是/否, lists and dicts as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _first_seen(keys: Sequence[Sequence[str]]) -> list[str]:
    return list(dict.fromkeys(k for group in keys for k in group))


def compare_scenarios(store: Store, names: Sequence[str]) -> ScenarioComparison:
    """Line up saved scenarios side by side.

    Parameters
    ----------
    store
        The store holding the scenarios.
    names
        At least two distinct scenario names; the column order of the tables.

    Returns
    -------
    ScenarioComparison
        Metrics, per-town metrics and inputs, one column per scenario.

    Raises
    ------
    ScenarioError
        Fewer than two names, a name given twice, or a name not saved (the
        message lists the saved names).
    """
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if len(names) < 2:
        raise ScenarioError(
            f"比较至少需要两个方案（现在给了 {len(names)} 个）；请再给出一个已保存的方案名称。"
        )
    twice = [n for n in dict.fromkeys(names) if names.count(n) > 1]
    if twice:
        raise ScenarioError(f"方案「{'、'.join(twice)}」重复给出；每个方案只需列一次。")
    with store.read() as s:
        rows = {
            row.name: _to_record(row)
            for row in s.scalars(
                select(t.Scenario).where(t.Scenario.name.in_(names)).order_by(t.Scenario.id)
            )
        }
        missing = [n for n in names if n not in rows]
        if missing:
            saved = _saved_names(s)
            if len(missing) == 1:
                raise _missing(missing[0], saved)
            listed = "、".join(saved) if saved else "（无）"
            raise ScenarioError(
                f"没有名为「{'」「'.join(missing)}」的方案；已保存的方案：{listed}。"
            )
    scenarios = [rows[n] for n in names]

    keys = _first_seen([list(sc.metrics) for sc in scenarios])
    index = pd.Index(keys, name="key", dtype=object)
    metrics = pd.DataFrame(
        {
            "label": pd.Series([metric_label(k) for k in keys], index=index, dtype=object),
            **{
                n: _column([sc.metrics.get(k) for k in keys], index=index)
                for n, sc in zip(names, scenarios, strict=True)
            },
        },
        index=index,
    )

    towns_sorted = sorted({town for sc in scenarios for town in sc.by_town})
    town_keys = [_first_seen([list(m) for m in sc.by_town.values()]) for sc in scenarios]
    town_index = pd.Index(towns_sorted, name="town", dtype=object)
    columns: dict[str, pd.Series] = {}
    for key in _first_seen(town_keys):
        for n, sc, own in zip(names, scenarios, town_keys, strict=True):
            if key in own:
                columns[f"{n}{TOWN_COLUMN_SEP}{key}"] = _column(
                    [sc.by_town.get(town, {}).get(key) for town in towns_sorted], index=town_index
                )
    towns = pd.DataFrame(columns, index=town_index)

    input_keys = _first_seen([list(sc.inputs) for sc in scenarios])
    inputs = pd.DataFrame(
        {
            n: [render_input(sc.inputs[k]) if k in sc.inputs else np.nan for k in input_keys]
            for n, sc in zip(names, scenarios, strict=True)
        },
        index=pd.Index(input_keys, name="key", dtype=object),
        dtype=object,
    )
    return ScenarioComparison(names=tuple(names), metrics=metrics, towns=towns, inputs=inputs)


def _column(values: list[Any], *, index: pd.Index) -> pd.Series:
    """float64 when every value is a number or missing, else object; missing → NaN."""
    present = [v for v in values if not _is_missing(v)]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.Series(
            [np.nan if _is_missing(v) else float(v) for v in values], index=index, dtype="float64"
        )
    return pd.Series([np.nan if _is_missing(v) else v for v in values], index=index, dtype=object)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _json_cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if _is_missing(value):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() else value
    return value


# ---------------------------------------------------------------- files


def _sheets(comparison: ScenarioComparison) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Header and rows of each table with Chinese headers (values JSON-plain)."""
    names = list(comparison.names)
    metrics = (
        ["指标", *names],
        [
            [row["label"], *(_json_cell(row[n]) for n in names)]
            for _, row in comparison.metrics.iterrows()
        ],
    )
    town_header = ["镇街"] + [
        f"{scenario}{TOWN_COLUMN_SEP}{metric_label(key)}"
        for _, scenario, key in comparison.town_columns()
    ]
    towns = (
        town_header,
        [
            [town, *(_json_cell(v) for v in row)]
            for town, row in zip(
                comparison.towns.index, comparison.towns.itertuples(index=False), strict=True
            )
        ],
    )
    inputs = (
        ["输入项", *names],
        [[key, *(_json_cell(row[n]) for n in names)] for key, row in comparison.inputs.iterrows()],
    )
    return {"指标": metrics, "镇街": towns, "输入": inputs}


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def _display_width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write_xlsx(path: Path, sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> Path:
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    bold = Font(bold=True)
    for title, (header, rows) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(header)
        for row in rows:
            ws.append(row)
        for cell in ws[1]:
            cell.font = bold
        for row_cells in ws.iter_rows(min_row=2):
            for cell in row_cells:  # text that Excel would take for a formula stays text
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
        ws.freeze_panes = "B2"
        for i, column in enumerate(zip(header, *rows, strict=True), start=1):
            width = max(_display_width(v) for v in column) + 2
            ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
    wb.save(path)
    return path


def write_comparison(comparison: ScenarioComparison, path: Path | str) -> tuple[Path, ...]:
    """Write a comparison for people (Chinese headers, opens in Excel).

    Parameters
    ----------
    comparison
        From :func:`compare_scenarios`.
    path
        ``.csv``: the metrics table there (UTF-8 with BOM) and the towns table
        next to it as ``<stem>_towns.csv``. ``.xlsx``: one workbook with the
        sheets 指标, 镇街 and 输入 (bold headers, fitted column widths).
        Missing values are empty cells. Parent directories are created.

    Returns
    -------
    tuple of Path
        The files written.

    Raises
    ------
    ScenarioError
        For any other file suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ScenarioError(
            f"无法写入「{path}」：不支持的文件类型「{path.suffix or '（无扩展名）'}」；"
            "请用 .csv 或 .xlsx。"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    sheets = _sheets(comparison)
    if suffix == ".xlsx":
        return (_write_xlsx(path, sheets),)
    towns_path = path.with_name(f"{path.stem}_towns{path.suffix}")
    return (_write_csv(path, *sheets["指标"]), _write_csv(towns_path, *sheets["镇街"]))
