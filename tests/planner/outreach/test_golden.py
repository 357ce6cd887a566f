"""Golden files: the outreach calendar, month plans and route sheets stay byte for byte.

``plan.json``, the ``--json`` documents and the route sheets are contracts (the
teams' filled-in sheets come back through ``coverplan visits import``). The files
under ``golden/`` were written by the code before the month plan became typed;
this test runs today's code on the same store and compares:

- ``year_2027.json``: the calendar of 2027 (reference day 2026-12-01);
- ``month_{a,b,c}.json``: ``coverplan outreach month … --out DIR --json`` (the
  output directory written as ``<OUT>``);
- ``month_b.txt``: the same month as text;
- ``sheets_{b,c}/``: the files written under ``--out``: HTML, GPX, ``plan.json`` and
  ``index.html`` byte for byte, XLSX part by part (its ``docProps/core.xml`` holds
  the time of writing); the same files written from the ``plan.json`` read back
  (:meth:`MonthPlan.from_json`), and the month documents read back and written
  again unchanged.

The store is the example county (:mod:`tests.county`) plus 17 residents and one
lead that make the months interesting: off-network households (孤岛村), a village
two hours away (远山村), more home visits than a day holds (东岭村), and, in
month ``c``, a configuration whose teams lack the psychiatric skill, starting at
the service point, over two days.

``COVERPLAN_UPDATE_GOLDEN=1`` rewrites the files (only for a deliberate change of
a contract, stated in the commit).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from api.cli import main
from api.cli.output import dumps
from planner.outreach.plan import MonthPlan
from planner.reports.route_sheets import write_route_sheets
from planner.services.outreach import YearOptions, outreach_year
from planner.settings import load_config, reset_settings
from planner.store.core import Store
from tests import county
from tests.county import VILLAGE, make_county, office_lonlat
from tests.factories import make_id

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("COVERPLAN_UPDATE_GOLDEN") == "1"
SECONDS = "1"
V = {key: v.code for key, v in VILLAGE.items()}
MONTHS = {
    "a": ["2027-01"],
    "b": ["2027-02", *(a for k in ("V08", "V06", "V09", "V10") for a in ("--village", V[k]))],
    "c": ["2027-03", "--village", V["V10"], "--village", V["V08"]],
}
SHEETS = ("b", "c")
CONFIG_C = """[outreach]
start_at = "service_point"
days = 2
[outreach.teams.B]
skills = ["assessment", "rehab"]
skill_labels = ["评残医生", "康复治疗师"]
"""


class Cli:
    """``coverplan --db URL …`` in-process; stdout of a successful run."""

    def __init__(self, db: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = db
        self.capsys = capsys

    def __call__(self, *args: str) -> str:
        self.capsys.readouterr()
        code = main(["--db", self.db, *args])
        out, err = self.capsys.readouterr()
        assert code == 0, (args, err)
        return out


def _extra_residents(header: str) -> str:
    """17 residents under psychiatric medication supervision (a home visit each)."""
    rows = [header.strip()]
    k = 0
    for key, n in (("V09", 2), ("V06", 1), ("V10", 14)):
        v = VILLAGE[key]
        for _ in range(n):
            lonlat = ("", "")
            if k == 5:  # one with its own point, 400 m east of 东岭村
                lon, lat = county.lonlat(20900, 0)
                lonlat = (str(lon), str(lat))
            idn = make_id(date(1970, 1, 1 + k), 2 * k + 1, region=county.DISTRICT_CODE)
            person = [f"加{k}", "男", idn, f"1970-01-{1 + k:02d}", "精神残疾", "二级"]
            place = [v.town, v.name, v.code, f"示例县{v.name}{300 + k}号", f"1380000{k:04d}"]
            flags = ["否", "否", "", "否", "否", "否", "是", ""]  # 服药监护 = 是
            rows.append(",".join([*person, *place, *flags, *lonlat]))
            k += 1
    return "\n".join(rows) + "\n"


def setup_county(root: Path, cli: Cli) -> None:
    """The example county plus the residents and lead of this module, in a fresh store."""
    files = make_county(root / "county")
    office = "{:.7f},{:.7f}".format(*office_lonlat())
    cli(
        "init",
        "--district", county.DISTRICT_CODE,
        "--units", str(files.units),
        "--parents", ",".join(county.PARENTS),
        "--office", office,
        "--office-name", county.OFFICE_NAME,
        "--json",
    )  # fmt: skip
    for kind in ("villages", "facilities", "residents", "devices", "leads"):
        cli("import", kind, str(getattr(files, kind)), "--json")
    cli("network", "build", str(files.roads), "--json")
    extra = root / "extra_residents.csv"
    header = files.residents.read_text(encoding="utf-8").splitlines()[0]
    extra.write_text(_extra_residents(header), encoding="utf-8")
    cli("import", "residents", str(extra), "--json")
    v9 = VILLAGE["V09"]
    leads = root / "extra_leads.csv"
    leads.write_text(
        files.leads.read_text(encoding="utf-8").splitlines()[0]
        + f"\n钱七,男,{v9.town},{v9.name},{v9.code},示例县孤岛村1号,13900001111,"
        "肢体残疾,村社排查,2026-10-01,\n",
        encoding="utf-8",
    )
    cli("import", "leads", str(leads), "--json")


@pytest.fixture
def district(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Cli, Path]]:
    cli = Cli(f"sqlite:///{tmp_path / 'golden.db'}", capsys)
    setup_county(tmp_path, cli)
    yield cli, tmp_path
    monkeypatch.delenv("COVERPLAN_CONFIG", raising=False)
    reset_settings()


def _same_text(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), path.name


def _same_bytes(golden: Path, written: Path) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(written.read_bytes())
    if written.suffix != ".xlsx":
        assert written.read_bytes() == golden.read_bytes(), written.name
        return
    with zipfile.ZipFile(written) as new, zipfile.ZipFile(golden) as old:
        assert new.namelist() == old.namelist(), written.name
        for part in new.namelist():
            if part != "docProps/core.xml":  # creation and modification times
                assert new.read(part) == old.read(part), (written.name, part)


def _tree(root: Path) -> list[str]:
    """Every file under ``root``, as paths relative to it (the teams' folders included)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _year_json(db: str) -> str:
    store = Store(db)
    try:
        options = YearOptions(year=2027, today=date(2026, 12, 1))
        cal = outreach_year(store, config=load_config(), options=options)
        return dumps(cal.to_json()) + "\n"
    finally:
        store.dispose()


@pytest.mark.slow
def test_outreach_outputs_match_the_golden_files(
    district: tuple[Cli, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, root = district
    _same_text(GOLDEN / "year_2027.json", _year_json(cli.db))
    for name, args in MONTHS.items():
        if name == "c":
            toml = root / "c.toml"
            toml.write_text(CONFIG_C, encoding="utf-8")
            monkeypatch.setenv("COVERPLAN_CONFIG", str(toml))
            reset_settings()
        out = root / f"sheets_{name}"
        text = cli("outreach", "month", *args, "--seconds", SECONDS, "--out", str(out), "--json")
        _same_text(GOLDEN / f"month_{name}.json", text.replace(str(out), "<OUT>"))
        doc = json.loads(text)
        assert doc["files"][0] == str(out)  # the directory, then every file written
        if name in SHEETS:
            written = _tree(out)
            if not UPDATE:
                assert written == _tree(GOLDEN / f"sheets_{name}")
            for file in written:
                _same_bytes(GOLDEN / f"sheets_{name}" / file, out / file)
        if name == "b":
            text = cli("outreach", "month", *args, "--seconds", SECONDS)
            _same_text(GOLDEN / "month_b.txt", text)


@pytest.mark.parametrize("name", sorted(MONTHS))
def test_month_plan_json_round_trips(name: str) -> None:
    doc = json.loads((GOLDEN / f"month_{name}.json").read_text(encoding="utf-8"))
    doc.pop("files")
    plan = MonthPlan.from_json(doc)
    assert plan.to_json() == doc
    assert dumps(plan.to_json()) == dumps(doc)  # same key order and value types


@pytest.mark.parametrize("name", SHEETS)
def test_sheets_written_from_a_plan_json_match_the_golden_files(name: str, tmp_path: Path) -> None:
    """The same files from ``plan.json``, except the teams' HTML and XLSX sheets: the
    JSON has no full phones and no village outlines (they show masked phones and a
    map without outlines)."""
    golden = GOLDEN / f"sheets_{name}"
    plan = MonthPlan.from_json(json.loads((golden / "plan.json").read_text(encoding="utf-8")))
    out = tmp_path / "out"
    files = write_route_sheets(plan, out)
    assert sorted(p.relative_to(out).as_posix() for p in files.paths) == _tree(golden)
    for path in files.paths:
        if path not in (*files.html, *files.xlsx):
            _same_bytes(golden / path.relative_to(out), path)
    for (_, day), path in zip(plan.team_days, files.html, strict=True):
        new = re.findall(r'<td class="tel">([^<]*)</td>', path.read_text(encoding="utf-8"))
        old = (golden / path.relative_to(out)).read_text(encoding="utf-8")
        full = re.findall(r'<td class="tel">([^<]*)</td>', old)
        assert new == [s.person.masked_phone for s in day.stops]
        assert len(full) == len(new) and all("*" not in p for p in full)
