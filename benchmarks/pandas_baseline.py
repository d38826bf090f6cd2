"""Baseline (a): landing files to model input in plain pandas, as a data scientist would write it.

Same rules as the project (read from conf/base): typing, trimming, first-broken-rule
rejects, de-duplication, PII masking, the domain join, point-in-time bureau and history
features, and the hash split. Writes the training and scoring sets as Parquet, and its
timings per layer as JSON.

    python -m benchmarks.pandas_baseline LANDING_DIR OUT_DIR
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import (
    Clock,
    application_numbers,
    baseline_params,
    split_of,
    split_thresholds,
    write_result,
)
from credit_risk.contract import DataContract

DATE = "%Y-%m-%d"
TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def read_source(folder: Path) -> pd.DataFrame:
    """Every CSV part of a landing folder, as text, with its file name."""
    frames = []
    for path in sorted(glob.glob(str(folder / "*.csv"))):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        frame.columns = [c.upper() for c in frame.columns]
        frame["_SOURCE_FILE"] = os.path.basename(path)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def text(s: pd.Series) -> pd.Series:
    """Trimmed text, empty as missing."""
    s = s.str.strip(" ")
    return s.where(s != "")


def first_reason(frame: pd.DataFrame, checks: list[tuple[pd.Series, str]]) -> pd.Series:
    """The first failed check's reason per row (None when all pass)."""
    reason = pd.Series(None, index=frame.index, dtype=object)
    for failed, label in checks:
        reason = reason.where(
            reason.notna() | ~failed.fillna(False).astype(bool), label
        )
    return reason


def split_clean(
    frame: pd.DataFrame,
    reason: pd.Series,
    key: str,
    order: list[str],
    ascending: list[bool],
):
    """Clean rows (first per key by ``order``) and rejected rows with their reason."""
    frame = frame.assign(_REJECT_REASON=reason)
    valid = frame[frame["_REJECT_REASON"].isna()]
    valid = valid.sort_values(
        order, ascending=ascending, na_position="last", kind="stable"
    )
    duplicate = valid.duplicated(key, keep="first")
    clean = valid[~duplicate]
    rejected = pd.concat(
        [
            frame[frame["_REJECT_REASON"].notna()],
            valid[duplicate].assign(_REJECT_REASON=f"duplicate {key.lower()}"),
        ]
    )
    return clean.drop(columns="_REJECT_REASON"), rejected


def unparsed(raw: pd.Series, typed: pd.Series) -> pd.Series:
    return text(raw).notna() & typed.isna()


def out_of_range(typed: pd.Series, bounds) -> pd.Series:
    return typed.notna() & ((typed < bounds[0]) | (typed > bounds[1]))


def clean_applications(raw: pd.DataFrame, rules: DataContract):
    source = rules.sources["applications"]
    numbers = application_numbers(rules)
    t = pd.DataFrame(index=raw.index)
    t["APPLICATION_ID"] = text(raw["APPLICATION_ID"])
    t["APPLICANT_ID"] = text(raw["APPLICANT_ID"])
    t["APPLICATION_DATE"] = pd.to_datetime(
        text(raw["APPLICATION_DATE"]), format=DATE, errors="coerce"
    )
    for name in numbers:
        t[name] = pd.to_numeric(text(raw[name]), errors="coerce")
    t["LOAN_PURPOSE"] = text(raw["LOAN_PURPOSE"]).str.upper()
    t["CREATED_AT"] = pd.to_datetime(
        text(raw["CREATED_AT"]), format=TIMESTAMP, errors="coerce"
    )
    checks = [
        (t["APPLICATION_ID"].isna(), "missing application_id"),
        (t["APPLICANT_ID"].isna(), "missing applicant_id"),
        (text(raw["APPLICATION_DATE"]).isna(), "missing application_date"),
        (t["APPLICATION_DATE"].isna(), "application_date is not a date"),
        (unparsed(raw["CREATED_AT"], t["CREATED_AT"]), "created_at is not a timestamp"),
    ]
    for name in numbers:
        checks.append((unparsed(raw[name], t[name]), f"{name.lower()} is not a number"))
        if (bounds := source.column(name).range) is not None:
            checks.append(
                (
                    out_of_range(t[name], bounds),
                    f"{name.lower()} out of range",
                )
            )
    purposes = source.column("loan_purpose").accepted_values
    checks.append(
        (
            t["LOAN_PURPOSE"].notna() & ~t["LOAN_PURPOSE"].isin(purposes),
            "loan_purpose not accepted",
        )
    )
    t["_SOURCE_FILE"] = raw["_SOURCE_FILE"]
    return split_clean(
        t,
        first_reason(t, checks),
        "APPLICATION_ID",
        ["CREATED_AT", "_SOURCE_FILE"],
        [False, True],
    )


def keyed_hash(values: pd.Series, key: str) -> pd.Series:
    return values.map(
        lambda v: None
        if v is None or pd.isna(v)
        else hashlib.sha256(f"{key}|{v}".encode()).hexdigest()
    )


def clean_applicants(raw: pd.DataFrame, key: str, rules: DataContract):
    dob = pd.to_datetime(text(raw["DATE_OF_BIRTH"]), format=DATE, errors="coerce")
    created = pd.to_datetime(text(raw["CREATED_AT"]), format=TIMESTAMP, errors="coerce")
    low, high = rules.sources["applicants"].column("date_of_birth").year_range
    t = pd.DataFrame(
        {
            "APPLICANT_ID": text(raw["APPLICANT_ID"]),
            "EMAIL_HASH": keyed_hash(text(raw["EMAIL"]).str.lower(), key),
            "PHONE_HASH": keyed_hash(
                text(raw["PHONE"]).str.replace(r"[^0-9]", "", regex=True), key
            ),
            "BIRTH_YEAR": dob.dt.year,
            "CREATED_AT": created,
            "_SOURCE_FILE": raw["_SOURCE_FILE"],
        }
    )
    checks = [
        (t["APPLICANT_ID"].isna(), "missing applicant_id"),
        (unparsed(raw["DATE_OF_BIRTH"], dob), "date_of_birth is not a date"),
        (out_of_range(dob.dt.year, [low, high]), "birth year out of range"),
        (unparsed(raw["CREATED_AT"], created), "created_at is not a timestamp"),
    ]
    return split_clean(
        t,
        first_reason(t, checks),
        "APPLICANT_ID",
        ["CREATED_AT", "_SOURCE_FILE"],
        [False, True],
    )


def clean_bureau_events(
    raw: pd.DataFrame, raw_applicants: pd.DataFrame, rules: DataContract
):
    spec = rules.sources["bureau_events"]
    known = set(text(raw_applicants["APPLICANT_ID"]).dropna())
    t = pd.DataFrame(
        {
            "EVENT_ID": text(raw["EVENT_ID"]),
            "APPLICANT_ID": text(raw["APPLICANT_ID"]),
            "EVENT_DATE": pd.to_datetime(
                text(raw["EVENT_DATE"]), format=DATE, errors="coerce"
            ),
            "EVENT_TYPE": text(raw["EVENT_TYPE"]).str.upper(),
            "AMOUNT": pd.to_numeric(text(raw["AMOUNT"]), errors="coerce"),
            "_SOURCE_FILE": raw["_SOURCE_FILE"],
        }
    )
    checks = [
        (t["EVENT_ID"].isna(), "missing event_id"),
        (t["APPLICANT_ID"].isna(), "missing applicant_id"),
        (~t["APPLICANT_ID"].isin(known), "unknown applicant_id"),
        (t["EVENT_DATE"].isna(), "event_date missing or not a date"),
        (t["EVENT_TYPE"].isna(), "missing event_type"),
        (
            ~t["EVENT_TYPE"].isin(spec.column("event_type").accepted_values),
            "event_type not accepted",
        ),
        (unparsed(raw["AMOUNT"], t["AMOUNT"]), "amount is not a number"),
        (out_of_range(t["AMOUNT"], spec.column("amount").range), "amount out of range"),
    ]
    return split_clean(t, first_reason(t, checks), "EVENT_ID", ["_SOURCE_FILE"], [True])


def clean_loan_outcomes(raw: pd.DataFrame, rules: DataContract):
    spellings = rules.sources["loan_outcomes"].column("defaulted").spellings
    label = text(raw["DEFAULTED"]).str.upper()
    defaulted = pd.Series(np.nan, index=raw.index)
    defaulted[label.isin([str(v) for v in spellings["1"]])] = 1
    defaulted[label.isin([str(v) for v in spellings["0"]])] = 0
    t = pd.DataFrame(
        {
            "APPLICATION_ID": text(raw["APPLICATION_ID"]),
            "OBSERVED_AT": pd.to_datetime(
                text(raw["OBSERVED_AT"]), format=DATE, errors="coerce"
            ),
            "DEFAULTED": defaulted,
            "_SOURCE_FILE": raw["_SOURCE_FILE"],
        }
    )
    checks = [
        (t["APPLICATION_ID"].isna(), "missing application_id"),
        (t["OBSERVED_AT"].isna(), "observed_at missing or not a date"),
        (label.isna(), "missing defaulted"),
        (t["DEFAULTED"].isna(), "defaulted not accepted"),
    ]
    return split_clean(
        t,
        first_reason(t, checks),
        "APPLICATION_ID",
        ["OBSERVED_AT", "_SOURCE_FILE"],
        [False, True],
    )


def build_features(
    apps: pd.DataFrame, events: pd.DataFrame, params: dict
) -> pd.DataFrame:
    """Bureau windows, loan-to-income, history and tenure per application."""
    out = apps.copy()
    out["LOAN_TO_INCOME"] = np.where(
        out["INCOME"] > 0, out["LOAN_AMOUNT"] / out["INCOME"], np.nan
    )
    out["TENURE_DAYS"] = (
        out["APPLICATION_DATE"] - out["APPLICANT_CREATED_AT"].dt.normalize()
    ).dt.days

    pairs = apps[["APPLICATION_ID", "APPLICANT_ID", "APPLICATION_DATE"]].merge(
        events[["APPLICANT_ID", "EVENT_DATE", "EVENT_TYPE", "AMOUNT"]],
        on="APPLICANT_ID",
    )
    age = (pairs["APPLICATION_DATE"] - pairs["EVENT_DATE"]).dt.days
    feats = pd.DataFrame({"APPLICATION_ID": pairs["APPLICATION_ID"]})
    for event_type, windows in params["event_windows_days"].items():
        for days in windows:
            hit = (pairs["EVENT_TYPE"] == event_type) & (age >= 1) & (age <= days)
            feats[f"{event_type}_COUNT_{days}D"] = hit.astype("float64")
    for event_type, windows in params["amount_windows_days"].items():
        for days in windows:
            hit = (pairs["EVENT_TYPE"] == event_type) & (age >= 1) & (age <= days)
            feats[f"{event_type}_AMOUNT_{days}D"] = np.where(
                hit, pairs["AMOUNT"].fillna(0.0), 0.0
            )
    bureau = feats.groupby("APPLICATION_ID").sum()
    out = out.merge(bureau, left_on="APPLICATION_ID", right_index=True, how="left")
    out[bureau.columns] = out[bureau.columns].fillna(0.0)

    this = apps[["APPLICATION_ID", "APPLICANT_ID", "APPLICATION_DATE"]]
    earlier = apps[
        ["APPLICANT_ID", "APPLICATION_DATE", "OBSERVED_AT", "DEFAULTED"]
    ].rename(
        columns={
            "APPLICATION_DATE": "EARLIER_DATE",
            "OBSERVED_AT": "EARLIER_OBSERVED_AT",
            "DEFAULTED": "EARLIER_DEFAULTED",
        }
    )
    history = this.merge(earlier, on="APPLICANT_ID")
    history = history[history["EARLIER_DATE"] < history["APPLICATION_DATE"]]
    history["KNOWN_DEFAULT"] = (
        (history["EARLIER_OBSERVED_AT"] < history["APPLICATION_DATE"])
        & (history["EARLIER_DEFAULTED"] == 1)
    ).astype("float64")
    counts = history.groupby("APPLICATION_ID").agg(
        PREVIOUS_APPLICATIONS=("EARLIER_DATE", "count"),
        PREVIOUS_OBSERVED_DEFAULTS=("KNOWN_DEFAULT", "sum"),
    )
    out = out.merge(counts, left_on="APPLICATION_ID", right_index=True, how="left")
    out["PREVIOUS_APPLICATIONS"] = out["PREVIOUS_APPLICATIONS"].fillna(0)
    out["PREVIOUS_OBSERVED_DEFAULTS"] = out["PREVIOUS_OBSERVED_DEFAULTS"].fillna(0.0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("landing", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--masking-key", default="benchmark-key")
    args = parser.parse_args(argv)
    rules, fe, mi = baseline_params()
    args.out.mkdir(parents=True, exist_ok=True)
    clock = Clock()

    with clock.layer("raw"):
        raw = {
            s: read_source(args.landing / s)
            for s in ("applicants", "applications", "bureau_events", "loan_outcomes")
        }
    with clock.layer("intermediate"):
        applicants, rej_applicants = clean_applicants(
            raw["applicants"], args.masking_key, rules
        )
        applications, rej_applications = clean_applications(raw["applications"], rules)
        events, rej_events = clean_bureau_events(
            raw["bureau_events"], raw["applicants"], rules
        )
        outcomes, rej_outcomes = clean_loan_outcomes(raw["loan_outcomes"], rules)
    counts = {
        "raw": {s: len(f) for s, f in raw.items()},
        "rejected": {
            "applicants": len(rej_applicants),
            "applications": len(rej_applications),
            "bureau_events": len(rej_events),
            "loan_outcomes": len(rej_outcomes),
        },
    }
    del raw
    with clock.layer("primary"):
        apps = (
            applications.drop(columns="_SOURCE_FILE")
            .merge(
                applicants[["APPLICANT_ID", "BIRTH_YEAR", "CREATED_AT"]].rename(
                    columns={"CREATED_AT": "APPLICANT_CREATED_AT"}
                ),
                on="APPLICANT_ID",
                how="left",
            )
            .merge(
                outcomes[["APPLICATION_ID", "OBSERVED_AT", "DEFAULTED"]],
                on="APPLICATION_ID",
                how="left",
            )
        )
        apps["STATUS"] = np.where(apps["DEFAULTED"].isna(), "OPEN", "MATURED")
        events = events[
            ["EVENT_ID", "APPLICANT_ID", "EVENT_DATE", "EVENT_TYPE", "AMOUNT"]
        ]
    with clock.layer("feature"):
        features = build_features(apps, events, fe)
    with clock.layer("model_input"):
        extra = [
            c
            for c in features.columns
            if c.endswith("D") and ("_COUNT_" in c or "_AMOUNT_" in c)
        ]
        columns = [
            *fe["application_fields"],
            "LOAN_TO_INCOME",
            "TENURE_DAYS",
            *extra,
            "PREVIOUS_APPLICATIONS",
            "PREVIOUS_OBSERVED_DEFAULTS",
        ]
        matured = features[features["STATUS"] == "MATURED"].copy()
        thresholds = split_thresholds(mi["split_fractions"])
        matured["SPLIT"] = [
            split_of(i, mi["split_salt"], thresholds) for i in matured["APPLICATION_ID"]
        ]
        if mi.get(
            "out_of_time_from"
        ):  # the out-of-time holdout, as model_input makes it
            late = matured["APPLICATION_DATE"] >= pd.Timestamp(
                str(mi["out_of_time_from"])
            )
            matured.loc[late, "SPLIT"] = "out_of_time"
        matured["DEFAULTED"] = matured["DEFAULTED"].astype("int64")
        training = matured[
            [
                "APPLICATION_ID",
                "APPLICATION_DATE",
                "OBSERVED_AT",
                "SPLIT",
                "DEFAULTED",
                *columns,
            ]
        ]
        scoring = features[features["STATUS"] == "OPEN"][
            ["APPLICATION_ID", "APPLICATION_DATE", *columns]
        ]
        training.to_parquet(args.out / "training_set.parquet", index=False)
        scoring.to_parquet(args.out / "scoring_set.parquet", index=False)
    write_result(
        args.out / "result.json", clock, {"engine": "pandas", "counts": counts}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
