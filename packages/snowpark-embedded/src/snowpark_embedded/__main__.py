"""Manage an embedded engine's server: ``python -m snowpark_embedded status|start|stop --db-dir DIR``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from snowpark_embedded import embedded


def main(
    argv: list[str] | None = None,
    prog: str = "python -m snowpark_embedded",
    default_db_dir: str = "snowpark_data",
) -> int:
    """Run the command and return the exit code."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("command", choices=["status", "start", "stop"])
    parser.add_argument(
        "--db-dir", type=Path, default=Path(default_db_dir), help="database folder"
    )
    args = parser.parse_args(argv)
    db_dir = args.db_dir.resolve()
    if args.command == "start":
        opts = {**embedded.DEFAULTS, "db_dir": db_dir}
        print(json.dumps(embedded.ensure_server(opts)))  # noqa: T201
    elif args.command == "stop":
        stopped = embedded.stop_server(db_dir)
        print("stopped" if stopped else f"no server answers for {db_dir}")  # noqa: T201
    else:
        state = embedded.server_state(db_dir)
        print(json.dumps(state) if state else f"no server answers for {db_dir}")  # noqa: T201
        return 0 if state else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
