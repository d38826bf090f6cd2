"""The SnowparkTableDataset contract as kedro-datasets documents it, on the embedded engine.

The stock ``kedro_datasets.snowflake.SnowparkTableDataset`` (its session from the active
session, from an injected one, or made from credentials) and the project's class, which
keeps that contract where it extends it: credentials, session injection, save_args,
database and schema from credentials, and an ``Args:`` docstring with a YAML example.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
import yaml
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.snowflake import SnowparkTableDataset as StockDataset
from snowflake.snowpark import functions as F

from credit_risk.datasets import SnowparkTableDataset
from tests.conftest import DATABASE

FRAME = pd.DataFrame(
    {"ID": [1, 2, 3], "NAME": ["a", "b", None], "SCORE": [0.5, None, 1.5]}
)


def _pandas(ds) -> pd.DataFrame:
    return ds.load().to_pandas().sort_values("ID").reset_index(drop=True)


# -- the stock class -------------------------------------------------------------------


def test_stock_dataset_on_the_active_session(session):
    """As documented: database and schema from credentials, the active session reused, save_args to save_as_table."""
    ds = StockDataset(
        table_name="STOCK_ACTIVE",
        credentials={"database": DATABASE, "schema": "RAW"},
        save_args={"mode": "overwrite"},
    )
    assert not ds.exists()
    ds.save(FRAME)  # pandas: create_dataframe, then save_as_table
    assert ds.exists()
    pd.testing.assert_frame_equal(_pandas(ds), FRAME, check_dtype=False)
    ds.save(ds.load().filter(F.col("ID") > 1))  # a Snowpark frame
    assert sorted(r["ID"] for r in ds.load().collect()) == [2, 3]
    appending = StockDataset(
        table_name="STOCK_ACTIVE",
        credentials={"database": DATABASE, "schema": "RAW"},
        save_args={"mode": "append"},
    )
    appending.save(FRAME.head(1))
    assert sorted(r["ID"] for r in ds.load().collect()) == [1, 2, 3]
    # the stock default mode is errorifexists: a second save fails, as on Snowflake
    strict = StockDataset(
        table_name="STOCK_ACTIVE", credentials={"database": DATABASE, "schema": "RAW"}
    )
    with pytest.raises(DatasetError):
        strict.save(FRAME)


def test_stock_dataset_with_an_injected_session(session):
    ds = StockDataset(
        table_name="STOCK_INJECTED",
        database=DATABASE,
        schema="INTERMEDIATE",
        credentials={"account": "unused: the session is given"},
        session=session,
        save_args={"mode": "overwrite", "table_type": "transient"},
    )
    assert ds.session is session
    ds.save(session.create_dataframe([[1, "x"]], schema=["ID", "NAME"]))
    assert [tuple(r) for r in ds.load().collect()] == [(1, "x")]


STOCK_FROM_CREDENTIALS = textwrap.dedent(
    """
    import sys
    import snowpark_embedded
    from kedro_datasets.snowflake import SnowparkTableDataset
    from snowflake.snowpark import context

    credentials = snowpark_embedded.connection_parameters(sys.argv[1], "CREDS_DB", "PUBLIC")
    snowpark_embedded.session(sys.argv[1], "CREDS_DB").close()  # creates the database
    ds = SnowparkTableDataset(table_name="FROM_CREDENTIALS", credentials=credentials,
                              save_args={"mode": "overwrite"})
    ds.save(ds.session.sql("SELECT 1 AS ID UNION ALL SELECT 2"))
    print(ds.load().count(), ds.exists(), context.get_active_session() is ds.session)
    try:
        ds.save(__import__("pandas").DataFrame({"ID": [1]}))
    except Exception as exc:
        print("pandas:", exc, "|", exc.__cause__)
    """
)


def test_stock_dataset_makes_its_session_from_credentials(tmp_path):
    """No active session: the stock class connects with the credentials it is given."""
    from snowpark_embedded import embedded

    db_dir = tmp_path / "engine"
    try:
        done = subprocess.run(
            [sys.executable, "-c", STOCK_FROM_CREDENTIALS, str(db_dir)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        lines = done.stdout.splitlines()  # exists() prints the table (.show())
        assert "2 True True" in lines
        # its own session lacks the engine's client shims: a pandas frame is refused at once,
        # naming the alternative, never written wrong
        refused = done.stdout[done.stdout.index("pandas:") :]
        assert "not supported on the embedded engine" in refused
    finally:
        embedded.stop_server(db_dir)


# -- the project's class -----------------------------------------------------------------


def test_database_and_schema_from_credentials(session):
    ds = SnowparkTableDataset(
        table_name="FROM_CREDS", credentials={"database": DATABASE, "schema": "PRIMARY"}
    )
    assert ds.fqn == f"{DATABASE}.PRIMARY.FROM_CREDS"
    ds.save(FRAME)
    pd.testing.assert_frame_equal(_pandas(ds), FRAME, check_dtype=False)
    # the argument takes priority over the credentials
    other = SnowparkTableDataset(
        table_name="X",
        schema="RAW",
        credentials={"database": DATABASE, "schema": "PRIMARY"},
    )
    assert other.fqn == f"{DATABASE}.RAW.X"


@pytest.mark.parametrize("missing", ["database", "schema"])
def test_missing_database_or_schema_is_named(missing):
    given = {"database": DATABASE, "schema": "RAW"}
    del given[missing]
    with pytest.raises(
        DatasetError, match=f"'{missing}' must be provided by credentials or dataset"
    ):
        SnowparkTableDataset(table_name="T", credentials=given)


def test_an_injected_session_is_used(session):
    ds = SnowparkTableDataset(
        table_name="INJECTED", schema="RAW", database=DATABASE, session=session
    )
    assert ds.session is session


def test_save_args_modes(session):
    def table(**save_args):
        return SnowparkTableDataset(
            table_name="MODES", schema="RAW", database=DATABASE, save_args=save_args
        )

    table().save(FRAME)  # overwrite, the default
    table(mode="append").save(FRAME.head(1))
    assert table().load().count() == 4
    table(mode="append", column_order="name").save(
        FRAME[["SCORE", "NAME", "ID"]].head(1)
    )
    assert table().load().filter(F.col("ID") == 1).count() == 3
    with pytest.raises(DatasetError, match="already exists"):
        table(mode="errorifexists").save(FRAME)
    table(mode="ignore").save(FRAME.head(1))  # exists: nothing written
    assert table().load().count() == 5
    table(mode="overwrite").save(session.table(f"{DATABASE}.RAW.MODES").limit(2))
    assert table().load().count() == 2
    fresh = SnowparkTableDataset(
        table_name="MODES_NEW",
        schema="RAW",
        database=DATABASE,
        save_args={"mode": "errorifexists"},
    )
    if fresh.exists():
        session.sql(f"DROP TABLE {DATABASE}.RAW.MODES_NEW").collect()
    fresh.save(FRAME)  # does not exist yet: written
    assert fresh.load().count() == 3


@pytest.mark.parametrize(
    ("save_args", "message"),
    [
        ({"mode": "upsert"}, "save_args.mode must be one of"),
        ({"partition_by": "ID"}, r"save_args \['partition_by'\] are not supported"),
        ({"column_order": "alphabet"}, "column_order must be"),
        ({"table_type": "temporary"}, "table_type must be"),
    ],
)
def test_save_args_are_checked_not_ignored(save_args, message):
    with pytest.raises(DatasetError, match=message):
        SnowparkTableDataset(
            table_name="T", schema="RAW", database=DATABASE, save_args=save_args
        )


def test_docstrings_have_args_and_a_yaml_example_that_builds():
    """As kedro-datasets writes them: an Args: section for every argument, and a YAML catalog example that works."""
    init_doc = inspect.getdoc(SnowparkTableDataset.__init__)
    for arg in inspect.signature(SnowparkTableDataset.__init__).parameters:
        if arg != "self":
            assert re.search(rf"^\s+{arg}:", init_doc, re.M), f"Args: lacks {arg}"
    example = re.search(
        r"```yaml\n(.*?)```", inspect.getdoc(SnowparkTableDataset), re.S
    )
    assert example, "no ```yaml example in the class docstring"
    entries = yaml.safe_load(example.group(1))
    credentials = {"snowflake": {"database": DATABASE, "schema": "MODEL_OUTPUT"}}
    for name, entry in entries.items():
        config = dict(entry)
        if isinstance(config.get("credentials"), str):
            config["credentials"] = credentials[config["credentials"]]
        ds = AbstractDataset.from_config(name, config)
        assert isinstance(ds, SnowparkTableDataset)
