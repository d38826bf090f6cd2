"""The embedded engine: find or start the one fakesnow server of a database folder, and connect.

Every process of the project (``kedro run``, a notebook, an Airflow task) shares the same
server, so they see the same tables and never open the DuckDB files twice. Starting is
serialised by a file lock; a server that holds the database but does not answer makes the
caller wait ``start_timeout_s`` and then stop with a message naming it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowpark_embedded import layout, shims
from snowpark_embedded.errors import EngineBusyError, EngineConfigError, EngineError
from snowpark_embedded.unreachable import bound_unreachable

if (
    TYPE_CHECKING
):  # Snowpark takes 1-2 s to import: start_early spawns the server before that
    from snowflake.snowpark import Session

logger = logging.getLogger(__name__)

DEFAULTS = {
    "db_dir": "data/engine",
    "start_timeout_s": 60,
    "idle_timeout_s": 1800,
    "linger_s": 15,
    # a request fails after this long without reaching the server (it died, or was killed);
    # a statement that runs longer while the server answers is never cut
    "unreachable_timeout_s": 60,
}
DUCKDB_RESERVED_DATABASES = frozenset({"MAIN", "TEMP", "SYSTEM"})
SERVES_CHECK_S = 5.0  # how often a reused session's server is checked (serves)


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs; reaps it first if it is our exited child (a zombie answers kill 0)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_state(db_dir: Path | str) -> dict[str, Any] | None:
    """The running server of this folder (pid, port), if it answers."""
    db_dir = Path(db_dir)
    try:
        state = json.loads((db_dir / layout.STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not _pid_alive(int(state.get("pid", 0))):
        return None
    try:
        url = f"http://127.0.0.1:{int(state['port'])}/snowpark-embedded/health"
        with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 - loopback only
            health = json.loads(resp.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return {**state, **health} if health.get("pid") == state["pid"] else None


def holder(db_dir: Path) -> str:
    """Who holds the database folder's lock, as the holder wrote it."""
    try:
        return (db_dir / layout.LOCK_FILE).read_text().strip() or "an unknown process"
    except OSError:
        return "an unknown process"


@contextlib.contextmanager
def _start_lock(db_dir: Path, timeout: float) -> Iterator[None]:
    """Serialise the processes that may start the server."""
    fd = os.open(db_dir / layout.START_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise EngineBusyError(
                        f"waited {timeout:.0f}s for another process starting the embedded "
                        f"engine in {db_dir}; try again, or run `python -m snowpark_embedded status --db-dir {db_dir}`"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def prepare_folder(db_dir: Path) -> None:
    """Make the database folder, or say why it cannot be used (not a bare PermissionError)."""
    try:
        db_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EngineConfigError(
            f"the embedded engine's folder {db_dir} cannot be created ({exc.strerror}): "
            "choose a folder this user may write"
        ) from None
    probe = db_dir / layout.START_LOCK_FILE
    try:
        if not os.access(db_dir, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
        os.close(os.open(probe, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as exc:
        raise EngineConfigError(
            f"the embedded engine's folder {db_dir} is not writable by this user "
            f"({exc.strerror}); it keeps the database, its lock and the server's log: "
            "make it writable (chmod / chown), or choose another folder"
        ) from None


def ensure_server(opts: dict[str, Any]) -> dict[str, Any]:
    """Return the state of the folder's server, starting one if none answers."""
    db_dir: Path = opts["db_dir"]
    prepare_folder(db_dir)
    timeout = float(opts["start_timeout_s"])
    with _start_lock(db_dir, timeout):
        if state := server_state(db_dir):
            return state
        deadline = time.monotonic() + timeout
        while True:
            if _lock_held(
                db_dir
            ):  # by a server still starting, or by a process that does not serve
                if state := server_state(db_dir):
                    return state
                if time.monotonic() >= deadline:
                    raise EngineBusyError(
                        f"the embedded database {db_dir} is held by {holder(db_dir)}, which does "
                        f"not answer; waited {timeout:.0f}s. Let it finish, or stop it with "
                        f"`python -m snowpark_embedded stop --db-dir {db_dir}`, then run again."
                    )
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
                continue
            proc = _spawn(opts)
            while proc.poll() is None:
                if state := server_state(db_dir):
                    return state
                if time.monotonic() > deadline:
                    proc.terminate()
                    proc.wait(timeout=10)
                    raise EngineError(
                        f"the embedded engine did not start within {timeout:.0f}s; "
                        f"see {db_dir / layout.LOG_FILE}"
                    )
                time.sleep(0.1)
            if proc.returncode != layout.EXIT_DB_LOCKED:
                raise EngineError(
                    f"the embedded engine exited with code {proc.returncode}; "
                    f"see {db_dir / layout.LOG_FILE}"
                )
            # another process took the folder between our look and the server's: look again


def start_early(opts: dict[str, Any]) -> bool:
    """Spawn the folder's server if none runs or is starting, without waiting for it to answer.

    Called when a Kedro session starts, so the server's own start-up (imports, opening the
    database) overlaps the client's; the first query still goes through
    :func:`ensure_server`. True if a server was spawned.
    """
    db_dir: Path = opts["db_dir"]
    prepare_folder(db_dir)
    try:
        with _start_lock(db_dir, timeout=0):
            if _lock_held(db_dir) or server_state(db_dir):
                return False
            proc = _spawn(opts)
            # until the server holds the folder's lock (its first act, about 0.1 s), another
            # process starting the engine could not tell it is on its way
            deadline = time.monotonic() + 5
            while (
                proc.poll() is None
                and not _lock_held(db_dir)
                and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            return True
    except EngineBusyError:
        return False  # another process is starting one


def _lock_held(db_dir: Path) -> bool:
    """Whether some process holds the folder's server lock (a free lock is released at once)."""
    fd = os.open(db_dir / layout.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _spawn(opts: dict[str, Any]) -> subprocess.Popen:
    """Start a detached server process for the folder."""
    db_dir: Path = opts["db_dir"]
    cmd = [
        sys.executable,
        "-m",
        "snowpark_embedded.server",
        "--db-dir",
        str(db_dir),
        "--idle-timeout",
        str(opts["idle_timeout_s"]),
        "--linger",
        str(opts["linger_s"]),
        "--memory-limit",
        str(opts.get("memory_limit") or ""),
    ]
    with open(db_dir / layout.LOG_FILE, "ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own module, no shell
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )


def stop_server(db_dir: Path | str, timeout: float = 30.0) -> bool:
    """Ask the folder's server to stop and wait for it; True if one was running."""
    db_dir = Path(db_dir)
    state = server_state(db_dir)
    if not state:
        return False
    req = urllib.request.Request(  # noqa: S310 - loopback only
        f"http://127.0.0.1:{state['port']}/snowpark-embedded/shutdown", method="POST"
    )
    with contextlib.suppress(OSError):
        urllib.request.urlopen(req, timeout=5).close()  # noqa: S310
    deadline = time.monotonic() + timeout
    while _pid_alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def _create_schemas(session: Session, database: str, schemas: list[str]) -> None:
    """Create the missing layer schemas; a client starting at the same time may race us."""
    attempts = 5
    for attempt in range(attempts):
        existing = {
            r[0]
            for r in session.sql(
                f"SELECT SCHEMA_NAME FROM {database}.INFORMATION_SCHEMA.SCHEMATA"
            ).collect()
        }
        try:
            for schema in schemas:
                if schema.upper() not in existing:
                    session.sql(
                        f"CREATE SCHEMA IF NOT EXISTS {database}.{schema}"
                    ).collect()
            return
        except Exception:  # a concurrent CREATE SCHEMA conflicts in DuckDB's catalog
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def connect(
    db_dir: Path | str,
    database: str,
    schemas: list[str],
    **opts: Any,
) -> Session:
    """A Snowpark session on the embedded engine of ``db_dir``, with ``schemas`` of ``database`` created.

    ``opts`` are the server options of :data:`DEFAULTS` (``start_timeout_s``,
    ``idle_timeout_s``, ``linger_s``, ``memory_limit``); the session's schema is the first one.
    """
    opts = {**DEFAULTS, **opts, "db_dir": Path(db_dir).absolute()}
    if not schemas:
        raise EngineConfigError(
            "no schema given: name at least one schema to create and use"
        )
    if database.upper() in DUCKDB_RESERVED_DATABASES:
        raise EngineConfigError(
            f"database name {database!r} is reserved by DuckDB under the embedded engine "
            f"({', '.join(sorted(DUCKDB_RESERVED_DATABASES))}); choose another name"
        )
    last_error: Exception | None = None
    for _attempt in range(3):
        state = ensure_server(opts)
        try:
            from snowflake.connector.backoff_policies import (
                exponential_backoff,  # noqa: PLC0415
            )
            from snowflake.snowpark import Session  # noqa: PLC0415

            session = Session.builder.configs(
                {
                    "account": "fakesnow",
                    "user": "fake",
                    "password": "snow",
                    "host": "127.0.0.1",
                    "port": state["port"],
                    "protocol": "http",
                    "database": database,
                    "schema": schemas[0],
                    # network_timeout would also cancel any query running longer; the server
                    # answers unsupported statements as errors, so nothing needs it here
                    "login_timeout": 10,
                    # the server answers each statement when it is done: a CTAS of tens of
                    # millions of rows takes minutes, and the connector's 60 s default would
                    # resend it while the first still runs
                    "socket_timeout": 3600,
                    # the server is on this machine: a failed request is retried within
                    # 1-2 s, not the connector's up to 16 s (see unreachable_timeout_s)
                    "backoff_policy": exponential_backoff(cap=2),
                    "session_parameters": {
                        "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False
                    },
                }
            ).create()
            shims.no_cancel_all(session)
            shims.pandas_frames_as_rows(session)
            _fail_when_gone(session, opts, state)
            break
        except Exception as exc:  # the server may have stopped between check and login
            last_error = exc
            time.sleep(0.5)
    else:
        raise EngineError(f"could not connect to the embedded engine: {last_error}")
    _create_schemas(session, database, list(schemas))
    # Not auto_clean_up_temp_table_enabled: its drop runs from a garbage-collection finalizer,
    # which can fire inside another request on the same connection (seen: during a PUT) and
    # hang it. cache_result() tables are temporary: they go when the run's session closes.
    session.use_schema(f"{database}.{schemas[0]}")
    session._snowpark_embedded_db_dir = opts["db_dir"]  # noqa: SLF001 - read by serves()
    logger.info(
        "Snowpark session on the embedded engine (127.0.0.1:%s, %s)",
        state["port"],
        opts["db_dir"],
    )
    return session


def _fail_when_gone(
    session: Session, opts: dict[str, Any], state: dict[str, Any]
) -> None:
    """Fail the session's requests once its server is gone, instead of retrying for ever."""
    db_dir: Path = opts["db_dir"]

    def gone_now() -> bool:
        now = server_state(db_dir)
        return now is None or int(now["port"]) != int(state["port"])

    def message(waited: float, cause: BaseException) -> str:
        return (
            f"the embedded engine's server (pid {state['pid']}, 127.0.0.1:{state['port']}) "
            f"went away during this statement ({type(cause).__name__}; gave up after "
            f"{waited:.0f} s, unreachable_timeout_s={opts['unreachable_timeout_s']}). It was "
            f"stopped or killed: see {db_dir / layout.LOG_FILE}. Tables keep their last "
            "completed state; run again and a new server starts."
        )

    bound_unreachable(
        session, float(opts["unreachable_timeout_s"]), message, gone_now=gone_now
    )


def serves(session: Session) -> bool:
    """Whether the server this session talks to still runs (asked at most every few seconds).

    A session can outlive its server: a notebook left open past ``idle_timeout_s``. The
    connector would then retry every query against the closed port for minutes, so the
    caller drops such a session and connects again.
    """
    now = time.monotonic()
    if now - getattr(session, "_snowpark_embedded_checked_at", 0.0) < SERVES_CHECK_S:
        return True
    state = server_state(session._snowpark_embedded_db_dir)  # noqa: SLF001
    if state is None or int(state["port"]) != int(session.connection.port):
        logger.warning(
            "the embedded engine this session used has stopped; connecting again"
        )
        return False
    session._snowpark_embedded_checked_at = now  # noqa: SLF001 - our own mark on the session
    return True


def close(session: Session) -> None:
    """Close the session, then end it on the server too.

    fakesnow's login gives no master token, so the connector's own logout never reaches
    the server (which would then wait for the idle timeout instead of stopping soon).
    """
    rest = getattr(session.connection, "rest", None)
    token, base = (rest.token, rest.server_url) if rest is not None else (None, None)
    shims.close_session(session)
    if token:
        req = urllib.request.Request(  # noqa: S310 - loopback only
            f"{base}/session?delete=true",
            data=b"{}",
            method="POST",
            headers={
                "Authorization": f'Snowflake Token="{token}"',
                "Content-Type": "application/json",
            },
        )
        with contextlib.suppress(OSError):
            urllib.request.urlopen(req, timeout=5).close()  # noqa: S310
