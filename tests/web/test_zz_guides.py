"""The user guides (docs/guide-*.md) show screenshots that this test run produced.

Collected last among the browser tests (the name sorts last) and, under
``make test`` (``-n 2``), run on the same pytest-xdist worker after every test that
saves a screenshot (``pytest_xdist_make_scheduler`` in ``tests/conftest.py``): every
image a guide links must be saved by a test, and, when that test is part of this
run, exist under ``out/screenshots/`` and be written after this session's collection.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SCREENSHOTS_ORDERED
from tests.test_docs import GUIDES, ROOT, image_links
from tests.web.conftest import SCREENSHOTS, collected_at

_SAVES = re.compile(r"""(?:\.shot\(\s*f?["']|SCREENSHOTS\s*/\s*["'])([\w{}\-]+?)(?:\.png)?["']""")


def _saved_by() -> dict[str, Path]:
    """Screenshot name (or f-string pattern) → the test module that saves it."""
    found: dict[str, Path] = {}
    for module in [
        *ROOT.glob("tests/web/test_*.py"),
        ROOT / "tests/planner/outreach/test_print.py",
    ]:
        for name in _SAVES.findall(module.read_text(encoding="utf-8")):
            found[name] = module
    return found


def _module_of(name: str, saved: dict[str, Path]) -> Path | None:
    for pattern, module in saved.items():
        if re.fullmatch(re.sub(r"\\\{\w+\\\}", r"[\\w-]+", re.escape(pattern)), name):
            return module
    return None


def test_guides_show_screenshots_of_this_run(request: pytest.FixtureRequest) -> None:
    saved = _saved_by()
    assert "planner-dashboard" in saved and "route_sheet_17_stops" in saved, saved
    running = {item.path for item in request.session.items}
    workerinput = getattr(request.config, "workerinput", None)
    ordered = workerinput is None or bool(workerinput.get(SCREENSHOTS_ORDERED))
    checked = 0
    for guide in GUIDES:
        images = image_links(guide)
        assert images, f"{guide.name} shows no screenshot"
        for image in images:
            assert image.parent == SCREENSHOTS, f"{guide.name}: {image} is not a test screenshot"
            module = _module_of(image.stem, saved)
            assert module is not None, f"{guide.name}: no test saves {image.name}"
            if module not in running:
                continue  # its test is not part of this run
            assert image.is_file(), f"{guide.name}: {image.name} was not saved by {module.name}"
            if ordered:
                assert image.stat().st_mtime >= request.config.stash[collected_at], (
                    f"{guide.name}: {image.name} is older than this test run "
                    f"(did {module.name} fail or stop saving it?)"
                )
            checked += 1
    if not checked:
        pytest.skip("截图由浏览器测试生成：请与 tests/web 一起运行（make test）")
    if not ordered:
        pytest.skip("this --dist mode may run the screenshot tests after this check: use -n N")
