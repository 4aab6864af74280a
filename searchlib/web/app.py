"""The routes of ``searchlib serve``: the search page, the article page, the JSON API.

Each route reads its parameters (params.py), calls the library in the index's thread
(live.py), and renders a template or the JSON of ``searchlib.formats``, the same documents
``search --json`` and ``timeline --json`` print. Errors are answered in one place
(``_error_response``): a bad parameter or query is a 400, an unknown article a 404, an index
that cannot be read a 503, anything else a 500 whose details go to the log, never to the
client. Pages are sent with a Content-Security-Policy that allows only the server's own script
and style sheet, so even a mistake in escaping could not run an article's script.

    GET /                          the search page (q=… and the parameters of params.py)
    GET /articles/{id}             one article, query words marked (q=…), "more like this"
    GET /help                      the query language
    GET /api/search                result_json: q=… and the parameters of params.py
    GET /api/timeline              timeline_json: q=…, by=year|month|day, filters
    GET /api/articles/{id}         the article: text, entities, copies (highlights with q=…)
    GET /api/more-like/{id}        result_json of the articles like it
    GET /api/status                index_status, and the generation this server reads
    GET /api/openapi.json          the OpenAPI description of the API
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import searchlib
from searchlib import formats

from . import render
from .live import LiveIndex
from .params import BadParameter, Search, read_article_id, read_search, read_timeline_period

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
#: The other copies of a story a hit lists by title, and those an article page lists.
COPIES_LISTED = 10
ARTICLE_COPIES_LISTED = 30
#: Articles "more like this" shows on an article page.
MORE_LIKE = 5
#: Past this many months a timeline is drawn by year; up to this many, by day.
MOST_MONTHS, FEWEST_MONTHS = 36, 2

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
KINDS = {"person": "People", "organization": "Organisations", "place": "Places"}
QUERY_FIELDS = {"person": "person", "organization": "org", "place": "place"}


def create_app(index: LiveIndex, *, title: str | None = None, allowed_hosts: Sequence[str] = ("*",)) -> Starlette:
    """The web application over the open ``index``.

    Args:
        title: the archive's name on the page (default: the name of the corpus it was built from).
        allowed_hosts: the host names requests may be addressed to; a server on 127.0.0.1 allows
            only its own names, so that no other web site can read it through a DNS name of
            its own that points at 127.0.0.1 (DNS rebinding).
    """
    pages = _templates()
    archive = title or _archive_name(index)
    pages.globals.update(archive=archive, kinds=KINDS, web_link=render.web_link, day=render.day,
                         article_path=render.article_path, marked=render.marked, paragraphs=render.paragraphs,
                         entity_query=_entity_query)

    def page(name: str, code: int = 200, **context: Any) -> HTMLResponse:
        # A page's address also gives its results alone (X-Partial): caches must keep them apart.
        return HTMLResponse(pages.get_template(name).render(**context), status_code=code,
                            headers={"Vary": "X-Partial", "Cache-Control": "no-cache"})

    async def search_page(request: Request) -> Response:
        partial = request.headers.get("x-partial") == "results"
        template = "_results.html" if partial else "search.html"
        try:
            search = read_search(request.query_params, need_query=False, facets=True)
        except BadParameter as error:
            return page(template, 400, search=Search(query=request.query_params.get("q", "")[:200]), error=str(error))
        if not search.query.strip():
            count = await index.call(lambda opened: opened.article_count)
            return page(template, search=search, result=None, article_count=count)
        try:
            result, timeline, copies = await index.call(_results, search)
        except (searchlib.QuerySyntaxError, searchlib.InvalidOptionError) as error:
            return page(template, 400, search=search, error=str(error))
        return page(template, search=search, result=result, timeline=timeline,
                    bars=render.bars(timeline) if timeline else [], copies=copies)

    async def article_page(request: Request) -> Response:
        article_id = read_article_id(request.path_params["article_id"])
        query = _query(request)
        article, more, copies = await index.call(_article, article_id, query)
        return page("article.html", search=Search(query=query or ""), article=article, more=more, copies=copies)

    async def help_page(request: Request) -> Response:
        return page("help.html", search=Search())

    async def api_search(request: Request) -> Response:
        search = read_search(request.query_params)
        result = await index.call(lambda opened: opened.search(search.query, **search.search_options()))
        return JSONResponse(formats.result_json(result))

    async def api_timeline(request: Request) -> Response:
        search = read_search(request.query_params)
        by = read_timeline_period(request.query_params) or "month"
        timeline = await index.call(lambda opened: opened.timeline(search.query, by=by, **search.timeline_options()))
        return JSONResponse(formats.timeline_json(timeline))

    async def api_article(request: Request) -> Response:
        article_id = read_article_id(request.path_params["article_id"])
        query = _query(request)
        article = await index.call(lambda opened: opened.article(article_id, query=query))
        return JSONResponse(_article_json(article, highlights=bool(query)))

    async def api_more_like(request: Request) -> Response:
        article_id = read_article_id(request.path_params["article_id"])
        search = read_search(request.query_params, need_query=False)
        result = await index.call(lambda opened: opened.more_like(article_id, **search.more_like_options()))
        return JSONResponse(formats.result_json(result))

    async def api_status(request: Request) -> Response:
        served = await index.call(lambda opened: {"served_generation": opened.generation.name,
                                                  "served_articles": opened.article_count})
        status = await run_in_threadpool(searchlib.index_status, index.path)  # reads the corpus's file list
        return JSONResponse({**status, "index": str(status.get("index", index.path)), **served})

    async def openapi(request: Request) -> Response:
        return FileResponse(HERE / "openapi.json", media_type="application/json")

    async def error(request: Request, exc: Exception) -> Response:
        return _error_response(request, exc, page)

    app = Starlette(
        routes=[
            Route("/", search_page),
            Route("/articles/{article_id:article_id}", article_page),
            Route("/help", help_page),
            Route("/api/search", api_search),
            Route("/api/timeline", api_timeline),
            Route("/api/articles/{article_id:article_id}", api_article),
            Route("/api/more-like/{article_id:article_id}", api_more_like),
            Route("/api/status", api_status),
            Route("/api/openapi.json", openapi),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        # Expected errors are answered by the routes' exception middleware; anything else by the
        # outermost one, which also hands it on to uvicorn's log.
        exception_handlers={BadParameter: error, searchlib.SearchlibError: error, HTTPException: error, Exception: error},
    )
    app.add_middleware(SecurityHeaders)
    if "*" not in allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    return app


# Calls in the index's thread --------------------------------------------------------------------


def _results(index: searchlib.Index, search: Search) -> tuple[searchlib.SearchResult, searchlib.Timeline | None,
                                                             dict[str, searchlib.IndexedArticle]]:
    """The page's hits and facets, its timeline, and the other copies of each hit's story."""
    result = index.search(search.query, **search.search_options())
    timeline = _timeline(index, search) if result.total else None
    copies = {other: index.article(other) for hit in result.hits for other in hit.similar[:COPIES_LISTED]}
    return result, timeline, copies


def _timeline(index: searchlib.Index, search: Search) -> searchlib.Timeline:
    """The timeline by month, or by year when that makes too many bars, by day when too few."""
    options = search.timeline_options()
    timeline = index.timeline(search.query, by="month", **options)
    if len(timeline.buckets) > MOST_MONTHS:
        return index.timeline(search.query, by="year", **options)
    if len(timeline.buckets) <= FEWEST_MONTHS:
        return index.timeline(search.query, by="day", **options)
    return timeline


def _article(index: searchlib.Index, article_id: str, query: str | None) -> tuple[
        searchlib.IndexedArticle, searchlib.SearchResult, list[searchlib.IndexedArticle]]:
    article = index.article(article_id, query=query)
    more = index.more_like(article_id, limit=MORE_LIKE)
    return article, more, [index.article(other) for other in article.copies[:ARTICLE_COPIES_LISTED]]


# Helpers ----------------------------------------------------------------------------------------


def _query(request: Request) -> str | None:
    """The ``q`` of an article request: the query whose words to mark."""
    search = read_search(request.query_params, need_query=False)
    return search.query.strip() or None


def _entity_query(kind: str, name: str) -> str:
    """The query that finds the articles naming ``name``: ``person:"Imomali Rakhmon"``."""
    return f'{QUERY_FIELDS[kind]}:"{name.replace(chr(34), " ")}"'


def _article_json(article: searchlib.IndexedArticle, *, highlights: bool) -> dict[str, Any]:
    """An article as ``/api/articles/{id}`` sends it; with a query, the ``[start, end)`` offsets
    of the words it matched in each field."""
    safe = formats.safe
    document: dict[str, Any] = {
        "id": safe(article.id),
        "title": safe(article.title),
        "date": article.date.isoformat() if article.date else None,
        "url": safe(article.url),
        "path": safe(article.path),
        "caption": safe(article.caption),
        "body": safe(article.body),
        "entities": [{"name": safe(entity.name), "kind": entity.kind} for entity in article.entities],
        "copies": [safe(other) for other in article.copies],
    }
    if highlights:
        for name, snippet in (("title", article.title_snippet), ("caption", article.caption_snippet),
                              ("body", article.body_snippet)):
            document[f"{name}_highlights"] = [list(span) for span in snippet.spans]
    return document


def _archive_name(index: LiveIndex) -> str:
    """``reuters21578`` for an index built from ``…/reuters21578.jsonl.gz``."""
    corpus = str(index.metadata.get("corpus") or index.path)
    return re.sub(r"(\.jsonl)?(\.gz)?$|\.txt$", "", Path(corpus).name) or "searchlib"


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# Errors -----------------------------------------------------------------------------------------


class _ArticleId(PathConvertor):
    """An article id in a URL: any characters, slashes and line breaks too (an id is a file's
    path in the corpus, which may hold either); Starlette's ``path`` stops at a line break."""

    regex = "[\\s\\S]+"


register_url_convertor("article_id", _ArticleId())


def _error_response(request: Request, exc: Exception, page: Callable[..., HTMLResponse]) -> Response:
    """Every exception as a response: JSON under /api/, a page elsewhere. Only our own messages
    are sent; anything unexpected is logged with its traceback and answered with a plain 500."""
    status, message, extra = _describe(exc)
    if status >= 500:
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc if status == 500 else None)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"status": status, "message": message, **extra}}, status_code=status,
                            headers={"Cache-Control": "no-store"})
    return page("error.html", status, search=Search(), status=status, message=message)


def _describe(exc: Exception) -> tuple[int, str, dict[str, Any]]:
    """The status, message and details of an error as the client may see them."""
    if isinstance(exc, BadParameter):
        return 400, str(exc), {"parameter": exc.parameter}
    if isinstance(exc, searchlib.QuerySyntaxError):
        return 400, str(exc), {"parameter": "q", "position": exc.position}
    if isinstance(exc, searchlib.InvalidOptionError):
        return 400, str(exc), {}
    if isinstance(exc, searchlib.ArticleNotFoundError):
        return 404, f"No article with id {exc.article_id!r} in this archive", {}
    if isinstance(exc, (searchlib.IndexNotFoundError, searchlib.IndexBuildingError, searchlib.IndexCorruptError,
                        searchlib.IndexVersionError)):
        return 503, "The index cannot be read just now; try again in a moment", {}
    if isinstance(exc, searchlib.ShardUnavailableError):
        return 503, f"{exc} (the archive is split over several machines, and some did not answer)", {"shards": list(exc.shards)}
    if isinstance(exc, HTTPException):
        messages = {404: "There is no page at this address", 405: "This address only answers GET requests"}
        return exc.status_code, messages.get(exc.status_code, str(exc.detail)), {}
    return 500, "The server failed to answer this request; the error is in its log", {}


# Headers ----------------------------------------------------------------------------------------


class SecurityHeaders:
    """Adds the headers that keep a browser from running or framing anything but our own files
    (a plain ASGI middleware: it costs a few microseconds a response)."""

    HEADERS: Sequence[tuple[bytes, bytes]] = (
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)

