"""A throwaway PostgreSQL server on this machine, for the tests and the benchmarks.

``start_local(directory)`` finds Debian's server binaries (``$PATH``, ``/usr/lib/postgresql/*/bin``,
``/usr/local/bin``), runs ``initdb`` in ``directory`` and starts ``postgres`` listening on a free port
of 127.0.0.1 and on a unix socket inside ``directory``; ``LocalPostgres.stop()`` shuts it down. The
server refuses to run as root, so under root both run as an unprivileged system user (``tikvtest``,
created with ``useradd`` when missing, else ``nobody``) that owns ``directory``.

``PostgresUnavailable`` says, in one sentence, why a server could not be started (no binaries: run
``make pg-deps``). Nothing here is used by the bot itself.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVER_USER = "tikvtest"
"""The unprivileged account the server runs as when this process is root."""

_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/bin", "/usr/bin")


class PostgresUnavailable(RuntimeError):
    """A local PostgreSQL server could not be started; the message says why."""


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres`` (the newest Debian version first)."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for pattern in _SEARCH:
        versioned = sorted(glob.glob(pattern), key=_version_key, reverse=True)
        candidates += [Path(p) for p in versioned]
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in ("initdb", "postgres")):
            return directory
    return None


def _version_key(path: str) -> tuple[int, str]:
    parts = Path(path).parts
    for part in parts:
        if part.isdigit():
            return int(part), path
    return 0, path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_account() -> pwd.struct_passwd | None:
    """None when this process may run the server itself (it is not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd:
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            capture_output=True,
            check=False,
        )
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(SERVER_USER)
    try:
        return pwd.getpwnam("nobody")
    except KeyError as exc:
        raise PostgresUnavailable("running as root and no unprivileged user to run PostgreSQL as") from exc


@dataclass
class LocalPostgres:
    """A running server: connect with ``dsn`` (user ``postgres``, trust authentication, 127.0.0.1)."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    owns_directory: bool
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.directory / "server.log"

    @property
    def socket_dir(self) -> Path:
        return self.directory / "socket"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self, *, timeout: float = 60.0) -> None:
        """Fast shutdown (SIGINT), SIGKILL if it does not end within ``timeout``; removes its directory
        if ``start_local`` made it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_local(
    directory: Path | None = None, *, fsync: bool = True, ready_timeout: float = 120.0
) -> LocalPostgres:
    """``initdb`` and start a server; raises ``PostgresUnavailable`` with the reason when it cannot.

    ``fsync=False`` is for tests only: a commit is then not flushed to disk (it still is atomic).
    """
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries (initdb, postgres) found on PATH or in /usr/lib/postgresql/*/bin;"
            " install Debian's postgresql package (make pg-deps)"
        )
    owns = directory is None
    # /tmp, not a pytest directory: the server's account must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="tikv-chatops-pg-")) if directory is None else directory
    try:
        return _start(bin_dir, root, owns, fsync=fsync, ready_timeout=ready_timeout)
    except BaseException:
        if owns:
            shutil.rmtree(root, ignore_errors=True)
        raise


def _start(bin_dir: Path, root: Path, owns: bool, *, fsync: bool, ready_timeout: float) -> LocalPostgres:
    account = _server_account()
    data, sockets = root / "data", root / "socket"
    sockets.mkdir(parents=True, exist_ok=True)
    uid = gid = None
    groups: list[int] | None = None
    if account is not None:
        for path in (root, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
        uid, gid, groups = account.pw_uid, account.pw_gid, []
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C", "LC_ALL": "C", "TZ": "UTC"}
    init = subprocess.run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        capture_output=True,
        env=env,
        cwd=root,
        check=False,
        user=uid,
        group=gid,
        extra_groups=groups,
    )
    if init.returncode != 0:
        raise PostgresUnavailable(f"initdb failed: {init.stderr.decode(errors='replace').strip()[-500:]}")
    port = free_port()
    log = root / "server.log"
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(sockets),
        "fsync": "on" if fsync else "off",
        "synchronous_commit": "on" if fsync else "off",
        "full_page_writes": "on" if fsync else "off",
        "max_connections": "200",
        "shared_buffers": "64MB",
        "log_min_messages": "warning",
    }
    args = [str(bin_dir / "postgres"), "-D", str(data)]
    for name, value in settings.items():
        args += ["-c", f"{name}={value}"]
    with open(log, "wb") as out:
        if account is not None:
            os.chown(log, account.pw_uid, account.pw_gid)
        process = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
            start_new_session=True,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
    server = LocalPostgres(directory=root, port=port, process=process, owns_directory=owns)
    deadline = time.monotonic() + ready_timeout
    pid_file = data / "postmaster.pid"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text(errors="replace").strip()[-500:]
            raise PostgresUnavailable(f"postgres exited at start (code {process.returncode}): {said}")
        with contextlib.suppress(OSError):
            lines = pid_file.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return server
        time.sleep(0.05)
    server.stop()
    raise PostgresUnavailable(f"postgres did not become ready within {ready_timeout:g} s")
