"""Characterisation of ``site``, ``scenarios`` and ``retrofit`` output (golden files).

The example district of :mod:`tests.county` (its home in 河东社区 cut to 4 places so
that capacity and upgrades matter) is loaded through the CLI, then the siting,
scenario and retrofit commands run with ``--json``, in text mode and with
``--out``. Their stdout and files are compared with the golden copies under
``golden/site/``, written by the code before the application-layer refactoring:
the JSON documents, saved scenarios, text summaries and CSV/GeoJSON files are
contracts and must not change. Only what changes from run to run is masked:
solve times, save times, the day of the run and the temporary directory.

``COVERPLAN_UPDATE_GOLDEN=1`` rewrites the golden files (only when a contract is
meant to change, and say so in the commit).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from api.cli import main
from tests import county
from tests.county import VILLAGE, make_county

GOLDEN = Path(__file__).parent / "golden" / "site"
UPDATE = os.environ.get("COVERPLAN_UPDATE_GOLDEN") == "1"
MASK = "<varies>"
VOLATILE_KEYS = {"seconds", "created_at", "updated_at", "today"}
_SECONDS_TEXT = re.compile(r"\d+(\.\d+)? 秒")
_TIME_TEXT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
_DATE_TEXT = re.compile(r"\d{4}-\d\d-\d\d")


class Runner:
    def __init__(self, db: str, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db, self.tmp, self.capsys = db, tmp, capsys

    def call(self, *args: str) -> str:
        self.capsys.readouterr()
        code = main(["--db", self.db, *args])
        out, err = self.capsys.readouterr()
        assert code == 0, err
        return out.replace(str(self.tmp), "<tmp>")

    def json(self, *args: str) -> Any:
        return json.loads(self.call(*args, "--json"))


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("key") in ("seconds", "today"):  # a row of a comparison
            return {k: v if k in ("key", "label") else MASK for k, v in value.items()}
        return {k: MASK if k in VOLATILE_KEYS else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def _text(text: str) -> str:
    lines = [
        _DATE_TEXT.sub(MASK, ln) if ln.strip().startswith("today") else ln
        for ln in text.splitlines()
        if "求解秒数" not in ln
    ]
    return _TIME_TEXT.sub(MASK, _SECONDS_TEXT.sub(f"{MASK} 秒", "\n".join(lines)))


def _check(name: str, content: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return
    assert path.is_file(), f"missing golden file {path}: run with COVERPLAN_UPDATE_GOLDEN=1"
    assert content == path.read_text(encoding="utf-8"), f"{name} differs from its golden copy"


def _check_json(name: str, doc: Any) -> None:
    _check(name, json.dumps(_mask(doc), ensure_ascii=False, indent=2) + "\n")


def _check_file(name: str, path: Path) -> None:
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        sheets = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}
        wb.close()
        for rows in sheets.values():  # the seconds row of a comparison
            for row in rows:
                if row and row[0] in ("求解秒数", "today"):
                    row[1:] = [MASK] * (len(row) - 1)
        _check_json(name, sheets)
        return
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") or path.suffix != ".csv"  # BOM for Excel
    _check(name, _text(raw.decode("utf-8-sig")) + "\n")


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Runner:
    files = make_county(tmp_path / "county")
    text = files.facilities.read_text(encoding="utf-8")
    for old, new in ((",20,10,二星级,", ",4,4,二星级,"), (",20,8,一星级,", ",6,5,一星级,")):
        assert old in text  # the homes: 4 and 6 places instead of 20 each
        text = text.replace(old, new, 1)
    files.facilities.write_text(text, encoding="utf-8")
    r = Runner(f"sqlite:///{tmp_path / 'store.db'}", tmp_path, capsys)
    r.json(
        "init", "--district", county.DISTRICT_CODE, "--units", str(files.units),
        "--parents", ",".join(county.PARENTS),
    )  # fmt: skip
    for kind, path in (
        ("villages", files.villages),
        ("facilities", files.facilities),
        ("residents", files.residents),
    ):
        assert r.json("import", kind, str(path))["rejected"] == 0
    r.json("network", "build", str(files.roads))
    return r


def test_site_scenarios_and_retrofit_outputs_are_unchanged(run: Runner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    a = run.json(
        "site", "--type", "home", "--new", "1", "--scenario", "一处", "--out", str(out / "a")
    )
    assert a["selected"]  # a real proposal, not an error document
    _check_json("site_mclp.json", a)
    for name in ("siting_selected.csv", "siting_towns.csv", "siting_sites.geojson", "siting.xlsx"):
        _check_file(f"site_mclp_{name}", out / "a" / name)
    _check_json(
        "site_upgrade.json",
        run.json(
            "site", "--type", "home", "--new", "2", "--budget", "1000000", "--upgrade",
            "--scenario", "升级",
        ),
    )  # fmt: skip
    _check_json(
        "site_pmedian.json",
        run.json(
            "site", "--type", "home", "--objective", "pmedian", "--new", "1", "--uncapacitated"
        ),
    )
    _check_json(
        "site_lscp.json",
        run.json(
            "site", "--type", "home", "--objective", "lscp", "--target", "0.8", "--no-town-rule"
        ),
    )
    cand = tmp_path / "cand.csv"
    lon, lat = VILLAGE["V10"].lonlat
    cand.write_text(
        "名称,村社,经度,纬度,建设费用,容量\n"
        f"中岭地块,中岭村,,,250000,\n东岭地块,,{lon:.7f},{lat:.7f},,8\n松坑地块,松坑村,,,,\n",
        encoding="utf-8",
    )
    _check_json(
        "site_candidates.json",
        run.json(
            "site", "--type", "psych_station", "--new", "1", "--candidates", str(cand),
            "--exclude", "松坑地块", "--no-town-rule",
        ),
    )  # fmt: skip
    _check(
        "site_text.txt",
        _text(
            run.call(
                "site", "--type", "home", "--new", "1", "--upgrade", "--max-upgrades", "1",
                "--budget", "900000",
            )
        ),
    )  # fmt: skip

    _check_json("scenarios_list.json", run.json("scenarios", "list"))
    _check("scenarios_list.txt", _text(run.call("scenarios", "list")))
    _check_json("scenarios_show.json", run.json("scenarios", "show", "一处"))
    _check("scenarios_show.txt", _text(run.call("scenarios", "show", "升级")))
    cmp_csv = out / "cmp.csv"
    _check_json(
        "scenarios_compare.json",
        run.json("scenarios", "compare", "一处", "升级", "--out", str(cmp_csv)),
    )
    _check_file("scenarios_compare.csv", cmp_csv)
    _check_file("scenarios_compare_towns.csv", out / "cmp_towns.csv")
    text = run.call("scenarios", "compare", "升级", "一处", "--out", str(out / "cmp.xlsx"))
    _check("scenarios_compare.txt", _text(text))
    _check_file("scenarios_compare.xlsx", out / "cmp.xlsx")
    _check_json("scenarios_delete.json", run.json("scenarios", "delete", "升级"))

    plan = run.json("retrofit", "--year", "2027", "--quota", "3", "--out", str(out / "r"))
    _check_json("retrofit.json", plan)
    for name in ("retrofit_households.csv", "retrofit_communities.csv", "retrofit.xlsx"):
        _check_file(name, out / "r" / name)
    _check(
        "retrofit.txt",
        _text(run.call("retrofit", "--year", "2027", "--budget", "20000", "--top", "2")),
    )
