"""``searchlib serve``: the web page and the JSON API of an index, from one long-lived process.

Starlette, uvicorn and Jinja2 are imported only when the command runs, so ``search`` starts as
fast as before and works without them; without the ``web`` extra, ``serve`` says how to install
it in one line.
"""

from __future__ import annotations

import errno
import ipaddress
import signal
import socket
from pathlib import Path

import click

import searchlib

__all__ = ["serve"]

INSTALL_HINT = "searchlib serve needs the web extra: pip install -e '.[web]'"


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--index", "index_path", type=click.Path(path_type=Path),
              default=searchlib.Settings().index, envvar="SEARCHLIB_INDEX", show_envvar=True, show_default=True,
              help="Index directory (or a Xapian cluster file, or xapian://host:port,host:port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default answers this computer only.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option("--title", default=None, help="The archive's name on the page (default: the corpus's name).")
@click.option("--access-log", is_flag=True, help="Log every request on stderr.")
def serve(index_path: Path, host: str, port: int, title: str | None, access_log: bool) -> None:
    """Serve a search page and a JSON API for the index, until Ctrl-C.

    The index is opened once and read, never written; after a build or an update the server
    reads the new generation without a restart. Open http://127.0.0.1:8080/ in a browser.

    \b
    Example:
        searchlib serve --index indexes/reuters
        curl 'http://127.0.0.1:8080/api/search?q=grain+exports&facets=1'
    """
    try:
        import uvicorn

        from .app import create_app
        from .live import LiveIndex
    except ImportError as error:
        raise click.ClickException(f"{INSTALL_HINT} ({error.name} is missing)") from None
    try:
        live = LiveIndex.open(index_path)
    except searchlib.SearchlibError as error:
        raise click.ClickException(str(error)) from error
    try:
        listening = _listen(host, port)  # before saying "Serving": a port in use is an error, not a log line
        app = create_app(live, title=title, allowed_hosts=_allowed_hosts(host))
        port = listening.getsockname()[1]
        config = uvicorn.Config(app, host=host, port=port, access_log=access_log, log_level="warning", server_header=False)
        signal.signal(signal.SIGTERM, _interrupt)  # a stop (systemd, kill) ends it as Ctrl-C does, with status 0
        try:
            click.echo(f"Serving '{live.path}' ({live.article_count:,} articles) at http://{_shown_host(host)}:{port}/ "
                       "(Ctrl-C to stop)", err=True)
            uvicorn.Server(config).run(sockets=[listening])
        except KeyboardInterrupt:  # uvicorn raises the signal it caught again once it has stopped (as uvicorn.run)
            pass
    finally:
        live.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host`` and ``port`` (0: a free port), or a one-line error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise click.ClickException(f"Cannot listen on '{host}': {error.strerror}. Give an address of this computer "
                                   "with --host (127.0.0.1, or 0.0.0.0 for every interface)") from None
    listening = socket.socket(family, kind, proto)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen(2048)
    except OSError as error:
        listening.close()
        where = f"{_shown_host(host)}:{port}"
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(f"Port {port} on {host} is in use (another searchlib serve?): stop it, or choose "
                                       "another port with --port") from None
        raise click.ClickException(f"Cannot listen on {where} ({error.strerror}): choose another --host or --port") from None
    listening.set_inheritable(True)
    return listening


def _allowed_hosts(host: str) -> list[str]:
    """The host names a server listening on ``host`` answers: its loopback names when it listens
    on loopback only (a guard against DNS rebinding), else any."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return ["127.0.0.1", "localhost", "[::1]", "::1", host] if loopback else ["*"]


def _shown_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
