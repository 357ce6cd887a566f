"""The analysis behind coverage and gaps on hand-built frames (no store): policy gaps
and device counts, with hand-computed answers (the 十四五 indicator table:
``test_plan_indicators.py``)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from planner.coverage.gaps import policy_gaps
from planner.domain.devices import count_devices, due_in_frame
from planner.settings import Config

TODAY = date(2026, 11, 1)
V1, V2, V3 = "330213100001", "330213100002", "330213100003"


def residents() -> pd.DataFrame:
    rows = [  # id, village, grade, care, low income, living, last visit, retrofit year
        (1, V1, 1, False, "dibao", False, None, None),  # severe w/o care, poor w/o living
        (2, V1, 2, True, "dibao", True, date(2026, 6, 1), 2024),  # nothing missing
        (3, V1, 3, False, None, False, date(2025, 1, 1), None),  # visit overdue only
        (4, V2, 1, None, "dibian", None, date(2026, 10, 1), None),  # severe, poor
        (5, None, 1, False, None, False, None, None),  # awaiting review: not counted
    ]
    cols = ["id", "village_code", "grade", "care_subsidy", "low_income", "living_subsidy"]
    frame = pd.DataFrame([r[:6] for r in rows], columns=cols, dtype=object).assign(
        last_visit=[r[6] for r in rows],
        retrofit_year=[r[7] for r in rows],
        category="肢体",
    )
    return frame.set_index("id", drop=False)


def villages() -> pd.DataFrame:
    return pd.DataFrame(
        {"code": [V1, V2, V3], "name": ["甲村", "乙村", "丙村"], "town_name": ["溪口镇"] * 3}
    )


def devices() -> pd.DataFrame:
    rows = [  # resident, type, issued, years, replaced
        (1, "轮椅", date(2015, 3, 1), 5.0, None),  # replaced by the next (later) one
        (1, "轮椅", date(2021, 6, 1), 6.0, None),  # due 2027-06-01
        (4, "助听器", date(2018, 1, 1), 5.0, None),  # overdue since 2023
        (4, "盲杖", date(2016, 1, 1), 2.0, date(2018, 1, 1)),  # marked replaced
        (2, "拐杖", date(2020, 1, 1), 3.0, None),  # overdue since 2023
    ]
    cols = ["resident_id", "device_type", "issued_on", "service_years", "replaced_on"]
    return pd.DataFrame(rows, columns=cols, dtype=object).assign(id=range(1, len(rows) + 1))


def test_devices_current_and_due_by_hand() -> None:
    counts = count_devices(devices(), today=TODAY)
    # current: 1 轮椅, 4 助听器, 4 盲杖, 2 拐杖; overdue: 助听器, 拐杖 (盲杖 replaced)
    assert (counts.current, counts.overdue) == (4, 2)
    due = due_in_frame(devices(), today=TODAY, within_days=365)
    assert [(d.resident_id, d.device_type, d.due_on) for d in due] == [
        (1, "轮椅", date(2027, 6, 1)),
        (2, "拐杖", date(2023, 1, 1)),
        (4, "助听器", date(2023, 1, 1)),
    ]
    empty = devices().iloc[0:0]
    assert count_devices(empty, today=TODAY) == type(counts)(current=0, overdue=0)


def test_policy_gaps_by_hand(config: Config) -> None:
    overdue = [d.resident_id for d in due_in_frame(devices(), today=TODAY, within_days=0)]
    assert overdue == [2, 4]
    pol = policy_gaps(
        residents(), villages(), devices_overdue=overdue, config=config, today=TODAY
    ).set_index("village_code")
    # V1: severe w/o care 1 (id 1), poor w/o living 1 (id 1), device 1 (id 2),
    #     visits overdue 2 (id 1 never, id 3 in 2025; cut-off 2025-11-01)
    v1 = pol.loc[V1]
    assert (v1["residents"], v1["severe_without_care"], v1["poor_without_living"]) == (3, 1, 1)
    assert (v1["devices_overdue"], v1["visits_overdue"]) == (1, 2)
    assert v1["score"] == pytest.approx(1.0 + 1.0 + 0.5 * 1 + 0.2 * 2)
    assert v1["visits_overdue_per_100"] == pytest.approx(66.7)
    # V2: severe (no care recorded), poor (none recorded), device; visited last month
    v2 = pol.loc[V2]
    assert (v2["severe_without_care"], v2["poor_without_living"], v2["devices_overdue"]) == (
        1,
        1,
        1,
    )
    assert v2["visits_overdue"] == 0 and v2["score"] == pytest.approx(2.5)
    # V3: nobody lives there; rates undefined
    assert pol.loc[V3, "residents"] == 0 and np.isnan(pol.loc[V3, "severe_without_care_per_100"])
    assert pol["rank"].tolist() == [1, 2, 3] and pol.index.tolist() == [V1, V2, V3]
