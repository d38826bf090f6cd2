"""The same Snowpark workload on Snowpark's local-testing mode and on the embedded engine.

    python packages/snowpark-embedded/benchmarks/speed.py --rows 100000

Both sessions get the same pandas frame through ``session.create_dataframe`` ("load"), then
run the same DataFrame work ("work": a filter, a group-by with four aggregates, a window,
a self-join and the results pulled to pandas). Each step is timed with ``time.perf_counter``;
the results of both engines are compared and must be equal, else the figure is VOID.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time

import numpy as np
import pandas as pd


def frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "ID": np.arange(rows, dtype="int64"),
            "BAND": rng.choice(list("ABCDE"), rows),
            "AMOUNT": rng.gamma(2.0, 500.0, rows).round(2),
            "TERM": rng.choice([12, 24, 36, 60], rows).astype("int64"),
        }
    )


MIN_AMOUNT = 100.0


def workload(session, data: pd.DataFrame) -> tuple[dict[str, float], pd.DataFrame]:
    from snowflake.snowpark import Window  # noqa: PLC0415
    from snowflake.snowpark import functions as F  # noqa: PLC0415

    times = {}
    started = time.perf_counter()
    df = session.create_dataframe(data).cache_result()
    times["load_s"] = time.perf_counter() - started
    started = time.perf_counter()
    big = df.filter(F.col("AMOUNT") > MIN_AMOUNT)
    by_band = big.group_by("BAND", "TERM").agg(
        F.count("ID").alias("N"),
        F.sum("AMOUNT").alias("TOTAL"),
        F.avg("AMOUNT").alias("MEAN"),
        F.max("AMOUNT").alias("TOP"),
    )
    ranked = by_band.with_column(
        "RANK_IN_BAND",
        F.rank().over(Window.partition_by("BAND").order_by(F.col("TOTAL").desc())),
    )
    joined = ranked.join(
        by_band.group_by("BAND").agg(F.sum("N").alias("BAND_N")), "BAND"
    ).with_column("SHARE", F.col("N") / F.col("BAND_N"))
    result = joined.to_pandas()
    times["work_s"] = time.perf_counter() - started
    result = result.sort_values(["BAND", "TERM"]).reset_index(drop=True)
    return times, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    data = frame(args.rows)

    import snowpark_embedded  # noqa: PLC0415
    from snowflake.snowpark import Session  # noqa: PLC0415
    from snowpark_embedded import embedded  # noqa: PLC0415

    local = Session.builder.config("local_testing", True).create()
    local_times, local_result = workload(local, data)
    local.close()

    with tempfile.TemporaryDirectory() as db_dir:
        started = time.perf_counter()
        session = snowpark_embedded.session(db_dir, linger_s=1)
        connect_s = time.perf_counter() - started
        engine_times, engine_result = workload(session, data)
        embedded.close(session)
        embedded.stop_server(db_dir)

    try:
        # rtol 1e-5: MEAN and SHARE are rounded quotients (6 decimals for N / BAND_N) on
        # both; local testing and the engine may differ in the last digit of a float
        pd.testing.assert_frame_equal(
            local_result, engine_result, check_dtype=False, check_exact=False, rtol=1e-5
        )
        same = True
    except AssertionError as exc:
        same = False
        print(f"results differ: {exc}", file=sys.stderr)
    total_local = local_times["load_s"] + local_times["work_s"]
    total_engine = engine_times["load_s"] + engine_times["work_s"]
    print(
        json.dumps(
            {
                "rows": args.rows,
                "local_testing": {k: round(v, 2) for k, v in local_times.items()},
                "embedded_engine": {
                    "connect_s": round(connect_s, 2),
                    **{k: round(v, 2) for k, v in engine_times.items()},
                },
                "speedup_work": round(
                    local_times["work_s"] / engine_times["work_s"], 1
                ),
                "speedup_load_and_work": round(total_local / total_engine, 1),
                "same_results": same,
            },
            indent=1,
        )
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
