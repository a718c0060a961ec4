"""One Chromium per widget test module (pages come from `tests.conftest.widget_page`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CHROMIUM_ARGS, require_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright import sync_api
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
