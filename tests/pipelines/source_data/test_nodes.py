"""Value tests of the deterministic source-data generator."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from credit_risk.pipelines.source_data import create_pipeline, nodes
from credit_risk.pipelines.source_data.parameters import SourceDataParams
from tests.conftest import project_contract

CONTRACT = project_contract()
# the generator writes the contract's loan purposes lower-case, as landing files do
PURPOSES = [
    p.lower()
    for p in CONTRACT.sources["applications"].column("loan_purpose").accepted_values
]

PARAMS = {
    "n_applications": 20_000,
    "seed": 42,
    "chunk_size": 7_000,  # three chunks, the last one partial
    "as_of_date": "2026-06-30",
    "start_date": "2021-01-01",
    "maturity_days": 365,
    "land_date": None,
    "land_history": False,
    "mess": {
        "duplicate_rate": 0.01,
        "null_rate": 0.01,
        "casing_whitespace_rate": 0.05,
        "out_of_range_rate": 0.005,
        "malformed_date_rate": 0.005,
        "unknown_applicant_event_rate": 0.005,
        "late_event_rate": 0.0,
    },
    "drift": {
        "from_date": None,
        "default_risk_shift": 0.75,
        "income_factor": 0.75,
        "new_loan_purpose": {"name": "buy_now_pay_later", "share": 0.1},
    },
}
TABLES = ["applicants", "applications", "events", "outcomes", "truth"]
COLUMNS = {
    "applicants": CONTRACT.sources["applicants"].landing_columns,
    "applications": CONTRACT.sources["applications"].landing_columns,
    "events": CONTRACT.sources["bureau_events"].landing_columns,
    "outcomes": CONTRACT.sources["loan_outcomes"].landing_columns,
    "truth": nodes.TRUTH_COLUMNS,
}
AUC_BAND = (0.75, 0.85)
DEFAULT_RATE_BAND = (0.10, 0.20)


def _materialise(params: dict) -> dict[str, list[pd.DataFrame]]:
    """Evaluate every part callable of every table, table by table."""
    outputs = nodes.generate_source_data(
        SourceDataParams.model_validate(params), CONTRACT
    )
    return {
        name: [part() for part in parts.values()]
        for name, parts in zip(TABLES, outputs)
    }


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC via the Mann-Whitney rank statistic."""
    ranks = pd.Series(scores).rank().to_numpy()
    n_pos = labels.sum()
    n_neg = len(labels) - n_pos
    return float((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _labels(defaulted: pd.Series) -> pd.Series:
    """Normalise raw 0/1/Y/N/true/false labels to 0/1 (NaN where missing)."""
    mapping = {"1": 1, "y": 1, "true": 1, "0": 0, "n": 0, "false": 0}
    return defaulted.str.strip().str.lower().map(mapping)


@pytest.fixture(scope="module")
def parts() -> dict[str, list[pd.DataFrame]]:
    nodes._simulate_chunk.cache_clear()
    return _materialise(PARAMS)


@pytest.fixture(scope="module")
def tables(parts) -> dict[str, pd.DataFrame]:
    return {
        name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()
    }


@pytest.fixture(scope="module")
def labelled(tables) -> pd.DataFrame:
    """Truth joined to the (normalised) drawn outcome of each matured application."""
    outcomes = (
        tables["outcomes"]
        .assign(label=lambda d: _labels(d["defaulted"]))
        .dropna(subset=["label"])
    )
    return tables["truth"].merge(
        outcomes[["application_id", "label"]], on="application_id"
    )


def test_pipeline_interface():
    pipe = create_pipeline()
    node, table = pipe.nodes
    assert (table.func, table.inputs, table.outputs) == (
        nodes.answer_key_table,
        ["generator_truth"],
        ["raw_generator_truth"],
    )
    assert node.name == "generate_source_data"
    assert node.func is nodes.generate_source_data
    assert node.inputs == ["params:source_data", "params:data_contract"]
    assert node.outputs == [
        "landing_applicants",
        "landing_applications",
        "landing_bureau_events",
        "landing_loan_outcomes",
        "generator_truth",
    ]


def test_lazy_parts_named_by_chunk():
    nodes._simulate_chunk.cache_clear()
    outputs = nodes.generate_source_data(
        SourceDataParams.model_validate(PARAMS), CONTRACT
    )
    assert nodes._simulate_chunk.cache_info().currsize == 0  # nothing simulated yet
    assert len(outputs) == 5
    for parts in outputs:
        assert list(parts) == ["part-00000", "part-00001", "part-00002"]
        assert all(callable(p) for p in parts.values())


def test_columns_exact_and_landing_tables_are_text(tables):
    for name, frame in tables.items():
        assert list(frame.columns) == COLUMNS[name]
    for name in ["applicants", "applications", "events", "outcomes"]:
        frame = tables[name]
        assert all(dtype is np.dtype(object) for dtype in frame.dtypes)
        values = frame.stack()  # drops missing values
        assert values.map(type).eq(str).all()
    assert tables["truth"]["is_matured"].dtype == bool
    assert tables["truth"]["true_default_probability"].between(0, 1).all()


def test_deterministic_and_chunk_independent(parts):
    nodes._simulate_chunk.cache_clear()
    again = _materialise(copy.deepcopy(PARAMS))
    for name in TABLES:
        for a, b in zip(parts[name], again[name]):
            pd.testing.assert_frame_equal(a, b)
    # a chunk regenerated alone (cold cache, different call order) is identical
    nodes._simulate_chunk.cache_clear()
    outputs = nodes.generate_source_data(
        SourceDataParams.model_validate(PARAMS), CONTRACT
    )
    pd.testing.assert_frame_equal(outputs[3]["part-00002"](), parts["outcomes"][2])
    pd.testing.assert_frame_equal(outputs[1]["part-00002"](), parts["applications"][2])


def test_different_seed_changes_data(parts):
    other = nodes.generate_source_data(
        SourceDataParams.model_validate({**PARAMS, "seed": 7}), CONTRACT
    )[4]["part-00000"]()
    assert not np.allclose(
        other["true_default_probability"], parts["truth"][0]["true_default_probability"]
    )


def test_ids_unique_across_chunks_and_well_formed(tables):
    truth = tables["truth"]
    assert len(truth) == PARAMS["n_applications"]
    assert truth["application_id"].is_unique
    assert truth["application_id"].str.fullmatch(r"L\d{10}").all()
    applicants = tables["applicants"].drop_duplicates()
    assert applicants["applicant_id"].is_unique
    assert applicants["applicant_id"].str.fullmatch(r"A\d{9}").all()
    assert 0.70 < len(applicants) / len(truth) < 0.80
    events = tables["events"].drop_duplicates()
    assert events["event_id"].is_unique
    assert events["event_id"].str.fullmatch(r"E\d{11}").all()
    assert set(tables["applications"]["application_id"]) == set(truth["application_id"])


def test_referential_integrity(tables):
    known = set(tables["applicants"]["applicant_id"])
    assert set(tables["applications"]["applicant_id"]) <= known
    events = tables["events"]
    orphan = ~events["applicant_id"].isin(known)
    assert (
        events.loc[orphan, "applicant_id"]
        .str.startswith(nodes.UNKNOWN_APPLICANT_PREFIX)
        .all()
    )
    assert orphan.mean() == pytest.approx(0.005, abs=0.0015)


def test_open_vs_matured_split(tables):
    apps = tables["applications"].drop_duplicates()
    app_date = pd.to_datetime(
        apps["application_date"], format="%Y-%m-%d", errors="coerce"
    )
    expected = app_date + pd.Timedelta(days=PARAMS["maturity_days"]) <= pd.Timestamp(
        PARAMS["as_of_date"]
    )
    merged = apps.assign(expected=expected).merge(tables["truth"], on="application_id")
    ok = app_date.notna().to_numpy()
    assert (merged.loc[ok, "expected"] == merged.loc[ok, "is_matured"]).all()
    matured_ids = set(
        tables["truth"].loc[tables["truth"]["is_matured"], "application_id"]
    )
    assert set(tables["outcomes"]["application_id"]) == matured_ids
    assert tables["outcomes"]["application_id"].is_unique
    # observed_at is exactly application_date + maturity_days
    obs = tables["outcomes"].merge(
        apps[["application_id", "application_date"]], on="application_id"
    )
    lag = pd.to_datetime(
        obs["observed_at"], format="%Y-%m-%d", errors="coerce"
    ) - pd.to_datetime(obs["application_date"], format="%Y-%m-%d", errors="coerce")
    assert (lag.dropna() == pd.Timedelta(days=PARAMS["maturity_days"])).all()
    assert 0.75 < tables["truth"]["is_matured"].mean() < 0.88


def test_clean_values_in_range_and_age_consistent(tables):
    apps = tables["applications"].drop_duplicates()
    num = apps[
        [
            "age",
            "income",
            "credit_score",
            "employment_length",
            "debt_to_income",
            "previous_defaults",
        ]
    ].apply(pd.to_numeric)
    messy = (
        num["age"].isin([250, -1])
        | (num["income"] < 0)
        | (num["credit_score"] == 9999)
        | (num["debt_to_income"] < 0)
    )
    clean = num[~messy]
    assert clean["credit_score"].dropna().between(300, 850).all()
    assert clean["debt_to_income"].dropna().between(0, 1.5).all()
    assert clean["employment_length"].dropna().between(0, 40).all()
    assert clean["previous_defaults"].dropna().between(0, 5).all()
    assert clean["previous_defaults"].eq(0).mean() > 0.7
    assert 35_000 < clean["income"].median() < 55_000
    assert set(apps["loan_term_months"].dropna()) <= {"12", "24", "36", "48", "60"}
    # age equals completed years between date_of_birth and application_date
    people = tables["applicants"].drop_duplicates("applicant_id")[
        ["applicant_id", "date_of_birth"]
    ]
    joined = apps.merge(people, on="applicant_id").assign(
        age=lambda d: pd.to_numeric(d["age"])
    )
    dob = pd.to_datetime(joined["date_of_birth"], format="%Y-%m-%d", errors="coerce")
    on = pd.to_datetime(joined["application_date"], format="%Y-%m-%d", errors="coerce")
    ok = dob.notna() & on.notna() & joined["age"].between(0, 200)
    years = (
        on.dt.year
        - dob.dt.year
        - ((on.dt.month * 32 + on.dt.day) < (dob.dt.month * 32 + dob.dt.day))
    )
    assert (years[ok] == joined.loc[ok, "age"]).all()
    assert joined.loc[ok, "age"].between(21, 90).all()


def test_mess_rates_roughly_as_configured(tables):
    apps, events, outcomes = (
        tables["applications"],
        tables["events"],
        tables["outcomes"],
    )
    assert apps.duplicated().mean() == pytest.approx(0.01, abs=0.003)
    assert tables["applicants"].duplicated().mean() == pytest.approx(0.01, abs=0.004)
    assert events.duplicated().mean() == pytest.approx(0.01, abs=0.003)
    assert (
        apps["application_id"].duplicated().sum() == apps.duplicated().sum()
    )  # copies are exact
    assert outcomes["application_id"].is_unique
    assert tables["truth"]["application_id"].is_unique

    apps = apps.drop_duplicates()
    assert apps["income"].isna().mean() == pytest.approx(0.01, abs=0.003)
    assert apps["application_id"].notna().all() and apps["applicant_id"].notna().all()

    purpose = apps["loan_purpose"].dropna()
    assert (~purpose.isin(PURPOSES)).mean() == pytest.approx(0.05, abs=0.01)
    assert purpose.str.strip().str.lower().isin(PURPOSES).all()
    etype = events["event_type"].dropna()
    assert (~etype.isin(nodes.EVENT_TYPES)).mean() == pytest.approx(0.05, abs=0.01)

    num = apps[["age", "income", "credit_score", "debt_to_income"]].apply(pd.to_numeric)
    out_of_range = (
        num["age"].isin([250, -1])
        | (num["income"] < 0)
        | (num["credit_score"] == 9999)
        | (num["debt_to_income"] < 0)
    )
    assert out_of_range.mean() == pytest.approx(0.005, abs=0.002)

    dates = apps["application_date"].dropna()
    malformed = pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce").isna()
    assert malformed.mean() == pytest.approx(0.005, abs=0.002)
    assert set(dates[malformed]) <= set(nodes.MALFORMED_DATES)

    labels = outcomes["defaulted"].dropna()
    assert (~labels.isin(["0", "1"])).mean() == pytest.approx(0.05, abs=0.01)
    assert _labels(labels).notna().all()


def test_default_rate_in_range(labelled):
    assert DEFAULT_RATE_BAND[0] < labelled["label"].mean() < DEFAULT_RATE_BAND[1]
    assert labelled["label"].mean() == pytest.approx(
        labelled["true_default_probability"].mean(), abs=0.015
    )


def test_ceiling_auc_in_documented_band(labelled):
    auc = _auc(
        labelled["label"].to_numpy(), labelled["true_default_probability"].to_numpy()
    )
    assert AUC_BAND[0] < auc < AUC_BAND[1]


def test_count_events_in_window_is_strictly_before():
    owner = np.array([0, 0, 0, 0, 1])
    day = np.array([100, 465, 466, 500, 400])
    counts = nodes.count_events_in_window(
        owner, day, np.array([0, 0, 1, 2]), np.array([466, 501, 401, 466]), 365
    )
    # owner 0 at 466: days 101..465 -> {465}; at 501: 136..500 -> {465, 466, 500}
    np.testing.assert_array_equal(counts, [1, 3, 1, 0])


def _delinquency_counts(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Clean DELINQUENCY events per application in the last 12 months and the 12 before."""
    events = tables["events"].drop_duplicates()
    kind = events["event_type"].str.strip().str.upper()
    events = events[kind == "DELINQUENCY"]
    apps = tables["applications"].drop_duplicates()
    pairs = apps[["application_id", "applicant_id", "application_date"]].merge(
        events[["applicant_id", "event_date"]], on="applicant_id"
    )
    gap = (
        _parse_dates(pairs["application_date"]) - _parse_dates(pairs["event_date"])
    ).dt.days
    counts = (
        pd.DataFrame(
            {
                "recent": gap.between(1, 365),  # strictly before the application date
                "previous_year": gap.between(366, 730),
                "application_id": pairs["application_id"],
            }
        )
        .groupby("application_id")[["recent", "previous_year"]]
        .sum()
    )
    return counts.reindex(apps["application_id"].unique(), fill_value=0)


def _parse_dates(values: pd.Series) -> pd.Series:
    """Parse ISO dates, NaT for malformed or missing ones."""
    return pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")


def test_recent_delinquencies_raise_default_rate(tables, labelled):
    data = labelled.join(_delinquency_counts(tables), on="application_id")
    rate = data.groupby(data["recent"].clip(upper=2))["label"].mean()
    assert rate[0] < rate[1] < rate[2]
    assert rate[1] - rate[0] > 0.08
    # the window matters, not only the applicant's riskiness: one delinquency in the
    # last 12 months is worse than one in the 12 months before (same exposure length)
    in_window = data[(data["recent"] == 1) & (data["previous_year"] == 0)]
    before_window = data[(data["recent"] == 0) & (data["previous_year"] == 1)]
    assert len(in_window) > 500 and len(before_window) > 500
    assert in_window["label"].mean() - before_window["label"].mean() > 0.04


def test_landing_events_reproduce_simulated_delinquency_counts(tables):
    cfg = nodes.parse_config(SourceDataParams.model_validate(PARAMS), CONTRACT)
    sims = [nodes.simulate_chunk(cfg, i).applications for i in range(cfg.n_chunks)]
    simulated = pd.Series(
        np.concatenate([s.delinquencies_12m for s in sims]),
        index=tables["truth"]["application_id"],
    )
    landing = _delinquency_counts(tables)["recent"].reindex(simulated.index)
    # mess can only hide events (null/malformed date or type), never add real ones
    assert (landing <= simulated).all()
    assert (landing == simulated).mean() > 0.97
    assert simulated.sum() > 0.1 * len(simulated)


def test_protected_group_is_in_the_answer_key_only_and_leans_on_risk(tables):
    truth = tables["truth"]
    assert set(truth["protected_group"]) == {"A", "B"}
    for name in ["applicants", "applications", "events", "outcomes"]:  # landing files
        assert not any("group" in c.lower() for c in tables[name].columns)
        assert not tables[name].isin(["A", "B"]).all(axis=0).any()
    # one group per applicant: every application of an applicant carries the same group
    owners = tables["applications"].drop_duplicates("application_id")[
        ["application_id", "applicant_id"]
    ]
    by_owner = truth.merge(owners, on="application_id").groupby("applicant_id")
    assert (by_owner["protected_group"].nunique() == 1).all()
    share_b = (truth["protected_group"] == "B").mean()
    assert (
        0.2 < share_b < 0.4
    )  # sigmoid(-0.85) = 0.30 at z = 0; slope widens it a little
    mean_p = truth.groupby("protected_group")["true_default_probability"].mean()
    assert mean_p["B"] > mean_p["A"]  # membership leans on the latent risk


def _contract_with(change) -> object:
    """The project's contract with ``change`` applied to a plain copy of it."""
    values = CONTRACT.model_dump()
    change(values["sources"])
    return type(CONTRACT).model_validate(values)


def test_the_landing_columns_are_the_contracts_in_its_order():
    outputs = nodes.generate_source_data(
        SourceDataParams.model_validate(PARAMS), CONTRACT
    )
    for source, parts in zip(CONTRACT.sources, outputs, strict=False):
        frame = parts["part-00000"]()
        assert list(frame.columns) == CONTRACT.sources[source].landing_columns


def test_a_contract_column_the_generator_does_not_write_is_refused_by_name():
    def add(sources):
        sources["applications"]["columns"]["savings"] = {"type": "decimal"}

    outputs = nodes.generate_source_data(
        SourceDataParams.model_validate(PARAMS), _contract_with(add)
    )
    with pytest.raises(ValueError, match=r"contract only has \['savings'\]"):
        outputs[1]["part-00000"]()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["applications"]["columns"]["loan_purpose"][
                "accepted_values"
            ].append("TRAVEL"),
            "8 loan purposes .* a share for 7",
        ),
        (
            lambda s: s["bureau_events"]["columns"]["event_type"][
                "accepted_values"
            ].remove("DELINQUENCY"),
            r"bureau events of type \['DELINQUENCY'\]",
        ),
    ],
)
def test_a_contract_the_generators_world_does_not_fit_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        nodes.parse_config(
            SourceDataParams.model_validate(PARAMS), _contract_with(change)
        )


def test_the_answer_key_table_has_the_in_warehouse_generators_columns():
    outputs = nodes.generate_source_data(
        SourceDataParams.model_validate(PARAMS), CONTRACT
    )
    table = nodes.answer_key_table(outputs[-1])
    assert list(table.columns) == [c.upper() for c in nodes.TRUTH_COLUMNS]
    assert len(table) == PARAMS["n_applications"]
    assert table["APPLICATION_ID"].is_unique
