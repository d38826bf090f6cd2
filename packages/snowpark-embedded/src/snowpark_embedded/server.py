"""The embedded engine's server process: fakesnow (Snowflake's wire protocol over DuckDB).

One server owns one database folder. It holds an exclusive lock on the folder for its
whole life, so a second server can never open the same DuckDB files; every client
(``kedro run``, a notebook, Airflow tasks) talks to the one server over 127.0.0.1.

It stops by itself when no client session has been open for ``--linger`` seconds, or
when no request has arrived for ``--idle-timeout`` seconds, and then checkpoints DuckDB
so the files are complete. Run it with ``python -m snowpark_embedded.server --help``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
import warnings
from pathlib import Path

from snowpark_embedded import shims
from snowpark_embedded.layout import EXIT_DB_LOCKED, LOCK_FILE, STATE_FILE

logger = logging.getLogger("snowpark_embedded.server")


def _take_db_lock(db_dir: Path) -> int:
    """Lock the database folder for this process, or exit naming the holder."""
    fd = os.open(db_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
        sys.stderr.write(f"database folder {db_dir} is held by {holder}\n")
        sys.exit(EXIT_DB_LOCKED)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} ({' '.join(sys.argv)})".encode(), 0)
    return fd


def _write_state(db_dir: Path, port: int) -> None:
    """Publish where this server listens, atomically."""
    state = {
        "pid": os.getpid(),
        "host": "127.0.0.1",
        "port": port,
        "started_at": time.time(),
    }
    tmp = db_dir / f".{STATE_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, db_dir / STATE_FILE)


def _clear_state(db_dir: Path) -> None:
    """Remove the published state if it is still ours."""
    path = db_dir / STATE_FILE
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _limit_memory(conn, db_dir: Path, memory_limit: str) -> None:
    """Cap DuckDB's memory: beyond it, joins, sorts and aggregates spill to ``db_dir/spill``."""
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", memory_limit):
        raise ValueError(
            f"embedded.memory_limit must look like 4GB or 512MiB, got {memory_limit!r}"
        )
    spill = db_dir / "spill"
    spill.mkdir(exist_ok=True)
    conn.execute(f"SET memory_limit = '{memory_limit}'")
    conn.execute(f"SET temp_directory = '{spill}'")


def serve(  # noqa: PLR0913, PLR0915
    db_dir: Path, port: int, idle_timeout: float, linger: float, memory_limit: str = ""
) -> int:
    """Run the server until it is idle, signalled, or told to shut down."""
    db_dir.mkdir(parents=True, exist_ok=True)
    lock_fd = _take_db_lock(
        db_dir
    )  # first, before the slow imports: a loser exits at once

    import uvicorn
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    shims.patch_fakesnow_server(db_dir)

    import fakesnow.server as fs_server
    from fakesnow.instance import FakeSnow

    fs_server.logger.setLevel(logging.WARNING)
    fs_server.shared_fs = FakeSnow(db_path=db_dir)
    if memory_limit:
        _limit_memory(fs_server.shared_fs.duck_conn, db_dir, memory_limit)
    # a Snowflake table has no row order, so DuckDB need not keep one: writes and scans run in parallel
    fs_server.shared_fs.duck_conn.execute("SET preserve_insertion_order = false")
    # Snowflake raises "Division by zero"; DuckDB's IEEE mode returns inf / NaN instead
    fs_server.shared_fs.duck_conn.execute("SET GLOBAL ieee_floating_point_ops = false")
    shims.attach_databases(fs_server.shared_fs.duck_conn, db_dir)
    activity = {"last": time.monotonic(), "no_sessions_since": time.monotonic()}

    async def health(_request):
        return JSONResponse(
            {
                "pid": os.getpid(),
                "sessions": len(fs_server.sessions),
                "db_dir": str(db_dir),
            }
        )

    async def shutdown(_request):
        server.should_exit = True
        return JSONResponse({"stopping": True})

    app = fs_server.app
    app.router.routes[:0] = [
        Route("/snowpark-embedded/health", health),
        Route("/snowpark-embedded/shutdown", shutdown, methods=["POST"]),
    ]

    async def track_activity(scope, receive, send):
        activity["last"] = time.monotonic()
        await app(scope, receive, send)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    # clients keep HTTP connections alive; do not wait for them to hang up when stopping
    config = uvicorn.Config(
        track_activity, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)

    def watch_idle() -> None:
        while not server.should_exit:
            time.sleep(0.5)
            now = time.monotonic()
            if fs_server.sessions:
                activity["no_sessions_since"] = now
            sessionless = now - max(activity["no_sessions_since"], activity["last"])
            if sessionless >= linger or now - activity["last"] >= idle_timeout:
                logger.warning("engine idle, stopping")
                server.should_exit = True

    def on_started() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            _write_state(db_dir, port)
            logger.warning("engine serving %s on 127.0.0.1:%s", db_dir, port)

    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    threading.Thread(target=watch_idle, daemon=True).start()
    threading.Thread(target=on_started, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        _clear_state(db_dir)
        fs_server.sessions.clear()
        fs_server.shared_fs.duck_conn.close()  # checkpoints the attached database files
        os.close(lock_fd)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-dir", required=True, type=Path, help="database folder")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--idle-timeout", type=float, default=1800.0)
    parser.add_argument("--linger", type=float, default=15.0)
    parser.add_argument(
        "--memory-limit",
        default="",
        help="DuckDB memory_limit, e.g. 4GB ('' = DuckDB's default)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("fakesnow").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
    return serve(
        args.db_dir.resolve(),
        args.port,
        args.idle_timeout,
        args.linger,
        args.memory_limit,
    )


if __name__ == "__main__":
    sys.exit(main())
