"""Leads (线索): suspected unregistered persons, half of them with an ID number."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from data.demo._calibration import LEADS, LEADS_WITH_ID
from data.demo._geometry import Village
from data.demo._identity import IdNumbers, birth_date, home_address, person_name, phone_number
from data.demo._records import SYNTHETIC_NOTE, Roster
from data.demo._sampling import to_mask

LEAD_SOURCES = {"卫健转介": 0.35, "村社排查": 0.3, "医院转介": 0.2, "民政比对": 0.15}
LEAD_NOTES = (
    "家属反映行动不便，尚未办证",
    "疑似孤独症，建议评估",
    "长期服药，家属不知可办证",
    "听力下降多年，未做鉴定",
    "脑卒中后遗症，行走困难",
    "视力明显下降，独居",
    "智力发育迟缓，在校就读",
    "",
)


def make_leads(
    villages: list[Village],
    roster: Roster,
    today: date,
    rng: np.random.Generator,
) -> list[list[str]]:
    """Suspected unregistered persons (线索), half of them with an ID number."""
    gap = set(roster.gap_villages)
    weight = np.array([v.population * (3.0 if v.code in gap else 1.0) for v in villages])
    which = rng.choice(len(villages), size=LEADS, p=weight / weight.sum())
    with_id = to_mask(LEADS, rng.choice(LEADS, size=LEADS_WITH_ID, replace=False))
    cat_w = {"肢体残疾": 35, "精神残疾": 20, "智力残疾": 12, "听力残疾": 15, "视力残疾": 10,
             "言语残疾": 3, "多重残疾": 5}  # fmt: skip
    cats = list(cat_w)
    cw = np.array(list(cat_w.values()), dtype=np.float64)
    sources = list(LEAD_SOURCES)
    sw = np.array(list(LEAD_SOURCES.values()))
    ids = IdNumbers()
    ids.used = set(roster.taken_ids)
    rows: list[list[str]] = []
    for k in range(LEADS):
        v = villages[int(which[k])]
        male = rng.random() < 0.5
        sex = "男" if male else "女"
        birth = birth_date(today, int(rng.integers(3, 90)), rng)
        number = ids.new(birth, male, rng) if with_id[k] else ""
        note = LEAD_NOTES[int(rng.integers(len(LEAD_NOTES)))]
        rows.append(
            [
                person_name(sex, birth.year, rng),
                sex,
                number,
                v.town,
                v.written,
                home_address(v, v.written, rng),
                phone_number(rng),
                cats[int(rng.choice(len(cats), p=cw / cw.sum()))],
                sources[int(rng.choice(len(sources), p=sw / sw.sum()))],
                (today - timedelta(days=int(rng.integers(0, 366)))).isoformat(),
                f"{note}（{SYNTHETIC_NOTE}）" if note else f"（{SYNTHETIC_NOTE}）",
            ]
        )
    return rows
