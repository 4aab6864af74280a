"""``searchlib serve-shard``: one shard served by ``xapian-tcpsrv``, stopped alone.

``xapian-tcpsrv`` forks a process per connection and, on SIGTERM, signals its whole process
group. Run straight from a shell script (``serve-shard … &`` three times), the three servers
would share the script's group, and stopping one would stop them all. So ``serve`` starts the
server in a session of its own (``start_new_session``), stays beside it, and passes SIGTERM,
SIGINT and SIGHUP on to it by its process id; the server dies with it if it is killed outright
(``PR_SET_PDEATHSIG``, Linux).
"""

from __future__ import annotations

import ctypes
import errno
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType

from ..errors import IndexNotFoundError, SearchlibError
from . import XAPIAN_MARKER
from .xapian_layout import STUB, read_marker, shard_name

__all__ = ["serve_command", "serve"]

_PR_SET_PDEATHSIG = 1


def serve_command(directory: Path, *, port: int, host: str = "127.0.0.1", timeout: float | None = None) -> list[str]:
    """The ``xapian-tcpsrv`` command that serves the shard at ``directory``, read-only (it
    opens the shard's stub, so a new generation is served to each new connection).

    Raises:
        IndexNotFoundError: ``directory`` is no shard (an index of several shards names them).
        SearchlibError: ``xapian-tcpsrv`` is not installed.
    """
    if (directory / XAPIAN_MARKER).is_file():
        shards = int(read_marker(directory)["shards"])
        if shards != 1:
            names = ", ".join(shard_name(number, shards) for number in range(shards))
            raise IndexNotFoundError(f"'{directory}' holds {shards} shards ({names}): serve each one, "
                                     f"such as {directory / shard_name(0, shards)}", path=directory)
        directory = directory / shard_name(0, 1)
    if not (directory / STUB).is_file():
        raise IndexNotFoundError(f"No Xapian shard at '{directory}'. Build it with: searchlib build CORPUS --engine "
                                 "xapian --shards N --index DIR (or --shard i/N on this machine)", path=directory)
    program = shutil.which("xapian-tcpsrv")
    if program is None:
        raise SearchlibError("xapian-tcpsrv is not installed: apt-get install xapian-tools (Debian, Ubuntu)")
    _check_port(host, port)
    command = [program, "--port", str(port), "--interface", host]
    if timeout is not None:
        command += ["--timeout", str(int(timeout * 1000))]
    return command + [str(directory)]


def serve(command: list[str]) -> int:
    """Run the server ``command`` until it ends or this process is told to stop; its exit
    status (0 when stopped by a signal passed on)."""
    server = subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    status = server.wait()
    if stopping:
        return 0
    how = f"was killed by signal {-status}" if status < 0 else f"ended with status {status}"
    print(f"Error: xapian-tcpsrv {how}; start the shard again with searchlib serve-shard", file=sys.stderr)
    return 1


def _check_port(host: str, port: int) -> None:
    """A port in use is an error before the server starts (``xapian-tcpsrv`` would say so in a
    line of its own and exit 69).

    Raises:
        SearchlibError: the port is in use, or ``host`` is no address of this machine.
    """
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise SearchlibError(f"Port {port} on {host} is in use (another serve-shard?): stop it, or choose another "
                                 "port with --port") from None
        raise SearchlibError(f"Cannot listen on {host}:{port} ({error.strerror or error}): choose another --host or --port") from None


def _die_with_parent() -> None:
    """In the server, before it runs: the kernel sends it SIGTERM when ``serve`` ends."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
