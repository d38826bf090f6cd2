"""Manage the project's embedded engine: ``python -m credit_risk.engine status|start|stop``.

The same command as ``python -m snowpark_embedded``, with the project's folder (``data/engine``)
as the default ``--db-dir``.
"""

from __future__ import annotations

import sys

from snowpark_embedded.__main__ import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m credit_risk.engine", default_db_dir="data/engine"))
