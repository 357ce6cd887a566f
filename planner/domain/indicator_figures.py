"""The figures of the 十四五 indicator table: targets with their comparison, and
numerators and denominators per district and per town.

An indicator's value is a ratio (percent: numerator / denominator × 100) or a
count (facilities). Whether it meets its target is decided on the exact
counts, never on the rounded percent: with ``>99%``, 99 of 100 (99.0 %) is not
met; with ``≥99%`` it is. The counting rules every ratio shares are here
(:func:`share`: among a group, those whose register value is recorded form the
denominator, those with "是" the numerator); the rows of the plan's table
(what each indicator counts) are in :mod:`planner.domain.plan_table`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Literal

import pandas as pd

from planner.domain.devices import DeviceCounts
from planner.jsonable import to_jsonable
from planner.units import PERCENT

__all__ = [
    "HOME_TYPE",
    "PCT_DECIMALS",
    "Definition",
    "Figure",
    "HomeReach",
    "Indicator",
    "IndicatorInputs",
    "Reading",
    "Target",
    "TownValue",
    "facility_count",
    "flag",
    "share",
    "town_figure",
]

#: The facility type of the 残疾人之家 (its coverage and its presence per town are indicators).
HOME_TYPE = "home"
PCT_DECIMALS = 2
Comparison = Literal[">", "≥", ""]
STATUS_ZH = {True: "达标", False: "未达标"}
NO_DATA_ZH = "无数据"
ZERO_DENOMINATOR_ZH = "分母为 0：名册中没有符合分母条件的人"


@dataclass(frozen=True)
class Target:
    """A target as the plan states it.

    Attributes
    ----------
    value
        The threshold in the indicator's unit (percent, or facilities); None
        when the plan states no number (``与区生产总值增长同步``).
    comparison
        ``>`` (strictly more), ``≥`` (at least), or ``""`` without a number.
    unit
        ``%``, ``家`` or ``个``.
    text
        The target as written in the plan (``>99%``, ``≥90%``, ``1家``).
    """

    value: float | None
    comparison: Comparison
    unit: str
    text: str

    @classmethod
    def pct(cls, value: float, comparison: Comparison) -> Target:
        """A percent target: ``Target.pct(99, ">")`` is ``>99%``."""
        return cls(float(value), comparison, "%", f"{comparison}{value:g}%")

    @classmethod
    def count(cls, value: int, unit: str) -> Target:
        """At least ``value`` facilities: ``Target.count(1, "家")`` is ``1家``."""
        return cls(float(value), "≥", unit, f"{value}{unit}")

    @classmethod
    def words(cls, text: str) -> Target:
        """A target without a number (nothing can meet or miss it here)."""
        return cls(None, "", "", text)

    def met(
        self, *, numerator: float | None, denominator: float | None, value: float | None
    ) -> bool | None:
        """Whether a value meets the target (None without a value or a numeric target).

        Percent targets compare the exact ratio ``numerator / denominator``
        (not the rounded percent); other targets compare ``value``.
        """
        if self.value is None or value is None or not self.comparison:
            return None
        got: Fraction
        if self.unit == "%" and numerator is not None and denominator:
            got = Fraction(PERCENT) * Fraction(int(numerator), int(denominator))
        else:
            got = Fraction(value)
        want = Fraction(self.value)
        return bool(got > want) if self.comparison == ">" else bool(got >= want)


@dataclass(frozen=True)
class Definition:
    """What an indicator counts (Chinese): its numerator and denominator (None for a count)."""

    numerator: str
    denominator: str | None = None
    heading: str = "计数"

    def text(self) -> str:
        """``分子：…；分母：…`` (or ``计数：…`` for a count, ``heading`` its word)."""
        if self.denominator is None:
            return f"{self.heading}：{self.numerator}"
        return f"分子：{self.numerator}；分母：{self.denominator}"

    def to_json(self) -> dict[str, str | None]:
        return {"numerator": self.numerator, "denominator": self.denominator}


@dataclass(frozen=True)
class TownValue:
    """An indicator in one town (persons or facilities; ``value`` percent or a count)."""

    town_code: str
    town_name: str
    numerator: int | None
    denominator: int | None
    value: float | None
    met: bool | None

    def to_json(self, *, unit: str) -> dict[str, Any]:
        """``town_code, town_name, numerator, denominator, value, value_pct, met``."""
        return to_jsonable(
            {
                "town_code": self.town_code,
                "town_name": self.town_name,
                "numerator": self.numerator,
                "denominator": self.denominator,
                "value": _in_unit(self.value, unit),
                "value_pct": self.value if unit == "%" else None,
                "met": self.met,
            }
        )


@dataclass(frozen=True)
class Figure:
    """An indicator's counts in the district and per town.

    Attributes
    ----------
    numerator, denominator
        Persons (or towns) counted; for a count indicator ``numerator`` is the
        count and ``denominator`` None. None when the data cannot support it.
    value
        Percent (two decimals) for a ratio, the count for a count; None: 无数据.
    by_town
        One entry per town (code order); empty when the indicator has no
        per-town breakdown.
    data_needed
        When ``value`` is None: the data (register column) that would make it
        computable (Chinese).
    """

    numerator: int | None
    denominator: int | None
    value: float | None
    by_town: tuple[TownValue, ...] = ()
    data_needed: str | None = None

    @classmethod
    def missing(cls, data_needed: str, *, towns: Iterable[TownValue] = ()) -> Figure:
        """No value: ``data_needed`` says what would make it computable."""
        return cls(None, None, None, tuple(towns), data_needed)

    @classmethod
    def missing_in_towns(cls, data_needed: str, towns: pd.DataFrame) -> Figure:
        """No value, in the district nor in any of ``towns`` (``town_code, town_name``)."""
        return cls.missing(
            data_needed,
            towns=(
                TownValue(str(c), str(n), None, None, None, None)
                for c, n in zip(towns["town_code"], towns["town_name"], strict=True)
            ),
        )


def _pct(numerator: int, denominator: int) -> float | None:
    return round(PERCENT * numerator / denominator, PCT_DECIMALS) if denominator else None


def town_figure(
    towns: pd.DataFrame,
    numerators: pd.Series,
    denominators: pd.Series,
    *,
    target: Target,
    total: tuple[int, int] | None = None,
) -> Figure:
    """A ratio from per-town numerators and denominators (indexed by town code).

    ``towns``: every town (``town_code, town_name``, code order); a town absent
    from the series counts 0 / 0 (no value). ``total``: the district's
    (numerator, denominator) when it is not the sum over ``towns``.
    """
    out = []
    for code, name in zip(towns["town_code"], towns["town_name"], strict=True):
        num, den = int(numerators.get(code, 0)), int(denominators.get(code, 0))
        value = _pct(num, den)
        met = target.met(numerator=num, denominator=den, value=value)
        out.append(TownValue(str(code), str(name), num, den, value, met))
    num, den = total or (sum(t.numerator or 0 for t in out), sum(t.denominator or 0 for t in out))
    if not den:
        return Figure.missing(ZERO_DENOMINATOR_ZH, towns=out)
    return Figure(num, den, _pct(num, den), tuple(out))


def flag(residents: pd.DataFrame, column: str) -> pd.Series:
    """A yes/no register column as True/False/None (None: not recorded; all None
    when the column is absent)."""
    if column not in residents.columns:
        return pd.Series(None, index=residents.index, dtype=object)
    values = residents[column].astype(object)
    return values.where(values.notna(), None)


def recorded(residents: pd.DataFrame, column: str) -> bool:
    """Whether anyone has a value in ``column`` (false when the column is absent)."""
    return column in residents.columns and bool(residents[column].notna().any())


def share(
    inputs: IndicatorInputs,
    *,
    group: pd.Series,
    hit: pd.Series,
    target: Target,
    data_needed: str,
) -> Figure:
    """Among ``group``, those whose ``hit`` is recorded (denominator) and true (numerator).

    Parameters
    ----------
    inputs
        The counted residents (``town_code``) and every town.
    group
        Boolean per resident: who the indicator is about.
    hit
        True/False/None per resident (None: not recorded, left out of the
        denominator).
    target
        For each town's met.
    data_needed
        Said when nobody in the group has ``hit`` recorded.
    """
    res = inputs.residents
    known = group.astype(bool) & hit.notna()
    yes = known & hit.where(known, False).astype(bool)
    town = res["town_code"]
    figure = town_figure(
        inputs.towns,
        yes.groupby(town).sum(),
        known.groupby(town).sum(),
        target=target,
        total=(int(yes.sum()), int(known.sum())),
    )
    if figure.value is None:
        why = ZERO_DENOMINATOR_ZH if hit.notna().any() and not group.any() else data_needed
        return Figure.missing(why, towns=figure.by_town)
    return figure


def facility_count(inputs: IndicatorInputs, *, types: Iterable[str], target: Target) -> Figure:
    """How many facilities of ``types`` there are, in the district and per town."""
    fac = inputs.facilities
    of_type = fac[fac["type"].isin(list(types))]
    per_town = of_type.groupby("town_code").size()
    towns = tuple(
        TownValue(str(code), str(name), n, None, float(n), None)
        for code, name in zip(inputs.towns["town_code"], inputs.towns["town_name"], strict=True)
        for n in (int(per_town.get(code, 0)),)
    )
    n = len(of_type)
    return Figure(n, None, float(n), towns)


@dataclass(frozen=True)
class HomeReach:
    """The 残疾人之家 coverage per town, for the people reading of its indicator.

    Attributes
    ----------
    threshold_min
        The type's travel-time threshold, minutes.
    towns
        Per town: ``town_code, eligible, home_service, covered,
        covered_within_capacity`` (persons; the coverage town table's rows of
        the home type).
    """

    threshold_min: float
    towns: pd.DataFrame


@dataclass(frozen=True)
class IndicatorInputs:
    """What the indicator table is computed from.

    Attributes
    ----------
    residents
        The counted residents (assigned to a village), as
        :func:`planner.store.frames.residents_frame` returns them: ``town_code,
        birth_date, grade, category, low_income, living_subsidy, care_subsidy,
        employment, retrofit_year`` and the indicator columns ``pension_insured,
        medical_insured, family_doctor, rehab_needed, rehab_received,
        device_needed, culture_sports, education_stage`` (an absent column
        counts as not recorded).
    towns
        Every town of the district: ``town_code, town_name`` (code order).
    facilities
        Every facility: ``type, town_code``.
    today
        Reference day for ages.
    home
        The 残疾人之家 coverage per town; None when it was not computed (the
        people reading then has no value).
    devices
        The devices register's counts and holders; None when not read.
    """

    residents: pd.DataFrame
    towns: pd.DataFrame
    facilities: pd.DataFrame
    today: date
    home: HomeReach | None = None
    devices: DeviceCounts | None = None

    @classmethod
    def towns_of(cls, villages: pd.DataFrame) -> pd.DataFrame:
        """Every town of a villages frame (``town_code, town_name``, code order)."""
        towns = villages[["town_code", "town_name"]].drop_duplicates("town_code")
        return towns.sort_values("town_code").reset_index(drop=True)


@dataclass(frozen=True)
class Reading:
    """One way of counting an indicator (残疾人之家覆盖率 has two)."""

    key: str
    label: str
    definition: Definition
    figure: Figure


def _in_unit(value: float | None, unit: str) -> float | int | None:
    """A percent as it is; a count as a whole number."""
    return value if value is None or unit == "%" else int(value)


def _figure_json(figure: Figure, target: Target) -> dict[str, Any]:
    value = figure.value
    met = target.met(numerator=figure.numerator, denominator=figure.denominator, value=value)
    return {
        "numerator": figure.numerator,
        "denominator": figure.denominator,
        "value": _in_unit(value, target.unit),
        "value_pct": value if target.unit == "%" else None,
        "met": met,
        "status": _status(met, value),
        "data_needed": figure.data_needed,
        "by_town": [t.to_json(unit=target.unit) for t in figure.by_town],
    }


def _status(met: bool | None, value: float | None) -> str:
    if met is not None:
        return STATUS_ZH[met]
    return NO_DATA_ZH if value is None else "—"


@dataclass(frozen=True)
class Indicator:
    """One row of the plan's indicator table (or a further policy check).

    Attributes
    ----------
    key
        Stable English key (``living_subsidy``, ``home`` …; see
        :mod:`planner.domain.plan_table`).
    name
        The indicator's Chinese name as the plan writes it.
    number
        Its row in the plan's table (1–14); None for a policy check.
    kind
        ``约束性``, ``预期性`` or ``政策要求`` (a policy check).
    definition
        Numerator and denominator (Chinese) of the reading held against the target.
    target
        The target and its comparison.
    figure
        The counts and value of that reading, per district and town.
    readings
        Every reading when there are several (残疾人之家覆盖率: ``town`` and
        ``people``), else empty.
    reading
        The key of the reading held against the target (None with one reading).
    note
        A caveat on the counting (Chinese), or empty.
    """

    key: str
    name: str
    number: int | None
    kind: str
    definition: Definition
    target: Target
    figure: Figure
    readings: tuple[Reading, ...] = ()
    reading: str | None = None
    note: str = ""

    @property
    def value(self) -> float | None:
        """The value in the indicator's unit (percent or facilities); None: 无数据."""
        return self.figure.value

    @property
    def numerator(self) -> int | None:
        """Persons, towns or facilities counted (None: 无数据)."""
        return self.figure.numerator

    @property
    def denominator(self) -> int | None:
        """Persons or towns the ratio is of (None: a count, or 无数据)."""
        return self.figure.denominator

    @property
    def value_pct(self) -> float | None:
        """The value when it is a percent, else None."""
        return self.figure.value if self.target.unit == "%" else None

    @property
    def target_pct(self) -> float | None:
        """The target when it is a percent, else None."""
        return self.target.value if self.target.unit == "%" else None

    @property
    def met(self) -> bool | None:
        """Whether the value meets the target (None: no value, or no numeric target)."""
        f = self.figure
        return self.target.met(numerator=f.numerator, denominator=f.denominator, value=f.value)

    @property
    def status(self) -> str:
        """``达标``, ``未达标``, ``无数据`` or ``—`` (a value without a numeric target)."""
        return _status(self.met, self.value)

    def percents(self) -> list[tuple[str, str, float | None, float | None]]:
        """``(key, name, target_pct, value_pct)`` of the indicator, then of each reading
        not held against the target (key ``home:people``, its label after the name):
        what a before/after comparison shows."""
        out = [(self.key, self.name, self.target_pct, self.value_pct)]
        for r in self.readings:
            if r.key != self.reading and self.target.unit == "%":
                name = f"{self.name}（{r.label}）"
                out.append((f"{self.key}:{r.key}", name, self.target_pct, r.figure.value))
        return out

    @property
    def basis(self) -> str:
        """How the value is counted (Chinese), with the note."""
        return self.definition.text() + (f"（{self.note}）" if self.note else "")

    def to_json(self) -> dict[str, Any]:
        """The indicator with its definition, counts, target, per-town values and readings."""
        out: dict[str, Any] = {
            "number": self.number,
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "definition": self.definition.to_json(),
            "unit": self.target.unit,
            "target": _in_unit(self.target.value, self.target.unit),
            "target_pct": self.target_pct,
            "comparison": self.target.comparison,
            "target_text": self.target.text,
            **_figure_json(self.figure, self.target),
            "basis": self.basis,
            "note": self.note,
            "reading": self.reading,
            "readings": [
                {
                    "key": r.key,
                    "name": r.label,
                    "definition": r.definition.to_json(),
                    **_figure_json(r.figure, self.target),
                }
                for r in self.readings
            ],
        }
        return to_jsonable(out)
