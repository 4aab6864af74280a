"""The web page and the HTTP API (``searchlib serve``, issue 19), through Starlette's TestClient:
every route, its bounds and errors, the JSON against what ``search --json`` prints, escaping of
hostile articles, and moving to a new generation without a restart."""

from __future__ import annotations

import asyncio
import builtins
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

import searchlib
from searchlib import Snippet
from searchlib.cli import main, search
from searchlib.web import render
from searchlib.web.app import create_app
from searchlib.web.live import LiveIndex
from searchlib.web.params import MAX_QUERY_CHARS, Search

#: Articles written to attack the page: markup, quotes, ampersands and script links in every
#: field a page shows, and ids that look like paths out of the index.
HOSTILE = [
    {"id": "hostile-1", "title": '<script>alert("title")</script> Harbour & "Docks"',
     "date": "1987-03-02T10:00:00", "url": "javascript:alert(document.cookie)",
     "body": 'The harbour board met. <img src=x onerror=alert(1)> said "yes" & "no".\n\n'
             'Read more at <a href="javascript:alert(2)">this link</a> about the harbour.'},
    {"id": "hostile-2", "title": "Harbour fees rise", "date": "1987-03-20",
     "url": 'https://example.com/fees?a=1&b="2"><script>alert(3)</script>',
     "body": "Harbour fees rose at the port of Rotterdam, the harbour authority said."},
    {"id": "../../etc/passwd", "title": "A harbour id like a path", "date": "1987-04-02",
     "url": "data:text/html,<script>alert(4)</script>", "body": "Nothing but a harbour article with a strange id."},
    {"id": "odd/id with spaces?&#", "title": "Harbour odd id", "date": "1987-05-11",
     "url": " JavaScript:alert(5)", "body": "Another harbour article, its id full of reserved characters."},
]

#: Ordinary wire articles: two copies of one story (folded as similar), names to count as
#: facets, dates over three months for the timeline.
WIRE = [
    {"id": "wire-1", "title": "Wheat exports to Egypt rise", "date": "1987-02-10",
     "body": "Wheat exports from the United States to Egypt rose sharply in February, Clayton Yeutter said in Washington."},
    {"id": "wire-2", "title": "Wheat exports to Egypt rise", "date": "1987-02-11",
     "body": "Wheat exports from the United States to Egypt rose sharply in February, Clayton Yeutter said in Washington. REUTER"},
    {"id": "wire-3", "title": "Soviet wheat purchases", "date": "1987-03-15",
     "body": "The Soviet Union bought more wheat from Canada, traders in Moscow said."},
    {"id": "wire-4", "title": "Japan wheat tender", "date": "1987-04-20",
     "body": "Japan's Food Agency bought wheat from Australia and the United States at its weekly tender."},
    {"id": "wire-5", "title": "Cocoa prices steady", "date": "1987-04-21",
     "body": "Cocoa prices held steady in London as stocks fell, dealers said."},
]


def write_corpus(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def web_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the hostile and the wire articles."""
    folder = tmp_path_factory.mktemp("web")
    corpus = write_corpus(folder / "web.jsonl", HOSTILE + WIRE)
    searchlib.build(corpus, folder / "index")
    return folder / "index"


@pytest.fixture(scope="module")
def live(web_index: Path) -> Iterator[LiveIndex]:
    opened = LiveIndex.open(web_index)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def client(live: LiveIndex) -> Iterator[TestClient]:
    with TestClient(create_app(live, title="Test archive")) as test_client:
        yield test_client


def cli_json(*args: str) -> Any:
    command = search if args[0] != "timeline" else main
    done = CliRunner().invoke(command, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


# The API answers what the command line prints ---------------------------------------------------


@pytest.mark.parametrize("query, options", [
    ("wheat", []),
    ("wheat", ["--facets"]),
    ("wheat exports", ["--any", "--sort", "newest", "--limit", "2", "--page", "2"]),
    ("wheat", ["--place", "Egypt", "--since", "1987-02", "--until", "1987-03"]),
    ("wheat", ["--all", "--explain"]),
    ("wheet", []),
    ('harbour AND', []),
])
def test_api_search_sends_the_json_of_search_json(client: TestClient, web_index: Path, query: str,
                                                 options: list[str]) -> None:
    names = {"--facets": "facets", "--any": "any", "--sort": "sort", "--limit": "limit", "--page": "page",
             "--place": "place", "--since": "since", "--until": "until", "--all": "all", "--explain": "explain"}
    params: list[tuple[str, str]] = [("q", query)]
    remaining = list(options)
    while remaining:
        option = remaining.pop(0)
        takes_value = option in ("--sort", "--limit", "--page", "--place", "--since", "--until")
        params.append((names[option], remaining.pop(0) if takes_value else "1"))
    answer = client.get("/api/search", params=params)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == cli_json(query, "--index", str(web_index), "--json", *options)


def test_api_search_pages_facets_notices_and_suggestion(client: TestClient) -> None:
    document = client.get("/api/search", params={"q": "wheat", "limit": 1, "page": 2, "facets": "true"}).json()
    assert (document["total"], document["stories"], document["pages"], document["page"], len(document["hits"])) == (4, 3, 3, 2, 1)
    assert {"name": "Egypt", "count": 2} in document["facets"]["place"]
    assert client.get("/api/search", params={"q": "wheet"}).json()["suggestion"] == "wheat"
    assert client.get("/api/search", params={"q": "harbour AND"}).json()["notices"]


def test_api_timeline_sends_the_json_of_timeline_json(client: TestClient, web_index: Path) -> None:
    for by in ("month", "day", "year"):
        answer = client.get("/api/timeline", params={"q": "wheat", "by": by})
        assert answer.json() == cli_json("timeline", "wheat", "--index", str(web_index), "--by", by, "--json")
    assert client.get("/api/timeline", params={"q": "wheat"}).json()["by"] == "month"


def test_api_more_like_sends_the_json_of_search_like(client: TestClient, web_index: Path) -> None:
    answer = client.get("/api/more-like/wire-3", params={"limit": 3})
    assert answer.json() == cli_json("--like", "wire-3", "--limit", "3", "--index", str(web_index), "--json")
    assert answer.json()["query"] == "like:wire-3"


def test_api_article_sends_the_whole_article_and_the_query_words(client: TestClient) -> None:
    article = client.get("/api/articles/wire-1").json()
    assert article["title"] == "Wheat exports to Egypt rise"
    assert article["body"].startswith("Wheat exports from the United States")
    assert article["date"] == "1987-02-10T00:00:00"
    assert article["copies"] == ["wire-2"]
    assert {"name": "Clayton Yeutter", "kind": "person"} in article["entities"]
    assert "body_highlights" not in article
    marked = client.get("/api/articles/wire-1", params={"q": "wheat exports"}).json()
    assert [marked["title"][a:b] for a, b in marked["title_highlights"]] == ["Wheat exports"]
    assert [marked["body"][a:b] for a, b in marked["body_highlights"]] == ["Wheat exports"]


def test_api_status_says_which_generation_is_served(client: TestClient, web_index: Path) -> None:
    status = client.get("/api/status").json()
    assert status["served_generation"] == status["generation"] == (web_index / "CURRENT").read_text().strip()
    assert status["served_articles"] == status["articles"] == len(HOSTILE) + len(WIRE)


def test_openapi_describes_every_api_route(client: TestClient) -> None:
    described = client.get("/api/openapi.json").json()
    assert set(described["paths"]) == {"/api/search", "/api/timeline", "/api/articles/{id}", "/api/more-like/{id}", "/api/status"}


# Bounds and errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("params, parameter, message", [
    ({}, "q", "Give a query: q=words to search for"),
    ({"q": "  "}, "q", "Give a query: q=words to search for"),
    ({"q": "x" * (MAX_QUERY_CHARS + 1)}, "q", "q is 2,001 characters long; the most is 2,000"),
    ({"q": "wheat", "limit": "0"}, "limit", "limit must be from 1 to 100, not 0"),
    ({"q": "wheat", "limit": "101"}, "limit", "limit must be from 1 to 100, not 101"),
    ({"q": "wheat", "limit": "ten"}, "limit", "limit must be a whole number from 1 to 100, not 'ten'"),
    ({"q": "wheat", "page": "0"}, "page", "page must be from 1 to 1,000, not 0"),
    ({"q": "wheat", "page": "99999999999999999999"}, "page", None),
    ({"q": "wheat", "page": "1001"}, "page", "page must be from 1 to 1,000, not 1,001"),
    ({"q": "wheat", "page": "101", "limit": "100"}, "page", None),
    ({"q": "wheat", "sort": "random"}, "sort", "Unknown sort 'random': use relevance, newest, oldest"),
    ({"q": "wheat", "since": "the day after"}, "since", None),
    ({"q": "wheat", "any": "maybe"}, "any", "any is 1 or 0 (true or false), not 'maybe'"),
    ({"q": "wheat", "facet_limit": "51"}, "facet_limit", "facet_limit must be from 1 to 50, not 51"),
    ({"q": ["wheat", "cocoa"]}, "q", "Give q once"),
    ({"q": "wheat", "person": [f"name {n}" for n in range(11)]}, "person", "At most 10 person filters"),
    ({"q": "wheat", "place": "p" * 201}, "place", None),
])
def test_api_bounds_are_400s_that_name_the_parameter(client: TestClient, params: dict[str, Any], parameter: str,
                                                    message: str | None) -> None:
    answer = client.get("/api/search", params=params)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["status"], error["parameter"]) == (400, parameter)
    if message is not None:
        assert error["message"] == message


def test_a_query_the_syntax_refuses_is_a_400_with_its_position(client: TestClient) -> None:
    error = client.get("/api/search", params={"q": '"wheat', "strict": "1"}).json()["error"]
    assert error["status"] == 400 and error["parameter"] == "q" and error["position"] == 0
    assert "quote" in error["message"]
    assert client.get("/api/timeline", params={"q": "wheat", "by": "week"}).json()["error"]["parameter"] == "by"


@pytest.mark.parametrize("path", [
    "/api/articles/no-such-article",
    "/api/articles/..%2F..%2Fsearchlib.json",
    "/api/articles/gen-000001%2FCURRENT",
    "/api/more-like/no-such-article",
])
def test_unknown_articles_are_404s_and_ids_are_never_paths(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.json()["error"]["message"].startswith("No article with id ")


def test_an_id_that_looks_like_a_path_is_only_an_id(client: TestClient) -> None:
    article = client.get("/api/articles/..%2F..%2Fetc%2Fpasswd").json()
    assert (article["id"], article["title"]) == ("../../etc/passwd", "A harbour id like a path")
    page = client.get("/articles/" + render.article_path("../../etc/passwd").removeprefix("/articles/"))
    assert page.status_code == 200 and "A harbour id like a path" in page.text
    assert client.get("/api/articles/" + "x" * 1001).json()["error"]["parameter"] == "id"


def test_static_files_cannot_leave_their_folder(client: TestClient) -> None:
    assert client.get("/static/style.css").status_code == 200
    for path in ("/static/..%2Fapp.py", "/static/%2e%2e/app.py", "/static/../app.py"):
        assert client.get(path).status_code == 404


def test_unknown_addresses_and_methods_answer_without_a_trace(client: TestClient) -> None:
    missing = client.get("/api/nothing")
    assert (missing.status_code, missing.json()) == (404, {"error": {"status": 404, "message": "There is no page at this address"}})
    page = client.get("/nothing")
    assert page.status_code == 404 and "There is no page at this address" in page.text and "<form" in page.text
    posted = client.post("/api/search", data={"q": "wheat"})
    assert posted.status_code == 405 and posted.json()["error"]["status"] == 405


def test_an_unexpected_error_is_a_500_that_tells_nothing(live: LiveIndex, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret detail of /srv/news")

    monkeypatch.setattr(searchlib.Index, "search", broken)
    with TestClient(create_app(live), raise_server_exceptions=False) as test_client:
        for path in ("/api/search?q=wheat", "/?q=wheat"):
            answer = test_client.get(path)
            assert answer.status_code == 500
            assert "secret" not in answer.text and "Traceback" not in answer.text and "RuntimeError" not in answer.text
        assert answer.headers["content-type"].startswith("text/html")
        assert test_client.get("/api/search?q=wheat").json() == {
            "error": {"status": 500, "message": "The server failed to answer this request; the error is in its log"}}
    assert "secret detail" in caplog.text  # in the server's log instead


def test_an_index_that_cannot_be_read_is_a_503(live: LiveIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    def gone(*args: Any, **kwargs: Any) -> None:
        raise searchlib.IndexCorruptError("Cannot open the index at '/srv/secret'", path="/srv/secret")

    monkeypatch.setattr(searchlib.Index, "search", gone)
    with TestClient(create_app(live)) as test_client:
        answer = test_client.get("/api/search?q=wheat")
    assert answer.status_code == 503 and "/srv/secret" not in answer.text


# The page ---------------------------------------------------------------------------------------


def test_the_first_page_is_a_search_form(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<label class="search-label" for="q">Search the archive</label>' in page.text
    assert "Search 9 articles of Test archive" in page.text
    assert '<script src="/static/app.js" defer></script>' in page.text


def test_the_search_page_shows_hits_facets_timeline_and_pages(client: TestClient) -> None:
    page = client.get("/", params={"q": "wheat"})
    assert page.status_code == 200
    text = page.text
    assert "<strong>4</strong> articles match <q>wheat</q>" in text and "3 stories, copies folded" in text
    assert '<h2><a class="hit-link" href="/articles/wire-1?q=wheat"><mark>Wheat</mark> exports to Egypt rise</a></h2>' in text
    assert "1 similar copy" in text and 'href="/articles/wire-2?q=wheat"' in text  # the folded copy opens
    assert 'href="/?q=wheat&amp;place=Egypt"' in text  # a facet adds a filter
    assert '<a class="column" data-nav href="/?q=wheat&amp;since=1987-02&amp;until=1987-02" title="1987-02: 2">' in text
    assert '<span class="column empty" title="1987-05: 0">' not in text and "Matches by month" in text
    text = client.get("/", params={"q": "wheat", "limit": 2}).text
    assert 'rel="next" href="/?q=wheat&amp;limit=2&amp;page=2"' in text
    second = client.get("/", params={"q": "wheat", "limit": 2, "page": 2}).text
    assert 'aria-current="page">2<' in second and 'rel="prev"' in second


def test_filters_show_as_chips_that_remove_them(client: TestClient) -> None:
    text = client.get("/", params={"q": "wheat", "place": "Egypt", "since": "1987-02"}).text
    assert '<a class="chip chip-place" data-nav href="/?q=wheat&amp;since=1987-02" aria-label="Remove filter: Egypt">' in text
    assert 'href="/?q=wheat&amp;place=Egypt" aria-label="Remove filter: from 1987-02"' in text
    assert '<input type="hidden" name="place" value="Egypt">' in text  # kept by the form without JavaScript


def test_did_you_mean_and_notices_are_links(client: TestClient) -> None:
    assert 'Did you mean <a data-nav href="/?q=wheat">wheat</a>?' in client.get("/", params={"q": "wheet"}).text
    text = client.get("/", params={"q": "harbour AND"}).text
    assert re.search(r'<p class="notice">[^<]+\. <a href="/help#syntax">How queries are read</a></p>', text)
    assert 'href="/?q=wheat+egypt&amp;any=1">2 more articles have some of the words' in client.get("/", params={"q": "wheat egypt"}).text


def test_the_page_shows_a_bad_parameter_as_a_400_message(client: TestClient) -> None:
    page = client.get("/", params={"q": "wheat", "since": "someday"})
    assert page.status_code == 400 and 'role="alert"' in page.text and "since:" in page.text
    assert client.get("/", params={"q": '"wheat', "strict": "1"}).status_code == 400


def test_the_partial_results_are_the_results_alone(client: TestClient) -> None:
    partial = client.get("/", params={"q": "wheat"}, headers={"X-Partial": "results"})
    assert partial.status_code == 200
    assert "<html" not in partial.text and '<ol class="hits"' in partial.text


def test_the_article_page_shows_the_whole_article_marked(client: TestClient) -> None:
    page = client.get("/articles/wire-1", params={"q": "wheat exports"})
    assert page.status_code == 200
    text = page.text
    assert '<h1 id="article-title"><mark>Wheat exports</mark> to Egypt rise</h1>' in text
    assert "<p><mark>Wheat exports</mark> from the United States to Egypt rose sharply" in text
    assert 'href="/?q=person%3A%22Clayton%20Yeutter%22"' in text  # an entity is a filtered search
    assert "Other copies of this story" in text and 'href="/articles/wire-2?q=wheat%20exports"' in text
    assert "More like this" in text and 'href="/articles/wire-3"' in text
    assert '<a href="/?q=wheat%20exports">← Results for <q>wheat exports</q></a>' in text
    missing = client.get("/articles/nothing-here")
    assert missing.status_code == 404 and "No article with id &#39;nothing-here&#39;" in missing.text


def test_help_page(client: TestClient) -> None:
    assert 'id="syntax"' in client.get("/help").text


# Hostile articles -------------------------------------------------------------------------------


def test_hostile_articles_show_as_text_in_results(client: TestClient) -> None:
    text = client.get("/", params={"q": "harbour", "limit": 10}).text
    assert "<script>alert" not in text and "<img" not in text and "onerror=alert(1)>" not in text
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; <mark>Harbour</mark> &amp; &quot;Docks&quot;" in text
    assert 'href="javascript:' not in text.lower() and "href=\" javascript" not in text.lower()
    assert '<span class="url-text">javascript:alert(document.cookie)</span>' in text  # shown, not linked
    assert 'href="data:' not in text
    # an http(s) url is a link, its quotes and markup escaped inside the attribute
    assert 'href="https://example.com/fees?a=1&amp;b=&#34;2&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"' in text
    assert 'href="/articles/odd%2Fid%20with%20spaces%3F%26%23?q=harbour"' in text


def test_hostile_articles_show_as_text_on_their_page(client: TestClient) -> None:
    text = client.get("/articles/hostile-1", params={"q": "harbour"}).text
    assert "<script>alert" not in text and "<img" not in text and "<a href=\"javascript" not in text
    assert "<title>&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; Harbour &amp; &#34;Docks&#34; · " in text
    assert "&lt;img src=x onerror=alert(1)&gt; said &quot;yes&quot; &amp; &quot;no&quot;." in text
    assert "Read more at &lt;a href=&quot;javascript:alert(2)&quot;&gt;this link&lt;/a&gt; about the <mark>harbour</mark>." in text
    assert '<span class="url-text">javascript:alert(document.cookie)</span>' in text
    odd = client.get(render.article_path("odd/id with spaces?&#")).text
    assert re.search(r'<span class="url-text"> ?JavaScript:alert\(5\)</span>', odd) and "href=\"javascript" not in odd.lower()


def test_pages_forbid_scripts_but_their_own(client: TestClient) -> None:
    headers = client.get("/", params={"q": "wheat"}).headers
    assert "script-src 'self'" in headers["content-security-policy"] and "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in client.get("/api/search", params={"q": "wheat"}).headers


def test_a_server_on_loopback_answers_only_its_own_names(live: LiveIndex) -> None:
    with TestClient(create_app(live, allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1") as test_client:
        assert test_client.get("/api/status").status_code == 200
        assert test_client.get("/api/status", headers={"Host": "attacker.example"}).status_code == 400


@pytest.mark.parametrize("url, link", [
    ("https://example.com/a?b=1", "https://example.com/a?b=1"),
    ("  http://example.com/  ", "http://example.com/"),
    ("HTTPS://EXAMPLE.COM", "HTTPS://EXAMPLE.COM"),
    ("javascript:alert(1)", None),
    (" JavaScript:alert(1)", None),
    ("java\tscript:alert(1)", None),
    ("data:text/html,<b>", None),
    ("vbscript:msgbox", None),
    ("//evil.example/x", None),
    ("/relative/path", None),
    ("http://", None),
    ("https://exa mple.com", None),
    ("http://[::1", None),
    ("", None),
])
def test_only_http_urls_become_links(url: str, link: str | None) -> None:
    assert render.web_link(url) == link


def test_paragraphs_keep_the_marks_across_blank_lines() -> None:
    text = "First wheat.\n\nSecond wheat and wheat\n\n\n<b>"
    found = list(render.paragraphs(Snippet(text, [(6, 11), (21, 26), (31, 36)])))
    assert found == ["First <mark>wheat</mark>.", "Second <mark>wheat</mark> and <mark>wheat</mark>", "&lt;b&gt;"]


def test_a_search_is_its_url() -> None:
    search = Search(query="grain & wheat", person=("A B",), since="1987-03", page=3, any_words=True)
    assert search.query_string() == "q=grain+%26+wheat&since=1987-03&person=A+B&any=1&page=3"
    assert search.query_string(sort="newest") == "q=grain+%26+wheat&sort=newest&since=1987-03&person=A+B&any=1"
    assert search.adding("place", "Egypt") == "q=grain+%26+wheat&since=1987-03&person=A+B&place=Egypt&any=1"
    assert search.removing("person", "A B") == "q=grain+%26+wheat&since=1987-03&any=1"


# One long-lived index ---------------------------------------------------------------------------


def test_every_index_call_runs_in_one_thread(live: LiveIndex) -> None:
    threads: set[str] = set()

    def record(index: searchlib.Index) -> int:
        threads.add(threading.current_thread().name)
        return index.search("wheat").total

    async def many() -> list[int]:
        return await asyncio.gather(*(live.call(record) for _ in range(50)))

    assert asyncio.run(many()) == [4] * 50
    assert len(threads) == 1 and threads.pop().startswith("searchlib-index")


def test_concurrent_requests_all_succeed(live: LiveIndex) -> None:
    app = create_app(live)

    async def many() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            answers = await asyncio.gather(*(http.get("/api/search", params={"q": q}) for q in ["wheat", "cocoa", "harbour"] * 20))
        return [answer.status_code for answer in answers]

    assert asyncio.run(many()) == [200] * 60


def served_after(test_client: TestClient, before: str, seconds: float = 30) -> str:
    """The generation served once the server has moved from ``before`` (it prepares the new
    one in the background, serving the old one meanwhile)."""
    deadline = time.monotonic() + seconds
    while True:
        served = test_client.get("/api/status").json()["served_generation"]
        if served != before or time.monotonic() > deadline:
            return served
        time.sleep(0.05)


def test_the_server_moves_to_a_new_generation_without_a_restart(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "wire.jsonl", WIRE)
    searchlib.build(corpus, tmp_path / "index")
    live = LiveIndex.open(tmp_path / "index")
    try:
        with TestClient(create_app(live)) as test_client:
            assert test_client.get("/api/search", params={"q": "saffron"}).json()["total"] == 0
            before = test_client.get("/api/status").json()["served_generation"]
            write_corpus(corpus, WIRE + [{"id": "wire-9", "title": "Saffron harvest", "date": "1987-05-01",
                                          "body": "The saffron harvest in Spain was late."}])
            searchlib.update(corpus, tmp_path / "index")
            assert test_client.get("/api/search", params={"q": "saffron"}).status_code == 200  # old or new: never fails
            after = served_after(test_client, before)
            assert after != before and after == (tmp_path / "index" / "CURRENT").read_text().strip()
            assert test_client.get("/api/search", params={"q": "saffron"}).json()["total"] == 1
    finally:
        live.close()


def test_a_generation_that_cannot_be_opened_keeps_the_server_on_the_old_one(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = write_corpus(tmp_path / "wire.jsonl", WIRE)
    searchlib.build(corpus, tmp_path / "index")
    live = LiveIndex.open(tmp_path / "index")
    try:
        with TestClient(create_app(live)) as test_client:
            before = test_client.get("/api/status").json()["served_generation"]
            searchlib.update(write_corpus(corpus, WIRE[:4]), tmp_path / "index")

            def fails(*args: Any, **kwargs: Any) -> searchlib.Index:
                raise searchlib.IndexCorruptError("cannot open", path=tmp_path)

            monkeypatch.setattr(searchlib.Index, "open", fails)
            for _ in range(20):
                assert test_client.get("/api/search", params={"q": "cocoa"}).json()["total"] == 1  # the old generation
                time.sleep(0.02)
            monkeypatch.undo()
            assert served_after(test_client, before, seconds=30) != before  # tried again a second later
    finally:
        live.close()


# The command ------------------------------------------------------------------------------------


def test_serve_runs_uvicorn_on_loopback_by_default(web_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import uvicorn

    from searchlib.web import command

    asked: list[tuple[str, int]] = []
    listening = socket.create_server(("127.0.0.1", 0))
    monkeypatch.setattr(command, "_listen", lambda host, port: asked.append((host, port)) or listening)
    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets: ran.update(config=server.config, sockets=sockets))
    with listening:
        done = CliRunner().invoke(main, ["serve", "--index", str(web_index)], catch_exceptions=False)
        port = listening.getsockname()[1]
    assert done.exit_code == 0
    assert asked == [("127.0.0.1", 8080)] and ran["sockets"] == [listening] and ran["config"].host == "127.0.0.1"
    assert done.stderr == f"Serving '{web_index}' (9 articles) at http://127.0.0.1:{port}/ (Ctrl-C to stop)\n"


def test_serve_on_a_port_in_use_is_a_one_line_error_before_it_says_serving(web_index: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = CliRunner().invoke(main, ["serve", "--index", str(web_index), "--port", str(port)])
    assert done.exit_code == 1
    assert done.output == (f"Error: Port {port} on 127.0.0.1 is in use (another searchlib serve?): stop it, or choose "
                           "another port with --port\n")
    done = CliRunner().invoke(main, ["serve", "--index", str(web_index), "--host", "no-such-host.invalid"])
    assert done.exit_code == 1 and done.output.startswith("Error: Cannot listen on 'no-such-host.invalid'")


def test_serve_without_an_index_is_a_one_line_error(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "none")])
    assert done.exit_code == 1
    assert done.output == f"Error: No index at '{tmp_path / 'none'}'. Build it with: searchlib build CORPUS --index {tmp_path / 'none'}\n"


def test_serve_without_the_web_extra_says_how_to_install_it(web_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def without_uvicorn(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "uvicorn":
            raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_uvicorn)
    done = CliRunner().invoke(main, ["serve", "--index", str(web_index)])
    assert done.exit_code == 1
    assert done.output == "Error: searchlib serve needs the web extra: pip install -e '.[web]' (uvicorn is missing)\n"


def test_search_does_not_import_the_web_framework() -> None:
    import subprocess
    import sys

    code = "import sys, searchlib.cli; print(any(m.split('.')[0] in ('starlette', 'uvicorn', 'jinja2') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


# Index.article ----------------------------------------------------------------------------------


def test_index_article_gives_the_stored_article(web_index: Path) -> None:
    with searchlib.Index.open(web_index) as index:
        article = index.article("wire-2", query="exports OR yeutter")
        assert (article.title, article.date.isoformat() if article.date else None) == ("Wheat exports to Egypt rise", "1987-02-11T00:00:00")
        assert article.copies == ("wire-1",)
        assert article.body_snippet.text == article.body and article.body_snippet.matches == ("exports", "Yeutter")
        assert index.article("wire-2").body_snippet.spans == ()
        assert index.article("wire-2", query='"unclosed').body_snippet.text == article.body
        with pytest.raises(searchlib.ArticleNotFoundError):
            index.article("../../etc/passwd/none")


def test_an_article_whose_id_holds_a_line_break_or_a_slash_has_its_page(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "world").mkdir(parents=True)
    (corpus / "new\nline.txt").write_text("Harbour Report\n\nMay 1, 2012\n\nThe harbour reopened.\n")
    (corpus / "world" / "port.txt").write_text("Port Report\n\nMay 2, 2012\n\nThe harbour closed.\n")
    searchlib.build(corpus, tmp_path / "index")
    live = LiveIndex.open(tmp_path / "index")
    try:
        with TestClient(create_app(live)) as client:
            for article_id in ("new\nline.txt", "world/port.txt"):
                link = render.article_path(article_id)
                assert client.get(link).status_code == 200, link
                assert client.get("/api" + link).json()["id"] == article_id
                assert client.get("/api/more-like" + link.removeprefix("/articles")).status_code == 200
    finally:
        live.close()


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_serve_stopped_by_a_signal_ends_with_status_0(web_index: Path, stop: str) -> None:
    import signal
    import subprocess
    import sys

    server = subprocess.Popen([sys.executable, "-m", "searchlib", "serve", "--index", str(web_index), "--port", "0"],
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None and server.stderr.readline().startswith(f"Serving '{web_index}'")
        server.send_signal(getattr(signal, stop))
        assert server.wait(30) == 0
    finally:
        server.kill()
        server.wait()
        assert server.stderr is not None
        server.stderr.close()
