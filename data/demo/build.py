"""Build the demo store: generate the synthetic district, then import it through
exactly the importers a user runs (files in, store out)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from data.demo.generate import generate_demo
from geo.gazetteer import load_fenghua, reference_district
from planner.errors import StoreError
from planner.networks import record_network_file
from planner.progress import Progress, silent
from planner.reports.import_problems import report_path, write_report
from planner.services.district import status
from planner.services.imports import ImportOptions, ImportResult, import_file
from planner.settings import Config
from planner.store.core import META_CODE, Store
from planner.store.district import clear_people
from planner.store.summary import StoreSummary, pad

DEMO_SOURCE = "demo"
DEMO_DISTRICT = "330213"  # the demo district is 奉化区 (packaged reference list)
STAGE_TITLE = "演示区"  # the progress bar of building the demo
GENERATE_SHARE = 0.2  # share of the bar when the imports start (after generating)
IMPORT_SHARE = 0.7  # share of the bar the six imports take together


@dataclass(frozen=True)
class DemoResult:
    inputs: Path
    imports: tuple[ImportResult, ...]
    summary: StoreSummary
    summary_files: tuple[Path, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": str(self.inputs),
            "synthetic": True,
            "imports": [r.to_json() for r in self.imports],
            "rejected_rows": sum(r.rejected for r in self.imports),
            "summary": self.summary.to_json(),
            "summary_files": [str(p) for p in self.summary_files],
        }

    def text(self) -> str:
        parts = [self.summary.text(), "", "导入情况："]
        for r in self.imports:
            parts.append(
                f"  {pad(Path(r.file).name, 24)}行 {r.rows:>6}  入库 {r.stored:>6}  "
                f"拒绝 {r.rejected:>3}  待核查 {r.needs_review:>3}"
            )
        parts.append(f"共拒绝 {sum(r.rejected for r in self.imports)} 行（问题清单见 out/）")
        return "\n".join(parts)


def load_demo_geometry(
    store: Store, *, config: Config, data_dir: Path, seed: int = 2024
) -> ImportResult:
    """Give the store's villages the demo's synthetic points and polygons.

    For a 奉化区 store (``coverplan init --district 330213`` holds codes and names
    only): the demo's geometry, flagged ``synthetic``; importing a real villages
    file later replaces it. ``coverplan init`` never loads it by itself.
    """
    files = generate_demo(data_dir / "demo", seed=seed)
    return import_file(
        store, config=config, options=ImportOptions(kind="villages", path=files.villages)
    )


def _import(
    store: Store,
    kind: Any,
    path: Path,
    *,
    crs: str,
    report_dir: Path,
    config: Config,
    today: date,
) -> ImportResult:
    """Import one demo file as ``coverplan import`` does, writing its problem report."""
    options = ImportOptions(kind=kind, path=path, crs=crs, today=today)
    result = import_file(store, config=config, options=options)
    report = report_path(path, report_dir=report_dir, has_problems=bool(result.problems))
    if report is None:
        return result
    return replace(result, report=write_report(result.problems, report, file=path.name))


def build_demo(
    store: Store,
    *,
    config: Config,
    data_dir: Path,
    out_dir: Path,
    seed: int = 2024,
    today: date | None = None,
    force: bool = False,
    progress: Progress = silent,
) -> DemoResult:
    """Generate the demo inputs under ``data_dir/demo`` and import them into ``store``.

    ``today`` (default: the real today) anchors the synthetic dates (ages, device
    due dates, last visits), so the demo stays current whenever it is built.
    ``progress`` is told ``演示区：…`` at each stage (generating, each import, the summary).

    Raises
    ------
    StoreError
        When the store already holds non-demo data and ``force`` is not set.
    """
    source = store.get_meta("district_source")
    code = store.get_meta(META_CODE)
    if code is not None and code != DEMO_DISTRICT:
        name = store.get_meta("district_name")
        raise StoreError(
            f"数据库 {store.display_url} 是 {name}（{code}）的数据库，"
            "演示区（奉化区）不能写入其中；请用 --db 或 COVERPLAN_DB_URL 指向另一个数据库。"
        )
    if not force and source not in (None, DEMO_SOURCE) and not store.is_empty():
        raise StoreError(
            f"数据库 {store.display_url} 已有真实数据（来源：{source}），演示数据不能写入其中；"
            "请设置 COVERPLAN_DB_URL 指向另一个数据库，或加 --force。"
        )
    today = today or date.today()
    progress(f"{STAGE_TITLE}：生成合成数据", 0.0)
    files = generate_demo(data_dir / "demo", seed=seed, today=today)
    # The synthetic people are anchored to `today`: a rebuild replaces them rather
    # than adding a second population (only ever in a store marked as the demo).
    if source == DEMO_SOURCE:
        clear_people(store, entity="demo", reason="demo rebuilt")
    ref = reference_district(DEMO_DISTRICT)
    store.load_gazetteer(load_fenghua(), source=DEMO_SOURCE, office=ref.office if ref else None)
    reports = out_dir / "demo" / "import_reports"
    plan: list[tuple[Any, Path, str]] = [
        ("villages", files.villages, "wgs84"),
        ("facilities", files.facilities, "wgs84"),
        ("facilities", files.facilities_amap, "gcj02"),
        ("residents", files.residents, "wgs84"),
        ("devices", files.devices, "wgs84"),
        ("leads", files.leads, "wgs84"),
    ]
    done: list[ImportResult] = []
    for n, (kind, path, crs) in enumerate(plan):
        progress(f"{STAGE_TITLE}：导入 {path.name}", GENERATE_SHARE + IMPORT_SHARE * n / len(plan))
        done.append(
            _import(store, kind, path, crs=crs, report_dir=reports, config=config, today=today)
        )
    results = tuple(done)
    progress(f"{STAGE_TITLE}：汇总", GENERATE_SHARE + IMPORT_SHARE)
    record_network_file(store, files.roads)
    summary = status(store, config=config)
    result = DemoResult(inputs=files.directory, imports=results, summary=summary, summary_files=())
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "demo_summary.json"
    text_path = out_dir / "demo_summary.txt"
    json_path.write_text(
        json.dumps(result.to_json(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    text_path.write_text(result.text() + "\n", encoding="utf-8")
    progress(f"{STAGE_TITLE}：完成", 1.0)
    return DemoResult(
        inputs=files.directory,
        imports=results,
        summary=summary,
        summary_files=(json_path, text_path),
    )
