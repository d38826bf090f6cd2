"""The time of products on the embedded engine: integers, floats and decimals over many rows.

    python packages/snowpark-embedded/benchmarks/products.py --rows 1000000

Each query is run five times on a table of ``--rows`` rows (an integer N, a NUMBER(12, 2) A,
a NUMBER(10, 7) R and a FLOAT X); the median time of each is printed. Run it on two versions
of the engine to see what a translation of ``*`` costs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

QUERIES = (
    "SELECT SUM(N) FROM M",
    "SELECT SUM(A * N) FROM M",
    "SELECT SUM(X * N) FROM M",
    "SELECT SUM(A * R) FROM M",
    "SELECT SUM(N * N) FROM M",
    "SELECT SUM(A * 1.5 * R) FROM M",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    import snowpark_embedded  # noqa: PLC0415
    from snowpark_embedded import embedded  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as db_dir:
        session = snowpark_embedded.session(db_dir, linger_s=1)
        try:
            session.sql(
                "CREATE TABLE M AS SELECT ROW_NUMBER() OVER () AS N, "
                "CAST((ROW_NUMBER() OVER () % 1000) / 7 AS NUMBER(12, 2)) AS A, "
                "CAST(0.0012345 AS NUMBER(10, 7)) AS R, "
                "1.25::FLOAT * (ROW_NUMBER() OVER () % 97) AS X "
                f"FROM TABLE(GENERATOR(ROWCOUNT => {args.rows}))"
            ).collect()
            for query in QUERIES:
                times = []
                for _ in range(5):
                    started = time.perf_counter()
                    session.sql(query).collect()
                    times.append(time.perf_counter() - started)
                print(f"{statistics.median(times):.3f} s  {query}")  # noqa: T201
        finally:
            embedded.close(session)
            embedded.stop_server(db_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
