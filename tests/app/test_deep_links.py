"""A deep link (``/what-if``) opened first on a freshly started server shows that page.

Streamlit serves a fresh server's first run from the ``pages/`` folder's file names until
``app.py`` has called ``st.navigation`` once; a page whose file name differs from its URL
then got the "Page not found" notice. Each page is opened as the very first visit of its
own new server (demo mode, admin role), in headless Chromium with every non-local request
blocked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    ROOT,
    chromium_path,
    close_quietly,
    is_local,
    launch_chromium,
    start_server,
)

SHOTS = ROOT / "artifacts" / "screenshots"


def page_urls() -> list[tuple[str, str]]:
    """(url path, title) of every page the admin role opens, from the app's own table."""
    from coverage.ops import accounts
    from ui.auth import PAGE_FILES

    return [(name.replace("_", "-"), PAGE_FILES[name][2]) for name in accounts.pages_for("admin")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Debian's chromium for the browser tests")
        pytest.skip("no chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p, exe)
        try:
            yield b
        finally:
            close_quietly(b)


def test_every_page_file_is_named_as_its_url() -> None:
    from ui.auth import PAGE_FILES

    for name, (_section, path, _title, _icon) in PAGE_FILES.items():
        assert Path(path).stem == name.replace("_", "-"), path
        assert (ROOT / path).is_file(), path


@pytest.mark.slow
@pytest.mark.parametrize(("url", "title"), page_urls())
def test_first_visit_to_a_deep_link_shows_the_page(browser: Any, tmp_path: Path, url: str,
                                                   title: str) -> None:
    server = start_server(tmp_path, SECCOV_DEMO_FEED="0")
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    try:
        page = context.new_page()
        page.route("**/*", lambda r: r.continue_() if is_local(r.request.url) else r.abort())
        page.goto(f"{server.url}/{url}")
        heading = page.locator("h1").filter(has_text=title).first
        heading.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # any notice would have arrived with the first run
        body = page.inner_text("body")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"deep-link-{url}.png"))
        assert "Page not found" not in body, f"{url}: {body[:400]}\n{server.log()}"
        if url != "live-map":  # the default page may show as the site root
            assert page.url.rstrip("/").endswith(url), page.url
    finally:
        close_quietly(context)
        server.stop()
