"""A node that reads a table it also writes reads it through a second catalog entry (no Kedro
cycle): both entries must name the same table, or the node would read one and grow another."""

from __future__ import annotations

import pytest

from tests.conftest import PROJECT

# (the entry a node reads: the table before this run, the entry it writes)
TWINS = [
    ("previous_scores", "mo_score_history"),
    ("known_stability_reference", "rpt_stability_reference"),
    ("known_drift_reference", "rpt_drift_reference"),
    ("state_mo_application_scores", "mo_application_scores"),
]
WHERE = ("database", "schema", "table_name")


def _catalog():
    from kedro.config import OmegaConfigLoader

    from credit_risk.settings import CONFIG_LOADER_ARGS

    return OmegaConfigLoader(str(PROJECT / "conf"), **CONFIG_LOADER_ARGS)["catalog"]


@pytest.mark.parametrize(("before", "written"), TWINS)
def test_the_entry_read_before_the_run_is_the_table_written(before, written):
    catalog = _catalog()
    read, write = catalog[before], catalog[written]
    assert {k: read[k] for k in WHERE} == {k: write[k] for k in WHERE}
    if "unique_key" in write:  # a history: the same key both ways
        assert read["unique_key"] == write["unique_key"]


def test_a_psi_reference_is_keyed_by_model_version_bins_variable_and_bin():
    from credit_risk.psi_reference import REFERENCE_KEY

    catalog = _catalog()
    for name in ("rpt_stability_reference", "rpt_drift_reference"):
        assert catalog[name]["unique_key"] == REFERENCE_KEY
    assert (
        catalog["rpt_stability_reference"]["table_name"]
        != catalog["rpt_drift_reference"]["table_name"]
    )
