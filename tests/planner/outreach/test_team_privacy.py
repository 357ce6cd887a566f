"""Privacy of ``coverplan outreach month --out``: each team's folder holds only the
persons of its own plan, with full phones (they call ahead) and masked IDs; the
planner's files (``plan.json``, ``index.html``, ``--json``) mask phones and IDs; no
URL carries a name.

Every file of a team's folder is scanned (XLSX: every XML part) for the names,
ID numbers (full and masked) and phones (full and masked) of every other person
in the store (residents and leads).
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from planner.domain.privacy import mask_id, mask_phone
from planner.settings import load_config
from planner.store.core import Store
from planner.store.frames import residents_frame, villages_frame
from planner.store.outreach import lead_contacts
from tests.planner.outreach.test_golden import MONTHS, Cli, setup_county


def _text(path: Path) -> str:
    """Everything a file says (an XLSX: all its XML parts), entities decoded."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            raw = "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
    else:
        raw = path.read_text(encoding="utf-8")
    return html.unescape(raw)


def _people(db: str) -> list[dict[str, Any]]:
    """Every resident and lead of the store: key (R…/L…), name, ID, phone."""
    store = Store(db)
    try:
        res = residents_frame(store, personal=True)
        codes = list(villages_frame(store)["code"])
        leads = lead_contacts(store, villages=codes)
    finally:
        store.dispose()
    out = [
        {"key": f"R{rid}", "name": r["name"], "id": r["id_number"], "phone": r["phone"]}
        for rid, r in res.iterrows()
    ]
    out += [
        {"key": f"L{lid}", "name": r["name"], "id": None, "phone": r["phone"]}
        for lid, r in leads.iterrows()
    ]
    return out


def _secrets(p: dict[str, Any]) -> dict[str, str]:
    pv = load_config().privacy
    out = {"name": p["name"], "id": p["id"], "masked_id": mask_id(p["id"], privacy=pv)}
    out |= {"phone": p["phone"], "masked_phone": mask_phone(p["phone"], privacy=pv)}
    return {k: str(v) for k, v in out.items() if v}


def _found(secret: str, text: str) -> bool:
    """Whether ``secret`` stands alone in ``text`` (not inside a longer word or number)."""
    return re.search(rf"(?<![\w*]){re.escape(secret)}(?![\w*])", text) is not None


@pytest.fixture
def month_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[Path, dict[str, Any], str, list[dict[str, Any]]]]:
    cli = Cli(f"sqlite:///{tmp_path / 'county.db'}", capsys)
    setup_county(tmp_path, cli)
    out = tmp_path / "month"
    stdout = cli("outreach", "month", *MONTHS["b"], "--seconds", "1", "--out", str(out), "--json")
    yield out, json.loads(stdout), stdout, _people(cli.db)


def _keys(team: dict[str, Any]) -> set[str]:
    return {
        f"R{s['resident_id']}" if s["resident_id"] is not None else f"L{s['lead_id']}"
        for d in team["days"]
        for s in d["stops"]
    }


@pytest.mark.slow
def test_a_team_folder_holds_only_its_own_persons(
    month_out: tuple[Path, dict[str, Any], str, list[dict[str, Any]]],
) -> None:
    out, doc, _, people = month_out
    by_key = {p["key"]: p for p in people}
    for team in doc["teams"]:
        folder = out / team["team"]
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        assert {p.suffix for p in files} == {".html", ".xlsx", ".gpx"}
        assert "plan.json" not in {p.name for p in files}
        mine = _keys(team)
        assert mine, "the test month should give every team someone to visit"
        own = [_secrets(by_key[k]) for k in mine]
        own_values = {v for s in own for v in s.values()}
        texts = {p.name: _text(p) for p in files}
        sheets = "\n".join(t for n, t in texts.items() if n.endswith((".html", ".xlsx")))
        for s in own:  # the team's own persons: full phones on its sheets, IDs masked
            if "phone" in s:
                assert _found(s["phone"], sheets), s["name"]
            if "id" in s:
                assert all(s["id"] not in t for t in texts.values())
        leaks = [
            (name, kind, value)
            for p in people
            if p["key"] not in mine
            for kind, value in _secrets(p).items()
            if value not in own_values
            for name, text in texts.items()
            if _found(value, text)
        ]
        assert leaks == []


@pytest.mark.slow
def test_planner_files_mask_phones_and_urls_carry_no_names(
    month_out: tuple[Path, dict[str, Any], str, list[dict[str, Any]]],
) -> None:
    out, doc, stdout, people = month_out
    top = [out / "plan.json", out / "index.html"]
    assert all(p.exists() for p in top)
    planned = {k for team in doc["teams"] for k in _keys(team)}
    assert planned
    for p in people:
        s = _secrets(p)
        for value in (s.get("phone"), s.get("id")):
            if value:
                assert not _found(value, stdout)
                assert not any(_found(value, _text(f)) for f in top)
    everything = [f for f in out.rglob("*") if f.is_file()]
    names = {p["name"] for p in people if p["name"]}
    for f in everything:
        for url in re.findall(r"""https?://[^\s"'<>]+""", _text(f)):
            decoded = unquote(url)
            assert not [n for n in names if n in decoded], url
