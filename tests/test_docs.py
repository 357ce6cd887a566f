"""The documentation in docs/: the guides per role exist, every relative link resolves,
the import column reference and the indicator page are complete against the code.

That the guides' screenshots come from this test run is checked after the browser
tests, in ``tests/web/test_zz_guides.py``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from planner.domain.indicator_figures import IndicatorInputs
from planner.domain.indicators import indicators
from planner.settings import load_config
from tests.docs_tables import blocks

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCREENSHOTS = ROOT / "out" / "screenshots"
ROLES = ("planner", "leader", "outreach", "admin")
GUIDES = tuple(DOCS / f"guide-{role}.md" for role in ROLES)
_LINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def links(doc: Path) -> list[tuple[bool, str]]:
    """Every Markdown link of ``doc`` outside code blocks: (is an image, target)."""
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
    return [(bang == "!", target) for bang, target in _LINK.findall(text)]


def image_links(doc: Path) -> list[Path]:
    """The images ``doc`` shows, as resolved paths."""
    return [(doc.parent / t).resolve() for image, t in links(doc) if image]


def test_a_guide_per_role_with_screenshots() -> None:
    for guide in GUIDES:
        assert guide.is_file(), f"missing {guide.relative_to(ROOT)}"
        images = image_links(guide)
        assert images, f"{guide.name} shows no screenshot"
        assert all(p.parent == SCREENSHOTS for p in images), guide.name


def test_every_relative_link_resolves() -> None:
    docs = [*DOCS.rglob("*.md"), ROOT / "README.md"]
    assert len(docs) >= len(GUIDES) + 8
    for doc in docs:
        for image, target in links(doc):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            if image and path.parent == SCREENSHOTS:
                continue  # written by the browser tests (tests/web/test_zz_guides.py)
            assert path.exists(), f"{doc.relative_to(ROOT)}: broken link {target}"


def test_readme_links_the_docs() -> None:
    readme = {t for _, t in links(ROOT / "README.md")}
    for doc in DOCS.rglob("*.md"):
        assert doc.relative_to(ROOT).as_posix() in readme, f"README does not link {doc.name}"


def test_import_column_reference_is_generated_from_the_code() -> None:
    """Every column name, accepted spelling and route-sheet word the code knows is listed."""
    text = (DOCS / "import-columns.md").read_text(encoding="utf-8")
    for name, block in blocks().items():
        assert block in text, (
            f"docs/import-columns.md: the {name} table is stale; "
            "paste it again from python -m tests.docs_tables"
        )


def test_indicator_page_names_every_indicator_of_the_code() -> None:
    """Every key and name of the plan's table and the policy checks, and each row's
    numerator and denominator as the code states them."""
    empty = pd.DataFrame(
        {
            c: pd.Series([], dtype=object)
            for c in ("town_code", "category", "low_income", "employment")
        }
        | {
            "birth_date": pd.Series([], dtype="datetime64[ns]"),
            "grade": pd.Series([], dtype=float),
            "retrofit_year": pd.Series([], dtype=float),
        }
    )
    table = indicators(
        IndicatorInputs(
            residents=empty,
            towns=pd.DataFrame({"town_code": ["330999001"], "town_name": ["清河街道"]}),
            facilities=pd.DataFrame({"type": [], "town_code": []}, dtype=object),
            today=date(2027, 1, 1),
        ),
        config=load_config(),
    )
    text = (DOCS / "indicators.md").read_text(encoding="utf-8")
    rows = (*table.indicators, *table.policy_checks)
    assert len(table.indicators) == 14
    for row in rows:
        assert f"`{row.key}`" in text, f"docs/indicators.md lacks the key {row.key}"
        assert row.name in text, f"docs/indicators.md lacks {row.name}"
        assert row.target.text in text, f"docs/indicators.md lacks the target of {row.key}"
        for part in (row.definition.numerator, row.definition.denominator):
            if part and row.key != "income_growth":
                assert part in text, f"docs/indicators.md: {row.key} lacks 「{part}」"
