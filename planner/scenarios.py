"""Named planning scenarios and their side-by-side comparison (no store, no files).

A scenario is a named record of one planning run: its inputs (budget, number of
new sites, …), the full JSON form of its result, flat headline ``metrics``
(metric key → number or text) and the same metrics per town (``by_town``). Leaders
compare proposals such as "two new homes + three upgrades, budget 300万" against
"three new homes": :func:`compare_scenarios` lines saved scenarios up in one
table per aspect.

This module holds the typed objects and their rules: :class:`Scenario` (as
saved), :class:`ScenarioContent` (what is about to be saved, checked and turned
into plain JSON), :class:`ScenarioComparison`. Saving, loading and deleting are
in :mod:`planner.store.scenarios` (table ``scenarios``, migration 0002), the
comparison files in :mod:`planner.reports.scenarios`, the user actions in
:mod:`planner.services.scenarios`.
"""

from __future__ import annotations

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

from planner.errors import ScenarioError
from planner.jsonable import to_jsonable

__all__ = [
    "METRIC_LABELS",
    "NAME_MAX_CHARS",
    "TOWN_COLUMN_SEP",
    "Scenario",
    "ScenarioComparison",
    "ScenarioContent",
    "check_comparison_names",
    "check_scenario_name",
    "compare_scenarios",
    "json_cell",
    "metric_label",
    "missing_scenarios",
    "render_input",
]

NAME_MAX_CHARS = 64
KIND_MAX_CHARS = 16
FACILITY_TYPE_MAX_CHARS = 32
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
    "closures": "关闭设施数",
    "relocations": "迁建设施数",
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

    def summary_json(self) -> dict[str, Any]:
        """The entry of ``scenarios list --json``: no inputs, result or towns."""
        return {
            "name": self.name,
            "kind": self.kind,
            "facility_type": self.facility_type,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "metrics": self.metrics,
        }


# ---------------------------------------------------------------- what is saved


def check_scenario_name(name: object) -> str:
    """``name`` if it can name a scenario, else :class:`ScenarioError` with the fix.

    Not empty, at most :data:`NAME_MAX_CHARS` characters, no leading or trailing
    spaces, no control characters, not ``key``, ``label`` or ``town``.
    """
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


_LEAVES = (str, bool, int, float, np.generic, datetime, date, Path)


def _json_value(value: Any, *, where: str) -> Any:
    """``value`` as plain JSON (:func:`planner.jsonable.to_jsonable` for the leaves).

    Stricter than ``to_jsonable``: anything that is not a JSON value, a number,
    a date or a path raises ``TypeError`` naming where it sits (``inputs.f``),
    instead of being saved as its text.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, _LEAVES):
        return to_jsonable(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise TypeError(f"{where}: key {key!r} is not a JSON object key")
            name = key if isinstance(key, str) else json.dumps(key)
            out[name] = _json_value(item, where=f"{where}.{key}")
        return out
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_value(v, where=f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where}: {type(value).__name__} is not a JSON value")


def _check_metrics(metrics: Mapping[str, Any], *, where: str, text_ok: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in _json_value(dict(metrics), where=where).items():
        ok = value is None or isinstance(value, int | float) or (text_ok and isinstance(value, str))
        if not ok:
            kinds = "数字或文字" if text_ok else "数字"
            raise ScenarioError(f"{where} 的指标「{key}」值为「{value}」；指标值只能是{kinds}。")
        out[key] = value
    return out


@dataclass(frozen=True, kw_only=True)
class ScenarioContent:
    """What is about to be saved as a scenario: checked, values plain JSON.

    Built from the planner's output; every value is converted on construction
    (numpy scalars and arrays, dates and paths; NaN and infinities become
    ``None``, tuples lists).

    Raises
    ------
    ScenarioError
        For an invalid name, kind, facility type or metric value.
    TypeError
        When ``inputs`` or ``result`` hold something that is not a JSON value.
    """

    name: str
    kind: str
    inputs: Mapping[str, Any]
    result: Mapping[str, Any]
    metrics: Mapping[str, Any]
    by_town: Mapping[str, Mapping[str, Any]]
    facility_type: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_scenario_name(self.name)
        _check_code(
            self.kind,
            what="类型",
            example="site、retrofit",
            max_chars=KIND_MAX_CHARS,
            optional=False,
        )
        _check_code(
            self.facility_type,
            what="设施类型",
            example="home",
            max_chars=FACILITY_TYPE_MAX_CHARS,
            optional=True,
        )
        set_(self, "inputs", _json_value(dict(self.inputs), where="inputs"))
        set_(self, "result", _json_value(dict(self.result), where="result"))
        set_(self, "metrics", _check_metrics(self.metrics, where="方案指标", text_ok=True))
        towns: dict[str, dict[str, Any]] = {}
        for town, values in self.by_town.items():
            if not isinstance(town, str) or not town:
                raise ScenarioError(f"by_town 的镇街名称「{town}」无效；请用镇街的名称作键。")
            towns[town] = _check_metrics(values, where=f"镇街「{town}」", text_ok=False)
        set_(self, "by_town", towns)


def missing_scenarios(missing: Sequence[str], saved: Sequence[str]) -> ScenarioError:
    """The error for names not saved; it lists the saved names."""
    if len(missing) == 1:
        if saved:
            return ScenarioError(
                f"没有名为「{missing[0]}」的方案；已保存的方案：{'、'.join(saved)}。"
            )
        return ScenarioError(f"没有名为「{missing[0]}」的方案；数据库中还没有保存任何方案。")
    listed = "、".join(saved) if saved else "（无）"
    return ScenarioError(f"没有名为「{'」「'.join(missing)}」的方案；已保存的方案：{listed}。")


# ---------------------------------------------------------------- comparison


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
            {"key": str(key), **{c: json_cell(v) for c, v in row.items()}}
            for key, row in self.metrics.iterrows()
        ]
        towns = [
            {"town": str(town), **{str(c): json_cell(v) for c, v in row.items()}}
            for town, row in self.towns.iterrows()
        ]
        inputs = [
            {"key": str(key), **{str(c): json_cell(v) for c, v in row.items()}}
            for key, row in self.inputs.iterrows()
        ]
        return {"names": list(self.names), "metrics": metrics, "towns": towns, "inputs": inputs}


def json_cell(value: Any) -> Any:
    """A table cell as JSON: missing and non-finite → ``None``, whole numbers → int."""
    plain = to_jsonable(value)
    if isinstance(plain, float) and plain.is_integer():
        return int(plain)
    return plain


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


def check_comparison_names(names: Sequence[str] | str) -> list[str]:
    """``names`` as a list if they can be compared: at least two, none twice.

    Raises
    ------
    ScenarioError
        Fewer than two names (a single string counts as one), or a name given twice.
    """
    listed = [names] if isinstance(names, str) else list(names)
    if len(listed) < 2:
        raise ScenarioError(
            f"比较至少需要两个方案（现在给了 {len(listed)} 个）；请再给出一个已保存的方案名称。"
        )
    twice = [n for n in dict.fromkeys(listed) if listed.count(n) > 1]
    if twice:
        raise ScenarioError(f"方案「{'、'.join(twice)}」重复给出；每个方案只需列一次。")
    return listed


def _first_seen(keys: Sequence[Sequence[str]]) -> list[str]:
    return list(dict.fromkeys(k for group in keys for k in group))


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _column(values: list[Any], *, index: pd.Index) -> pd.Series:
    """float64 when every value is a number or missing, else object; missing → NaN."""
    present = [v for v in values if not _is_missing(v)]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.Series(
            [np.nan if _is_missing(v) else float(v) for v in values], index=index, dtype="float64"
        )
    return pd.Series([np.nan if _is_missing(v) else v for v in values], index=index, dtype=object)


def _metrics_table(scenarios: Sequence[Scenario]) -> pd.DataFrame:
    keys = _first_seen([list(sc.metrics) for sc in scenarios])
    index = pd.Index(keys, name="key", dtype=object)
    return pd.DataFrame(
        {
            "label": pd.Series([metric_label(k) for k in keys], index=index, dtype=object),
            **{
                sc.name: _column([sc.metrics.get(k) for k in keys], index=index) for sc in scenarios
            },
        },
        index=index,
    )


def _towns_table(scenarios: Sequence[Scenario]) -> pd.DataFrame:
    towns_sorted = sorted({town for sc in scenarios for town in sc.by_town})
    town_keys = [_first_seen([list(m) for m in sc.by_town.values()]) for sc in scenarios]
    town_index = pd.Index(towns_sorted, name="town", dtype=object)
    columns: dict[str, pd.Series] = {}
    for key in _first_seen(town_keys):
        for sc, own in zip(scenarios, town_keys, strict=True):
            if key in own:
                columns[f"{sc.name}{TOWN_COLUMN_SEP}{key}"] = _column(
                    [sc.by_town.get(town, {}).get(key) for town in towns_sorted], index=town_index
                )
    return pd.DataFrame(columns, index=town_index)


def _inputs_table(scenarios: Sequence[Scenario]) -> pd.DataFrame:
    input_keys = _first_seen([list(sc.inputs) for sc in scenarios])
    return pd.DataFrame(
        {
            sc.name: [render_input(sc.inputs[k]) if k in sc.inputs else np.nan for k in input_keys]
            for sc in scenarios
        },
        index=pd.Index(input_keys, name="key", dtype=object),
        dtype=object,
    )


def compare_scenarios(scenarios: Sequence[Scenario]) -> ScenarioComparison:
    """Line up scenarios side by side, in the order given.

    Parameters
    ----------
    scenarios
        At least two scenarios with distinct names.

    Returns
    -------
    ScenarioComparison
        Metrics, per-town metrics and inputs, one column per scenario.

    Raises
    ------
    ScenarioError
        Fewer than two scenarios, or a name twice.
    """
    names = check_comparison_names([sc.name for sc in scenarios])
    return ScenarioComparison(
        names=tuple(names),
        metrics=_metrics_table(scenarios),
        towns=_towns_table(scenarios),
        inputs=_inputs_table(scenarios),
    )
