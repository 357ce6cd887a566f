"""The user guides (docs/guide-*.md) show screenshots that this test run produced.

Collected last among the browser tests (the name sorts last) and, under
``make test``, run on the same pytest-xdist worker after every test that saves a
screenshot (``--dist loadgroup``, see ``pytest_collection_modifyitems`` in
``tests/web/conftest.py``): every image a guide links must exist under
``out/screenshots/`` and be written after this session's collection.
"""

from __future__ import annotations

import pytest

from tests.test_docs import GUIDES, image_links
from tests.web.conftest import SCREENSHOTS, screenshots_collected


def test_guides_show_screenshots_of_this_run(request: pytest.FixtureRequest) -> None:
    collected_at, producers = request.config.stash[screenshots_collected]
    if not producers:
        pytest.skip("截图由浏览器测试生成：请与 tests/web 一起运行（make test）")
    dist = request.config.getoption("dist", "no")
    ordered = dist in ("no", "loadgroup")
    for guide in GUIDES:
        images = image_links(guide)
        assert images, f"{guide.name} shows no screenshot"
        for image in images:
            assert image.parent == SCREENSHOTS, f"{guide.name}: {image} is not a test screenshot"
            assert image.is_file(), f"{guide.name}: {image.name} was not saved by the tests"
            if ordered:
                assert image.stat().st_mtime >= collected_at, (
                    f"{guide.name}: {image.name} is older than this test run "
                    "(did the test that saves it fail or stop saving it?)"
                )
    if not ordered:
        pytest.skip(f"--dist {dist}: the screenshot tests may run after this check; use loadgroup")
