"""Takes the README's screenshots (docs/screenshots/*.png) of the search page on Reuters-21578, in
Debian's headless Chromium, the way tests/test_web_browser.py takes them of its small corpus.

Run it after a change to the page's look, with ../shared/data beside the repository:
    python docs/screenshots/make.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

import searchlib  # noqa: E402
from tests.conftest import SHARED_DATA  # noqa: E402
from tests.test_web_browser import CHROMIUM, CHROMIUM_FLAGS, Server, screenshots  # noqa: E402

REUTERS = SHARED_DATA / "reuters21578.jsonl.gz"


def main() -> None:
    if not REUTERS.exists():
        sys.exit(f"error: {REUTERS} is missing: the screenshots are of the Reuters corpus in ../shared/data")
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        index = Path(scratch) / "reuters"
        searchlib.build(REUTERS, index, jobs=2)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        with Server(index, title="Reuters-21578") as reuters:
            for path in screenshots(browser, reuters, HERE, "grain exports", "reuters-11316", "Soviet Union"):
                print(f"{path}: {path.stat().st_size:,} bytes")
        browser.close()


if __name__ == "__main__":
    main()
