"""The search page in a real browser (issue 19): headless Chromium, driven by Playwright, used the
way a reader would: type a query, see highlighted hits, choose a facet and a timeline bar, open an
article, go back, turn pages, use the keyboard, read it on a phone. axe-core (vendored under
tests/vendor/, MPL-2.0) checks labels, contrast and structure on every screen.

These tests need Debian's ``chromium`` (``apt-get install chromium``; .ci/run installs it) and skip,
saying so, only where it is missing. Screenshots of the main screens are taken into the test's
temporary folder; docs/screenshots/make.py takes the README's from the Reuters index.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

import searchlib
from searchlib.web.app import create_app
from searchlib.web.live import LiveIndex

from .test_web import HOSTILE, WIRE, write_corpus

CHROMIUM = Path(os.environ.get("SEARCHLIB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium) to run the browser tests",
)


class Server:
    """``searchlib serve``'s application under uvicorn, in a thread, on a free port of 127.0.0.1."""

    def __init__(self, index: Path, title: str | None = None) -> None:
        self.live = LiveIndex.open(index)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        app = create_app(self.live, title=title, allowed_hosts=["127.0.0.1", "localhost"])
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()
        self.live.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("browser")
    searchlib.build(write_corpus(folder / "web.jsonl", HOSTILE + WIRE), folder / "index")
    with Server(folder / "index", title="Test archive") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh page that fails the test on any script error or any console error (a blocked
    script, a failed request)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    opened.on("console", lambda message: problems.append(f"console: {message.text}") if message.type == "error" else None)
    opened.on("response", lambda response: problems.append(f"{response.status} {response.url}") if response.status >= 400 else None)
    opened.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield opened
    context.close()
    assert not problems


def hits(page: Page) -> list[str]:
    return page.locator("#results .hit h2").all_inner_texts()


def test_typing_shows_highlighted_hits_and_puts_the_search_in_the_url(page: Page) -> None:
    page.goto("/")
    page.locator("#q").press_sequentially("whea", delay=30)
    page.locator("#q").press("t")
    expect(page.locator("#summary")).to_contain_text("4 articles match wheat")
    expect(page.locator("#results .hit").first.locator("mark").first).to_have_text(re.compile("wheat", re.I))
    assert page.url.endswith("/?q=wheat")
    expect(page.locator(".facets")).to_contain_text("Egypt")
    page.locator("#q").fill("wheat egypt")
    page.locator("#q").press("Enter")
    expect(page.locator("#summary")).to_contain_text("2 articles match wheat egypt")
    page.go_back()  # typing made one history entry, the search another
    expect(page.locator("#summary")).to_contain_text("4 articles match wheat")
    expect(page.locator("#q")).to_have_value("wheat")


def test_a_facet_adds_a_chip_and_the_chip_removes_it(page: Page) -> None:
    page.goto("/?q=wheat")
    page.locator(".facets a", has_text="Egypt").click()
    expect(page.locator(".chips")).to_contain_text("Egypt")
    expect(page.locator("#summary")).to_contain_text("2 articles match wheat")
    assert "place=Egypt" in page.url
    page.locator(".chip", has_text="Egypt").click()
    expect(page.locator(".chips")).to_have_count(0)
    expect(page.locator("#summary")).to_contain_text("4 articles match wheat")
    page.go_back()
    expect(page.locator(".chips")).to_contain_text("Egypt")


def test_a_timeline_bar_narrows_the_dates(page: Page) -> None:
    page.goto("/?q=wheat")
    expect(page.locator(".timeline .column")).to_have_count(3)  # February to April 1987
    page.locator(".timeline a.column").first.click()
    expect(page.locator("#summary")).to_contain_text("2 articles match wheat")
    assert "since=1987-02&until=1987-02" in page.url
    expect(page.locator("input[name=since]")).to_have_value("1987-02")
    expect(page.locator(".timeline figcaption")).to_contain_text("by day")
    expect(page.locator(".chips")).to_contain_text("From 1987-02")


def test_an_article_opens_with_its_words_marked_and_back_returns_to_the_results(page: Page) -> None:
    page.goto("/")
    page.locator("#q").fill("egypt")
    expect(page.locator("#summary")).to_contain_text("articles match egypt")
    page.locator(".hit-link").first.click()
    expect(page.locator("h1#article-title")).to_have_text("Wheat exports to Egypt rise")
    expect(page.locator(".body mark").first).to_have_text("Egypt")
    expect(page.locator(".article-aside")).to_contain_text("Clayton Yeutter")
    expect(page.locator(".article-aside")).to_contain_text("Other copies of this story")
    page.locator(".tag-person", has_text="Clayton Yeutter").click()
    expect(page.locator("#q")).to_have_value('person:"Clayton Yeutter"')
    page.go_back()
    page.go_back()
    expect(page.locator("#summary")).to_contain_text("articles match egypt")
    expect(page.locator("#q")).to_have_value("egypt")


def test_similar_copies_can_be_opened(page: Page) -> None:
    page.goto("/?q=egypt")
    page.locator(".similar summary").first.click()
    page.locator(".similar a").first.click()
    expect(page.locator("h1#article-title")).to_have_text("Wheat exports to Egypt rise")
    assert "/articles/wire-2" in page.url


def test_pages_of_results(page: Page) -> None:
    page.goto("/?q=wheat&limit=1")
    first = hits(page)
    page.locator(".pager a[rel=next]").click()
    expect(page.locator(".pager [aria-current=page]")).to_have_text("2")
    assert hits(page) != first and "page=2" in page.url
    page.go_back()
    expect(page.locator(".pager [aria-current=page]")).to_have_text("1")
    assert hits(page) == first


def test_the_keyboard_reaches_the_box_and_every_hit(page: Page) -> None:
    page.goto("/?q=wheat")
    page.locator("body").click(position={"x": 5, "y": 600})
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".hit-link").nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".hit-link").nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("h1#article-title")).to_be_visible()


def test_search_works_without_javascript(browser: Browser, server: Server) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=server.url)
    page = context.new_page()
    page.goto("/")
    page.locator("#q").fill("wheat")
    page.locator("button[type=submit]").click()
    expect(page.locator("#summary")).to_contain_text("4 articles match wheat")
    page.locator(".facets a", has_text="Egypt").click()
    expect(page.locator("#summary")).to_contain_text("2 articles match wheat")
    page.locator("#q").fill("wheat exports")
    page.locator("button[type=submit]").click()  # the filter stays, held by the form
    assert "place=Egypt" in page.url
    context.close()


def test_hostile_articles_run_nothing(page: Page) -> None:
    page.goto("/?q=harbour")
    expect(page.locator("#results .hit")).to_have_count(4)
    expect(page.locator("#results")).to_contain_text('<script>alert("title")</script>')
    assert page.locator("#results script, #results img, #results [onerror]").count() == 0
    assert page.locator("a[href^='javascript' i], a[href^='data' i]").count() == 0
    page.goto("/articles/hostile-1?q=harbour")
    expect(page.locator(".body")).to_contain_text('<img src=x onerror=alert(1)> said "yes" & "no".')
    expect(page.locator(".meta")).to_contain_text("javascript:alert(document.cookie)")
    assert page.locator("main a[href^='javascript' i]").count() == 0
    # the page's own handlers, dialogs and console are checked by the fixture: nothing ran


def test_readable_at_375_pixels(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800}, base_url=server.url, is_mobile=True)
    page = context.new_page()
    for path in ("/", "/?q=harbour", "/articles/hostile-1?q=harbour", "/help"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)") >= 14
    context.close()


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("path", ["/", "/?q=wheat", "/?q=wheat&place=Egypt&since=1987-02", "/?q=harbour&limit=1&page=2",
                                  "/articles/wire-1?q=wheat", "/help", "/?q=wheat&limit=0", "/nothing"])
def test_every_screen_passes_axe(browser: Browser, server: Server, path: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=server.url, bypass_csp=True)
    page = context.new_page()
    page.goto(path)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
        return result.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.html).slice(0, 3)}));
    }""")
    context.close()
    assert found == []


def screenshots(browser: Browser, server: Server, folder: Path, query: str, article: str, facet: str) -> list[Path]:
    """The results with facets and timeline, an article, and the results on a phone."""
    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, base_url=server.url, device_scale_factor=1)
    page = context.new_page()
    page.goto("/")
    page.locator("#q").press_sequentially(query, delay=20)
    expect(page.locator("#summary")).to_contain_text(f"match {query}")
    page.locator(".facets a", has_text=facet).first.click()
    expect(page.locator(".chips")).to_contain_text(facet)
    page.mouse.move(0, 0)
    taken.append(folder / "results.png")
    page.screenshot(path=str(taken[-1]))
    page.goto(f"/articles/{article}?q={query}")
    taken.append(folder / "article.png")
    page.screenshot(path=str(taken[-1]))
    context.close()
    phone = browser.new_context(viewport={"width": 375, "height": 812}, base_url=server.url, is_mobile=True,
                                device_scale_factor=2)
    page = phone.new_page()
    page.goto(f"/?q={query}")
    taken.append(folder / "phone.png")
    page.screenshot(path=str(taken[-1]))
    phone.close()
    return taken


def test_screenshots_of_the_main_screens(browser: Browser, server: Server, tmp_path: Path) -> None:
    for path in screenshots(browser, server, tmp_path, "wheat", "wire-1", "Egypt"):
        assert path.stat().st_size > 10_000
