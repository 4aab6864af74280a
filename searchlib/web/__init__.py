"""The web page and the HTTP API of ``searchlib serve``: a search page people can use in a
browser, and JSON over HTTP for other programs, both as thin over the library as the command
line is.

    command.py   the ``serve`` click command (Starlette and uvicorn imported only when it runs)
    app.py       the routes: the page, the article page, the JSON API, the error handlers
    live.py      the one long-lived ``Index`` of a server, used from one thread, moved to a new
                 generation when a build or an update switches it
    params.py    query parameters read and bounded, into the options the library takes
    render.py    what templates need beyond escaping: marked snippets, safe links, timeline bars
    templates/   Jinja2 pages, autoescaped
    static/      the hand-written style sheet and script (no build step, nothing fetched)

Starlette, uvicorn and Jinja2 are the ``web`` extra: ``pip install -e '.[web]'``.
"""
