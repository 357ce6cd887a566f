"""Aggregate summary of a store: counts only, never personal data."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select

from planner.jsonable import to_jsonable
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store


def pad(text: str, width: int) -> str:
    """Left-justify ``text`` to ``width`` terminal columns (CJK characters count 2)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 1)


@dataclass(frozen=True)
class StoreSummary:
    """Counts per town, category and facility type (privacy-safe aggregates).

    ``residents_by_town`` is keyed by town name (``待核查`` for residents whose
    village is not yet resolved); ``residents_by_category`` by Chinese label.
    """

    district: str
    source: str
    synthetic: bool
    towns: int
    villages: int
    villages_with_polygon: int
    villages_synthetic: int
    residents: int
    residents_needing_review: int
    residents_by_category: dict[str, int]
    residents_by_town: dict[str, int]
    facilities_by_type: dict[str, int]
    devices: int
    leads: int

    def to_json(self) -> dict[str, Any]:
        return to_jsonable(asdict(self))

    def text(self) -> str:
        """A Chinese plain-text summary for the terminal and ``out/``."""
        lines = [
            f"{self.district}：{self.towns} 个镇街，{self.villages} 个村社"
            f"（{self.villages_with_polygon} 个有边界）"
        ]
        if self.synthetic:
            lines.append(
                "注意：演示数据（村社位置、边界、道路、人员、设施）均为合成数据，非真实信息。"
            )
        elif self.villages_synthetic:
            lines.append(
                f"注意：{self.villages_synthetic} 个村社的位置与边界为合成演示数据，非真实。"
            )
        lines.append(f"持证残疾人 {self.residents} 人（待核查 {self.residents_needing_review} 人）")
        lines.append(
            "  按类别：" + "，".join(f"{k} {v}" for k, v in self.residents_by_category.items())
        )
        lines.append("  按镇街：")
        lines += [f"    {pad(k, 20)}{v:>6}" for k, v in self.residents_by_town.items()]
        lines.append("设施：" + "，".join(f"{k} {v}" for k, v in self.facilities_by_type.items()))
        lines.append(f"辅具 {self.devices} 件；疑似未持证线索 {self.leads} 条")
        return "\n".join(lines)


def summarize(store: Store, *, config: Config) -> StoreSummary:
    """Count what ``store`` holds."""
    with store.read() as s:

        def count(q: Any) -> int:
            return int(s.scalar(q) or 0)

        towns = dict(s.execute(select(t.Town.code, t.Town.name).order_by(t.Town.code)).all())
        by_cat = dict(
            s.execute(
                select(t.Resident.category, func.count())
                .group_by(t.Resident.category)
                .order_by(t.Resident.category)
            ).all()
        )
        by_town_code = s.execute(
            select(t.Resident.town_code, func.count())
            .where(t.Resident.village_code.is_not(None))
            .group_by(t.Resident.town_code)
            .order_by(t.Resident.town_code)
        ).all()
        by_type = dict(
            s.execute(
                select(t.Facility.type, func.count())
                .group_by(t.Facility.type)
                .order_by(t.Facility.type)
            ).all()
        )
        review = count(
            select(func.count()).select_from(t.Resident).where(t.Resident.needs_review.is_(True))
        )
        unresolved = count(
            select(func.count()).select_from(t.Resident).where(t.Resident.village_code.is_(None))
        )
        summary = StoreSummary(
            district=store.get_meta("district_name") or "",
            source=store.get_meta("district_source") or "",
            synthetic=store.get_meta("district_source") == "demo",
            towns=len(towns),
            villages=count(select(func.count()).select_from(t.Village)),
            villages_with_polygon=count(
                select(func.count()).select_from(t.Village).where(t.Village.polygon.is_not(None))
            ),
            villages_synthetic=count(
                select(func.count()).select_from(t.Village).where(t.Village.synthetic.is_(True))
            ),
            residents=count(select(func.count()).select_from(t.Resident)),
            residents_needing_review=review,
            residents_by_category={
                config.category_label(k): by_cat[k] for k in config.categories if k in by_cat
            },
            residents_by_town={
                **{
                    towns.get(c or "", c or "?"): n
                    for c, n in sorted(by_town_code, key=lambda r: str(r[0]))
                },
                **({"待核查（未定村社）": unresolved} if unresolved else {}),
            },
            facilities_by_type={
                config.facility_label(k): by_type[k] for k in config.facility_types if k in by_type
            },
            devices=count(select(func.count()).select_from(t.Device)),
            leads=count(select(func.count()).select_from(t.Lead)),
        )
    return summary
