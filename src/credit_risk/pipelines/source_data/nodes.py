"""Deterministic, chunked generator of the raw landing data of the credit-risk world.

Each chunk of the world is first simulated numerically (applicants, their bureau
events, their applications, the true default probabilities and the drawn
outcomes); each landing table is then rendered as raw text and made messy.
Tables are returned as dicts of zero-argument callables, one per part, so that
nothing is computed until a dataset asks for a part. With ``land_date`` set, the same
world is simulated and only that day's records are returned, one file per landing table
named by the date. See ``docs/source_data.md``.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from credit_risk.contract import DataContract
from credit_risk.datasets.landing_files import FilesBeside
from credit_risk.pipelines.source_data.parameters import SourceDataParams

logger = logging.getLogger(__name__)

Part = Callable[[], pd.DataFrame]
PartDict = dict[str, Part]

TRUTH_COLUMNS = [
    "application_id",
    "true_default_probability",
    "is_matured",
    "protected_group",
]

FIRST_NAMES = np.array(
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David "
    "Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher "
    "Nancy Daniel Lisa Matthew Margaret Anthony Betty Mark Sandra Donald Ashley "
    "Steven Emily Paul Donna Andrew Michelle Joshua Carol Kenneth Amanda Kevin "
    "Melissa Brian Deborah George Stephanie Oliver Amelia".split(),
    dtype=object,
)
LAST_NAMES = np.array(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright "
    "Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan "
    "Lewis James Phillips Mason Mitchell Rose Davis Rodriguez Cox Alexander Morgan "
    "Moore Martin Price Hughes Edwards Turner Hill Cooper Ward Morris King Baker "
    "Harris Lee Allen Scott Young".split(),
    dtype=object,
)
STREETS = np.array(
    "Church Station Victoria Park London Manor Mill Queens Kings Alexandra Albert "
    "New Grange Springfield Highfield Windsor York Stanley Richmond Chester "
    "Broadway Green Meadow Orchard Bridge".split(),
    dtype=object,
)
CITIES = np.array(
    "London Manchester Birmingham Leeds Glasgow Liverpool Bristol Sheffield "
    "Edinburgh Cardiff Leicester Nottingham Newcastle Brighton Southampton Belfast "
    "Oxford Cambridge York Aberdeen".split(),
    dtype=object,
)
# The share of each loan purpose, in the order of the data contract's accepted values
# (applications.loan_purpose); the generator writes them lower-case, as landing files do.
LOAN_PURPOSE_PROBS = np.array([0.35, 0.15, 0.18, 0.07, 0.06, 0.07, 0.12])
LOAN_TERMS = np.array([12, 24, 36, 48, 60])
LOAN_TERM_PROBS = np.array([0.10, 0.20, 0.35, 0.15, 0.20])
# The kinds of bureau event the world simulates (each has its own rate and amounts); each
# must be one of the data contract's accepted values of bureau_events.event_type.
EVENT_TYPES = np.array(["INQUIRY", "DELINQUENCY", "NEW_ACCOUNT"], dtype=object)
INQUIRY, DELINQUENCY, NEW_ACCOUNT = 0, 1, 2
MALFORMED_DATES = np.array(["2024-13-45", "31/02/2024", "not a date"], dtype=object)
OUT_OF_RANGE_VALUES = (
    ("age", "250"),
    ("age", "-1"),
    ("credit_score", "9999"),
    ("debt_to_income", "-0.5"),
)
MESSY_LABELS = np.array([["N", "false", "False"], ["Y", "true", "True"]], dtype=object)

APPLICANTS_PER_APPLICATION = 0.75
EVENT_ID_BLOCK_PER_APPLICATION = 100  # event ids reserved per application slot
HISTORY_YEARS = 3  # bureau history starts this many years before start_date
DELINQUENCY_WINDOW_DAYS = 365
UNKNOWN_APPLICANT_PREFIX = "A999"  # orphan events: A999xxxxxx, above any real id

# Risk model (docs/source_data.md):
#   logit(p) = intercept + sum(coefficient * feature) + u,  u ~ N(0, LATENT_NOISE_SD)
#   credit_score_gap = (650 - credit_score) / 100, loan_to_income = loan / income,
#   delinquencies_12m = DELINQUENCY events on [application_date - 365d, -1d].
RISK_INTERCEPT = -2.6
RISK_COEFFICIENTS = {
    "credit_score_gap": 1.0,
    "debt_to_income": 1.2,
    "delinquencies_12m": 0.55,
    "loan_to_income": 1.0,
    "previous_defaults": 0.45,
}
LATENT_NOISE_SD = 0.8
# Bureau event rates per applicant-year; delinquency rate = exp(a + b * z).
INQUIRY_RATE = 0.35
NEW_ACCOUNT_RATE = 0.20
DELINQUENCY_LOG_RATE = (-2.2, 0.9)

SALT_SIMULATION = 0
SALT_APPLICANTS = 1
SALT_APPLICATIONS = 2
SALT_EVENTS = 3
SALT_OUTCOMES = 4
SALT_PROTECTED_GROUP = 5
SALT_RESEND = 6
SALT_DRIFT = 7  # the drift's own draws (who gets the new loan purpose)
# A duplicated landing row (the mess) is a record sent again: in day-by-day landing the copy
# arrives 0..RESEND_MAX_DELAY_DAYS days after its original (never after as_of_date), in a
# later day's file as often as not; a whole-period generation holds both in one file.
RESEND_MAX_DELAY_DAYS = 3
# A late bureau event (mess.late_event_rate) is reported 1..LATE_EVENT_MAX_DELAY_DAYS days
# after its event date (never after as_of_date): in day-by-day landing it arrives in a later
# day's file, after applications dated in between, whose point-in-time features it changes.
LATE_EVENT_MAX_DELAY_DAYS = 10
SALT_LATE = 8
# The simulated protected group (answer key only, never in landing data): each applicant is
# in group B with probability sigmoid(GROUP_B_LOGIT + GROUP_B_RISK_SLOPE * z), A otherwise.
# Membership leans on the latent risk z, as a real protected class correlates with credit
# history: a group-blind model still approves B less often (docs/source_data.md).
PROTECTED_GROUPS = ("A", "B")
GROUP_B_LOGIT = -0.85  # about 30 % of applicants in B
GROUP_B_RISK_SLOPE = 0.5
SECONDS_PER_DAY = 86_400
STR = StringDType()


@dataclass(frozen=True)
class SourceConfig:
    """Validated generator parameters (dates as day numbers since 1970-01-01)."""

    n_applications: int
    seed: int
    chunk_size: int
    start_day: int
    as_of_day: int
    maturity_days: int
    duplicate_rate: float
    null_rate: float
    casing_whitespace_rate: float
    out_of_range_rate: float
    malformed_date_rate: float
    unknown_applicant_event_rate: float
    late_event_rate: float
    # from the data contract: each landing table's columns, and the usual loan purposes
    landing_columns: Mapping[str, list[str]]
    base_loan_purposes: np.ndarray
    land_day: int | None = None  # land only this day's records (None: the whole period)
    # the drift (docs/source_data.md "A world that drifts"); drift_day None: no drift
    drift_day: int | None = None
    default_risk_shift: float = 0.0
    income_factor: float = 1.0
    new_loan_purpose: str | None = None
    new_loan_purpose_share: float = 0.0

    @property
    def loan_purposes(self) -> np.ndarray:
        """The loan purposes of the world: the usual ones, then the drift's new one if any."""
        if self.drift_day is None or self.new_loan_purpose is None:
            return self.base_loan_purposes
        return np.append(
            self.base_loan_purposes, np.array([self.new_loan_purpose], dtype=object)
        )

    @property
    def n_chunks(self) -> int:
        """Number of parts (chunks) of each table."""
        return -(-self.n_applications // self.chunk_size)

    @property
    def history_start_day(self) -> int:
        """First day on which bureau events can occur."""
        start = pd.Timestamp(_day_to_str(self.start_day))
        return _date_to_day(str((start - pd.DateOffset(years=HISTORY_YEARS)).date()))


@dataclass(frozen=True)
class ChunkBounds:
    """Global offsets and sizes of one chunk."""

    index: int
    application_offset: int
    n_applications: int
    applicant_offset: int
    n_applicants: int
    event_offset: int


@dataclass(frozen=True)
class ApplicantSim:
    """Applicants of a chunk, indexed by local applicant number."""

    number: np.ndarray  # global applicant number
    latent_risk: np.ndarray  # z: drives score, delinquencies, previous defaults
    latent_noise: np.ndarray  # u: enters the risk formula only
    first_application_day: np.ndarray
    dob_day: np.ndarray
    created_sec: np.ndarray
    first_name_idx: np.ndarray
    last_name_idx: np.ndarray
    phone_num: np.ndarray
    street_no: np.ndarray
    street_idx: np.ndarray
    city_idx: np.ndarray


@dataclass(frozen=True)
class EventSim:
    """Bureau events of a chunk, sorted by (day, owner)."""

    number: np.ndarray  # global event number
    owner: np.ndarray  # local applicant number
    day: np.ndarray
    kind: np.ndarray  # INQUIRY / DELINQUENCY / NEW_ACCOUNT
    amount_cents: np.ndarray  # -1 where the event has no amount


@dataclass(frozen=True)
class ApplicationSim:
    """Applications of a chunk, sorted by (day, owner), with their truth and outcome."""

    number: np.ndarray  # global application number
    owner: np.ndarray  # local applicant number
    day: np.ndarray
    age: np.ndarray
    income: np.ndarray
    credit_score: np.ndarray
    employment_tenths: np.ndarray
    loan_amount: np.ndarray
    loan_term: np.ndarray
    dti_thousandths: np.ndarray
    credit_lines: np.ndarray
    previous_defaults: np.ndarray
    purpose_idx: np.ndarray
    created_sec: np.ndarray
    delinquencies_12m: np.ndarray
    true_probability: np.ndarray
    defaulted: np.ndarray
    is_matured: np.ndarray


@dataclass(frozen=True)
class ChunkSimulation:
    """Numeric simulation of one chunk (read-only: builders must not mutate it)."""

    bounds: ChunkBounds
    applicants: ApplicantSim
    events: EventSim
    applications: ApplicationSim


TableBuilder = Callable[[SourceConfig, ChunkSimulation], pd.DataFrame]
# A landing table of one chunk, with the day each row lands on (in the same order).
DatedTable = tuple[pd.DataFrame, np.ndarray]
DatedTableBuilder = Callable[[SourceConfig, ChunkSimulation], DatedTable]


# ----------------------------------------------------------------------------- node


def generate_source_data(
    params: SourceDataParams, contract: DataContract
) -> tuple[PartDict, PartDict, PartDict, PartDict, PartDict]:
    """Lazy parts of applicants, applications, bureau events, outcomes and truth.

    The columns and loan purposes are the data contract's. With ``land_date`` set, each
    landing table is one file of that day's records (with ``land_history``, of every record
    up to that day), named by the date and written beside earlier days' files; the truth is
    the whole world's.
    """
    cfg = parse_config(params, contract)
    key = _params_key(
        params.model_copy(update={"land_date": None, "land_history": False}), contract
    )

    def parts(table: str, builder: TableBuilder) -> PartDict:
        return {
            _part_name(i): functools.partial(_build_part, key, i, table, builder)
            for i in range(cfg.n_chunks)
        }

    truth = parts("generator_truth", build_truth)
    if cfg.land_day is not None:
        day = _day_to_str(cfg.land_day)
        first = cfg.history_start_day if params.land_history else cfg.land_day
        return (
            *(
                FilesBeside(
                    {
                        day: functools.partial(
                            _day_table, key, first, cfg.land_day, table
                        )
                    },
                    refuse="part-*.csv",
                    advice="They are a whole-period generation, which already holds this "
                    "day: land days into an empty folder (delete the part files first).",
                )
                for table in DATED_BUILDERS
            ),
            truth,
        )
    return (
        parts("landing_applicants", build_applicants),
        parts("landing_applications", build_applications),
        parts("landing_bureau_events", build_bureau_events),
        parts("landing_loan_outcomes", build_loan_outcomes),
        truth,
    )


# ----------------------------------------------------------------------------- config


def _from_contract(contract: DataContract) -> dict[str, Any]:
    """What the generator takes from the data contract: columns and loan purposes."""
    applications = contract.sources["applications"]
    purposes = applications.column("loan_purpose").accepted_values or []
    if len(purposes) != len(LOAN_PURPOSE_PROBS):
        raise ValueError(
            f"the data contract has {len(purposes)} loan purposes ({', '.join(purposes)}) "
            f"and the generator a share for {len(LOAN_PURPOSE_PROBS)}: give each its share "
            "in LOAN_PURPOSE_PROBS (src/credit_risk/pipelines/source_data/nodes.py)"
        )
    accepted = contract.sources["bureau_events"].column("event_type").accepted_values
    if unknown := [e for e in EVENT_TYPES if e not in (accepted or [])]:
        raise ValueError(
            f"the generator simulates bureau events of type {unknown}, which the data "
            f"contract does not accept ({accepted})"
        )
    return {
        "landing_columns": {
            name: source.landing_columns for name, source in contract.sources.items()
        },
        "base_loan_purposes": np.array([p.lower() for p in purposes], dtype=object),
    }


def parse_config(params: SourceDataParams, contract: DataContract) -> SourceConfig:
    """The generator's config from its typed parameters and the data contract (Kedro has
    validated both)."""
    drift = params.drift
    new_purpose = drift.new_loan_purpose
    given = _from_contract(contract)
    purposes = list(given["base_loan_purposes"])
    if new_purpose is not None and new_purpose.name in purposes:
        raise ValueError(
            f"source_data.drift.new_loan_purpose.name {new_purpose.name!r} is already a "
            f"loan purpose ({', '.join(purposes)}): name a new one, or set "
            "new_loan_purpose to null"
        )
    cfg = SourceConfig(
        **given,
        n_applications=params.n_applications,
        seed=params.seed,
        chunk_size=params.chunk_size,
        start_day=_date_to_day(params.start_date.isoformat()),
        as_of_day=_date_to_day(params.as_of_date.isoformat()),
        maturity_days=params.maturity_days,
        **params.mess.model_dump(),
        land_day=None
        if params.land_date is None
        else _date_to_day(params.land_date.isoformat()),
        drift_day=None
        if drift.from_date is None
        else _date_to_day(drift.from_date.isoformat()),
        default_risk_shift=drift.default_risk_shift,
        income_factor=drift.income_factor,
        new_loan_purpose=None if new_purpose is None else new_purpose.name,
        new_loan_purpose_share=0.0 if new_purpose is None else new_purpose.share,
    )
    if cfg.land_day is not None and not (
        cfg.history_start_day <= cfg.land_day <= cfg.as_of_day
    ):
        raise ValueError(
            f"source_data.land_date {_day_to_str(cfg.land_day)} is outside the generated "
            f"world: records are dated {_day_to_str(cfg.history_start_day)} (bureau history, "
            f"{HISTORY_YEARS} years before start_date) to as_of_date "
            f"{_day_to_str(cfg.as_of_day)}; pick a day in that range (a later as_of_date "
            "is another world: every record changes)"
        )
    return cfg


def chunk_bounds(cfg: SourceConfig, index: int) -> ChunkBounds:
    """Global id offsets and sizes of chunk ``index`` (applicants never span chunks)."""
    app_offset = index * cfg.chunk_size
    n_apps = min(cfg.chunk_size, cfg.n_applications - app_offset)
    return ChunkBounds(
        index=index,
        application_offset=app_offset,
        n_applications=n_apps,
        applicant_offset=index * _n_applicants(cfg.chunk_size),
        n_applicants=_n_applicants(n_apps),
        event_offset=app_offset * EVENT_ID_BLOCK_PER_APPLICATION,
    )


def _n_applicants(n_apps: int) -> int:
    """Number of applicants sharing ``n_apps`` applications (at least one each)."""
    return max(1, round(APPLICANTS_PER_APPLICATION * n_apps)) if n_apps > 0 else 0


def _params_key(params: SourceDataParams, contract: DataContract) -> str:
    """Hashable, canonical representation of the parameters and the contract (JSON)."""
    return json.dumps([params.model_dump_json(), contract.model_dump_json()])


@functools.lru_cache(maxsize=4)
def _config(key: str) -> SourceConfig:
    """The config of ``key`` (see _params_key)."""
    params, contract = json.loads(key)
    return parse_config(
        SourceDataParams.model_validate_json(params),
        DataContract.model_validate_json(contract),
    )


def _part_name(index: int) -> str:
    """File part name of chunk ``index``."""
    return f"part-{index:05d}"


def _build_part(
    key: str, index: int, table: str, builder: TableBuilder
) -> pd.DataFrame:
    """Build one part of one table, logging progress."""
    cfg = _config(key)
    bounds = chunk_bounds(cfg, index)
    done = bounds.application_offset + bounds.n_applications
    logger.info(
        "source_data: %s chunk %d/%d (%s applications)",
        table,
        index + 1,
        cfg.n_chunks,
        f"{done:,}",
    )
    return builder(cfg, _simulate_chunk(key, index))


def _day_table(key: str, first: int, last: int, table: str) -> pd.DataFrame:
    """The records of ``table`` that land on days ``first`` to ``last`` (an empty frame if none do)."""
    return _day_tables(key, first, last)[table]


@functools.lru_cache(maxsize=1)
def _day_tables(key: str, first: int, last: int) -> dict[str, pd.DataFrame]:
    """Every landing table's records of days ``first`` to ``last`` (one day, or the history up
    to it): the whole world rendered, chunk by chunk."""
    cfg = _config(key)
    logger.info(
        "source_data: landing %s from a world of %s applications (%d chunks)",
        _day_to_str(last)
        if first == last
        else f"{_day_to_str(first)} to {_day_to_str(last)}",
        f"{cfg.n_applications:,}",
        cfg.n_chunks,
    )
    picked: dict[str, list[pd.DataFrame]] = {table: [] for table in DATED_BUILDERS}
    for index in range(cfg.n_chunks):
        for table in DATED_BUILDERS:
            frame, days = _rendered_chunk(key, index, table)
            picked[table].append(frame[(days >= first) & (days <= last)])
    return {
        table: pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=cfg.landing_columns[table], dtype=object)
        for table, frames in picked.items()
    }


def _rendered_chunk(key: str, index: int, table: str) -> DatedTable:
    """Landing table ``table`` of chunk ``index``, with each row's landing day.

    Not cached: a run lands one day, so each is rendered once, and only one is in memory.
    """
    cfg = _config(key)
    return DATED_BUILDERS[table](cfg, _simulate_chunk(key, index))


# ----------------------------------------------------------------------------- simulation


@functools.lru_cache(maxsize=2)
def _simulate_chunk(key: str, index: int) -> ChunkSimulation:
    """Cached simulation of chunk ``index`` of the world described by ``key``."""
    return simulate_chunk(_config(key), index)


def simulate_chunk(cfg: SourceConfig, index: int) -> ChunkSimulation:
    """Simulate applicants, bureau events, applications and outcomes of one chunk."""
    bounds = chunk_bounds(cfg, index)
    rng = np.random.default_rng([cfg.seed, index, SALT_SIMULATION])
    owner, app_day = _assign_applications(rng, bounds, cfg.start_day, cfg.as_of_day)
    applicants = _simulate_applicants(rng, bounds, owner, app_day)
    events = _simulate_events(
        rng, applicants.latent_risk, cfg.history_start_day, cfg.as_of_day, bounds
    )
    applications = _simulate_applications(
        rng, cfg, bounds, applicants, events, owner, app_day
    )
    return ChunkSimulation(bounds, applicants, events, applications)


def _assign_applications(
    rng: np.random.Generator, bounds: ChunkBounds, start_day: int, as_of_day: int
) -> tuple[np.ndarray, np.ndarray]:
    """Owner and day of each application, sorted by (day, owner), no same-day repeats."""
    n_applicants, n_apps = bounds.n_applicants, bounds.n_applications
    extra = rng.integers(0, n_applicants, n_apps - n_applicants)
    owner = np.concatenate([np.arange(n_applicants, dtype=np.int64), extra])
    day = rng.integers(start_day, as_of_day + 1, n_apps)
    for _ in range(50):
        clash = _same_day_repeats(owner, day)
        if not clash.any():
            break
        day[clash] = rng.integers(start_day, as_of_day + 1, int(clash.sum()))
    order = np.lexsort((owner, day))
    return owner[order], day[order]


def _same_day_repeats(owner: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Mask of applications repeating an earlier (owner, day) pair."""
    key = owner * 1_000_000 + day
    order = np.argsort(key, kind="stable")
    repeat = np.zeros(len(key), dtype=bool)
    repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
    return repeat


def _first_day_per_owner(
    owner: np.ndarray, day: np.ndarray, n_owners: int
) -> np.ndarray:
    """Earliest application day of each applicant (input sorted by day)."""
    _, first_index = np.unique(owner, return_index=True)
    first = np.empty(n_owners, dtype=np.int64)
    first[owner[first_index]] = day[first_index]
    return first


def _simulate_applicants(
    rng: np.random.Generator,
    bounds: ChunkBounds,
    owner: np.ndarray,
    app_day: np.ndarray,
) -> ApplicantSim:
    """Latent risk, PII and dates of the applicants of a chunk."""
    na = bounds.n_applicants
    first_day = _first_day_per_owner(owner, app_day, na)
    age_days = rng.integers(21 * 366, 76 * 365, na)  # calendar age 21..75 at first
    onboarding_day = first_day - rng.integers(0, 31, na)
    return ApplicantSim(
        number=bounds.applicant_offset + np.arange(na, dtype=np.int64),
        latent_risk=rng.standard_normal(na),
        latent_noise=rng.normal(0.0, LATENT_NOISE_SD, na),
        first_application_day=first_day,
        dob_day=first_day - age_days,
        created_sec=onboarding_day * SECONDS_PER_DAY
        + rng.integers(7 * 3600, 12 * 3600, na),
        first_name_idx=rng.integers(0, len(FIRST_NAMES), na),
        last_name_idx=rng.integers(0, len(LAST_NAMES), na),
        phone_num=rng.integers(0, 100_000, na),
        street_no=rng.integers(1, 250, na),
        street_idx=rng.integers(0, len(STREETS), na),
        city_idx=rng.integers(0, len(CITIES), na),
    )


def _simulate_events(
    rng: np.random.Generator,
    latent_risk: np.ndarray,
    first_day: int,
    last_day: int,
    bounds: ChunkBounds,
) -> EventSim:
    """Poisson bureau events per applicant over [first_day, last_day], by (day, owner)."""
    n = len(latent_risk)
    years = (last_day - first_day + 1) / 365.25
    delinquency_rate = np.exp(
        DELINQUENCY_LOG_RATE[0] + DELINQUENCY_LOG_RATE[1] * latent_risk
    )
    counts = np.stack(
        [
            rng.poisson(INQUIRY_RATE * years, n),
            rng.poisson(delinquency_rate * years),
            rng.poisson(NEW_ACCOUNT_RATE * years, n),
        ]
    )
    applicant = np.arange(n, dtype=np.int64)
    owner = np.concatenate([np.repeat(applicant, c) for c in counts])
    kind = np.repeat(np.array([INQUIRY, DELINQUENCY, NEW_ACCOUNT]), counts.sum(axis=1))
    day = rng.integers(first_day, last_day + 1, len(owner))
    amount = _event_amounts(rng, kind)
    order = np.lexsort((owner, day))
    return EventSim(
        number=bounds.event_offset + np.arange(len(order), dtype=np.int64),
        owner=owner[order],
        day=day[order],
        kind=kind[order],
        amount_cents=amount[order],
    )


def _event_amounts(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """Cents: delinquencies 50-5000, new-account limits 500-25000, inquiries -1."""
    n = len(kind)
    arrears = np.clip(rng.lognormal(np.log(400.0), 0.9, n), 50.0, 5_000.0)
    limit = np.round(
        np.clip(rng.lognormal(np.log(3_000.0), 0.8, n), 500.0, 25_000.0), -2
    )
    amount = np.round(np.where(kind == DELINQUENCY, arrears, limit) * 100)
    return np.where(kind == INQUIRY, -1, amount).astype(np.int64)


def _simulate_applications(  # noqa: PLR0913 - one stage of the chunk simulation
    rng: np.random.Generator,
    cfg: SourceConfig,
    bounds: ChunkBounds,
    applicants: ApplicantSim,
    events: EventSim,
    owner: np.ndarray,
    day: np.ndarray,
) -> ApplicationSim:
    """Applicant-consistent application attributes, true risk and drawn outcome."""
    n, na = len(owner), bounds.n_applicants
    risk, z = applicants.latent_risk, applicants.latent_risk[owner]
    base_income = np.exp(np.log(45_000) - 0.10 * risk + rng.normal(0.0, 0.45, na))
    base_score = 690.0 - 65.0 * risk + rng.normal(0.0, 30.0, na)
    first_age = (applicants.first_application_day - applicants.dob_day) / 365.25
    max_tenure = np.maximum(first_age - 18.0, 0.0)
    base_employment = np.minimum(rng.gamma(2.0, 3.5, na), max_tenure)
    previous_defaults = np.minimum(rng.poisson(np.exp(-2.3 + 0.9 * risk)), 5)

    # the drift: from drift_day on, incomes fall by income_factor (loan amounts, drawn from
    # the income before the shock, do not) and true risk rises by default_risk_shift; before
    # it every factor is exactly 1 and every shift 0, so those records are unchanged
    shifted = _shifted(cfg, day)
    unshocked = base_income[owner] * np.exp(rng.normal(0.0, 0.05, n))
    income = np.round(unshocked * np.where(shifted, cfg.income_factor, 1.0), -2)
    income = income.clip(6_000, None).astype(np.int64)
    unshocked = np.round(unshocked, -2).clip(6_000, None).astype(np.int64)
    score = np.round(base_score[owner] + rng.normal(0.0, 10.0, n)).clip(300, 850)
    since_first = (day - applicants.first_application_day[owner]) / 365.25
    tenure = base_employment[owner] + since_first
    loan_ratio = np.exp(np.log(0.20) + 0.10 * z + rng.normal(0.0, 0.55, n))
    loan_amount = (
        np.round(unshocked * loan_ratio, -2).clip(1_000, 60_000).astype(np.int64)
    )
    loan_term = rng.choice(LOAN_TERMS, size=n, p=LOAN_TERM_PROBS)
    dti = np.clip(rng.gamma(4.0, 0.075, n) + 0.05 * z, 0.0, 1.5)
    dti_thousandths = np.round(dti * 1000).astype(np.int64)
    credit_lines = np.minimum(rng.poisson(6.0 + 1.5 * np.abs(z)), 30)
    purpose_idx = rng.choice(len(LOAN_PURPOSE_PROBS), size=n, p=LOAN_PURPOSE_PROBS)
    purpose_idx = _with_new_purpose(cfg, bounds, purpose_idx, shifted)
    created_sec = day * SECONDS_PER_DAY + rng.integers(12 * 3600, 22 * 3600, n)

    is_delinquency = events.kind == DELINQUENCY
    delinquencies = count_events_in_window(
        events.owner[is_delinquency],
        events.day[is_delinquency],
        owner,
        day,
        DELINQUENCY_WINDOW_DAYS,
    )
    features = {
        "credit_score_gap": (650.0 - score) / 100.0,
        "debt_to_income": dti_thousandths / 1000.0,
        "delinquencies_12m": delinquencies,
        "loan_to_income": loan_amount / income,
        "previous_defaults": previous_defaults[owner],
    }
    risk_shift = np.where(shifted, cfg.default_risk_shift, 0.0)
    probability = default_probability(
        features, applicants.latent_noise[owner] + risk_shift
    )
    return ApplicationSim(
        number=bounds.application_offset + np.arange(n, dtype=np.int64),
        owner=owner,
        day=day,
        age=calendar_age(applicants.dob_day[owner], day),
        income=income,
        credit_score=score.astype(np.int64),
        employment_tenths=np.round(np.clip(tenure, 0.0, 40.0) * 10).astype(np.int64),
        loan_amount=loan_amount,
        loan_term=loan_term,
        dti_thousandths=dti_thousandths,
        credit_lines=credit_lines,
        previous_defaults=previous_defaults[owner],
        purpose_idx=purpose_idx,
        created_sec=created_sec,
        delinquencies_12m=delinquencies,
        true_probability=probability,
        defaulted=rng.random(n) < probability,
        is_matured=day + cfg.maturity_days <= cfg.as_of_day,
    )


def _shifted(cfg: SourceConfig, day: np.ndarray) -> np.ndarray:
    """Mask of the applications drawn from the shifted world (dated on/after drift_day)."""
    if cfg.drift_day is None:
        return np.zeros(len(day), dtype=bool)
    return day >= cfg.drift_day


def _with_new_purpose(
    cfg: SourceConfig,
    bounds: ChunkBounds,
    purpose_idx: np.ndarray,
    shifted: np.ndarray,
) -> np.ndarray:
    """Give the drift's new purpose to a ``new_loan_purpose_share`` of shifted applications.

    Drawn from the drift's own random stream, so the simulation's draws (and with them every
    record before drift_day) are the same with or without the drift.
    """
    if cfg.drift_day is None or cfg.new_loan_purpose is None:
        return purpose_idx
    rng = np.random.default_rng([cfg.seed, bounds.index, SALT_DRIFT])
    new = shifted & (rng.random(len(purpose_idx)) < cfg.new_loan_purpose_share)
    return np.where(new, len(LOAN_PURPOSE_PROBS), purpose_idx)


def default_probability(
    features: Mapping[str, np.ndarray], latent_noise: np.ndarray
) -> np.ndarray:
    """p = sigmoid(RISK_INTERCEPT + sum(RISK_COEFFICIENTS[f] * features[f]) + noise)."""
    logit = RISK_INTERCEPT + latent_noise
    for name, coefficient in RISK_COEFFICIENTS.items():
        logit = logit + coefficient * np.asarray(features[name], dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-logit))


def count_events_in_window(
    event_owner: np.ndarray,
    event_day: np.ndarray,
    query_owner: np.ndarray,
    query_day: np.ndarray,
    window_days: int,
) -> np.ndarray:
    """Events of the same owner on days [query_day - window_days, query_day - 1]."""
    if len(query_day) == 0:
        return np.zeros(0, dtype=np.int64)
    all_days = np.concatenate([event_day, query_day])
    base = int(all_days.min()) - window_days
    span = int(all_days.max()) - base + 1
    keys = np.sort(event_owner * span + (event_day - base))
    upper = query_owner * span + (query_day - base)
    return np.searchsorted(keys, upper, "left") - np.searchsorted(
        keys, upper - window_days, "left"
    )


def calendar_age(birth_day: np.ndarray, on_day: np.ndarray) -> np.ndarray:
    """Completed years between two day numbers (days since 1970-01-01)."""
    birth, on = birth_day.astype("M8[D]"), on_day.astype("M8[D]")
    years = on.astype("M8[Y]").astype(np.int64) - birth.astype("M8[Y]").astype(np.int64)
    return years - (_month_day(on) < _month_day(birth))


def _month_day(dates: np.ndarray) -> np.ndarray:
    """Sortable ``month * 32 + day`` of datetime64[D] values."""
    month_start = dates.astype("M8[M]")
    return (month_start.astype(np.int64) % 12) * 32 + (dates - month_start).astype(
        np.int64
    )


# ----------------------------------------------------------------------------- tables


def build_applicants(cfg: SourceConfig, sim: ChunkSimulation) -> pd.DataFrame:
    """Raw applicants table of one chunk, with mess."""
    return dated_applicants(cfg, sim)[0]


def dated_applicants(cfg: SourceConfig, sim: ChunkSimulation) -> DatedTable:
    """Raw applicants of one chunk; each lands on the day of its first application."""
    rng = _table_rng(cfg, sim, SALT_APPLICANTS)
    a = sim.applicants
    first, last = FIRST_NAMES[a.first_name_idx], LAST_NAMES[a.last_name_idx]
    email = _cat(
        np.strings.lower(first.astype(STR)),
        ".",
        np.strings.lower(last.astype(STR)),
        ".",
        a.number.astype(STR),
        "@example.com",
    )
    street, city = STREETS[a.street_idx].astype(STR), CITIES[a.city_idx].astype(STR)
    cols = {
        "applicant_id": _ids("A", a.number, 9),
        "first_name": first,
        "last_name": last,
        "email": _obj(email),
        "phone": _obj(_cat("+44 7700 9", np.strings.zfill(a.phone_num.astype(STR), 5))),
        "address": _obj(_cat(a.street_no.astype(STR), " ", street, " Road, ", city)),
        "date_of_birth": _dates(a.dob_day),
        "created_at": _timestamps(a.created_sec),
    }
    columns = _columns(cfg, "applicants", cols)
    _inject_nulls(rng, cols, columns[1:], cfg.null_rate)
    for col in ("first_name", "last_name", "email"):
        cols[col] = _mess_casing(rng, cols[col], cfg.casing_whitespace_rate)
    cols["date_of_birth"] = _malform_dates(
        rng, cols["date_of_birth"], cfg.malformed_date_rate
    )
    frame = pd.DataFrame(cols, columns=columns)
    return _with_duplicates(
        rng, frame, a.first_application_day, cfg, sim, SALT_APPLICANTS
    )


def build_applications(cfg: SourceConfig, sim: ChunkSimulation) -> pd.DataFrame:
    """Raw applications table of one chunk, with mess."""
    return dated_applications(cfg, sim)[0]


def dated_applications(cfg: SourceConfig, sim: ChunkSimulation) -> DatedTable:
    """Raw applications of one chunk; each lands on its application date."""
    rng = _table_rng(cfg, sim, SALT_APPLICATIONS)
    app = sim.applications
    cols = {
        "application_id": _ids("L", app.number, 10),
        "applicant_id": _ids("A", sim.applicants.number[app.owner], 9),
        "application_date": _dates(app.day),
        "age": _ints(app.age),
        "income": _ints(app.income),
        "credit_score": _ints(app.credit_score),
        "employment_length": _fixed(app.employment_tenths, 1),
        "loan_amount": _ints(app.loan_amount),
        "loan_term_months": _ints(app.loan_term),
        "debt_to_income": _fixed(app.dti_thousandths, 3),
        "number_of_credit_lines": _ints(app.credit_lines),
        "previous_defaults": _ints(app.previous_defaults),
        "loan_purpose": cfg.loan_purposes[app.purpose_idx],
        "created_at": _timestamps(app.created_sec),
    }
    columns = _columns(cfg, "applications", cols)
    _inject_nulls(rng, cols, columns[2:], cfg.null_rate)
    cols["loan_purpose"] = _mess_casing(
        rng, cols["loan_purpose"], cfg.casing_whitespace_rate
    )
    _inject_out_of_range(rng, cols, app.income, cfg.out_of_range_rate)
    cols["application_date"] = _malform_dates(
        rng, cols["application_date"], cfg.malformed_date_rate
    )
    frame = pd.DataFrame(cols, columns=columns)
    return _with_duplicates(rng, frame, app.day, cfg, sim, SALT_APPLICATIONS)


def build_bureau_events(cfg: SourceConfig, sim: ChunkSimulation) -> pd.DataFrame:
    """Raw bureau events of one chunk plus orphan events of unknown applicants."""
    return dated_bureau_events(cfg, sim)[0]


def dated_bureau_events(cfg: SourceConfig, sim: ChunkSimulation) -> DatedTable:
    """Raw bureau events (and orphans) of one chunk; each lands on its event date."""
    rng = _table_rng(cfg, sim, SALT_EVENTS)
    ev = sim.events
    n_real = len(ev.day)
    n_orphan = int(rng.binomial(n_real, cfg.unknown_applicant_event_rate))
    if n_real + n_orphan > sim.bounds.n_applications * EVENT_ID_BLOCK_PER_APPLICATION:
        raise ValueError("too many bureau events for the event id block of this chunk")
    orphan_kind = rng.choice([INQUIRY, DELINQUENCY, NEW_ACCOUNT], n_orphan)
    orphan_number = rng.integers(0, 1_000_000, n_orphan).astype(STR)
    orphan_id = _cat(UNKNOWN_APPLICANT_PREFIX, np.strings.zfill(orphan_number, 6))
    orphan_day = rng.integers(cfg.history_start_day, cfg.as_of_day + 1, n_orphan)
    number = np.concatenate(
        [ev.number, sim.bounds.event_offset + n_real + np.arange(n_orphan)]
    )
    amount = np.concatenate([ev.amount_cents, _event_amounts(rng, orphan_kind)])
    cols = {
        "event_id": _ids("E", number, 11),
        "applicant_id": np.concatenate(
            [_ids("A", sim.applicants.number[ev.owner], 9), _obj(orphan_id)]
        ),
        "event_date": _dates(np.concatenate([ev.day, orphan_day])),
        "event_type": EVENT_TYPES[np.concatenate([ev.kind, orphan_kind])],
        "amount": _fixed(amount, 2, missing=amount < 0),
    }
    columns = _columns(cfg, "bureau_events", cols)
    _inject_nulls(rng, cols, columns[2:], cfg.null_rate)
    cols["event_type"] = _mess_casing(
        rng, cols["event_type"], cfg.casing_whitespace_rate
    )
    cols["event_date"] = _malform_dates(
        rng, cols["event_date"], cfg.malformed_date_rate
    )
    frame = pd.DataFrame(cols, columns=columns)
    event_day = np.concatenate([ev.day, orphan_day])
    rows, landing_day = _with_duplicates(rng, frame, event_day, cfg, sim, SALT_EVENTS)
    return rows, _late(cfg, sim, landing_day)


def _late(cfg: SourceConfig, sim: ChunkSimulation, day: np.ndarray) -> np.ndarray:
    """Landing days with a ``late_event_rate`` fraction reported 1..LATE_EVENT_MAX_DELAY_DAYS days late.

    Drawn from their own random stream: the rows are the same whatever the rate.
    """
    if cfg.late_event_rate <= 0:
        return day
    rng = np.random.default_rng([cfg.seed, sim.bounds.index, SALT_LATE])
    late = rng.random(len(day)) < cfg.late_event_rate
    delay = rng.integers(1, LATE_EVENT_MAX_DELAY_DAYS + 1, len(day))
    return np.where(late, np.minimum(day + delay, cfg.as_of_day), day)


def build_loan_outcomes(cfg: SourceConfig, sim: ChunkSimulation) -> pd.DataFrame:
    """Raw outcomes of the matured applications of one chunk, with mess."""
    return dated_loan_outcomes(cfg, sim)[0]


def dated_loan_outcomes(cfg: SourceConfig, sim: ChunkSimulation) -> DatedTable:
    """Raw outcomes of one chunk; each lands on the day it is observed (``observed_at``)."""
    rng = _table_rng(cfg, sim, SALT_OUTCOMES)
    app = sim.applications
    matured = app.is_matured
    defaulted = app.defaulted[matured].astype(np.int64)
    observed_day = app.day[matured] + cfg.maturity_days
    cols = {
        "application_id": _ids("L", app.number[matured], 10),
        "observed_at": _dates(observed_day),
        "defaulted": _ints(defaulted),
    }
    columns = _columns(cfg, "loan_outcomes", cols)
    _inject_nulls(rng, cols, columns[1:], cfg.null_rate)
    cols["defaulted"] = _mess_labels(
        rng, cols["defaulted"], defaulted, cfg.casing_whitespace_rate
    )
    cols["observed_at"] = _malform_dates(
        rng, cols["observed_at"], cfg.malformed_date_rate
    )
    return pd.DataFrame(cols, columns=columns), observed_day


# The landing tables in day-by-day landing, in the node's output order.
DATED_BUILDERS: dict[str, DatedTableBuilder] = {
    "applicants": dated_applicants,
    "applications": dated_applications,
    "bureau_events": dated_bureau_events,
    "loan_outcomes": dated_loan_outcomes,
}


def _columns(cfg: SourceConfig, table: str, cols: dict[str, np.ndarray]) -> list[str]:
    """The data contract's columns of ``table``, in its order; a column the contract names
    and the generator does not write (or the other way round) is refused, by name."""
    columns = cfg.landing_columns[table]
    if set(cols) != set(columns):
        raise ValueError(
            f"the data contract's {table} columns and the generator's differ: the contract "
            f"only has {sorted(set(columns) - set(cols))}, the generator only "
            f"{sorted(set(cols) - set(columns))}; make the generator write every contract "
            "column (src/credit_risk/pipelines/source_data/nodes.py)"
        )
    return columns


def protected_group(cfg: SourceConfig, sim: ChunkSimulation) -> np.ndarray:
    """The simulated protected group of each applicant of a chunk, from its own random stream.

    Drawn after the simulation, so the landing data are the same with or without it.
    """
    rng = _table_rng(cfg, sim, SALT_PROTECTED_GROUP)
    z = sim.applicants.latent_risk
    in_b = rng.random(len(z)) < 1.0 / (
        1.0 + np.exp(-(GROUP_B_LOGIT + GROUP_B_RISK_SLOPE * z))
    )
    return np.where(in_b, PROTECTED_GROUPS[1], PROTECTED_GROUPS[0]).astype(object)


def build_truth(cfg: SourceConfig, sim: ChunkSimulation) -> pd.DataFrame:
    """Clean answer key: true default probability, maturity and protected group of every application."""
    app = sim.applications
    return pd.DataFrame(
        {
            "application_id": _ids("L", app.number, 10),
            "true_default_probability": app.true_probability.astype(np.float64),
            "is_matured": app.is_matured.astype(bool),
            "protected_group": protected_group(cfg, sim)[app.owner],
        },
        columns=TRUTH_COLUMNS,
    )


def answer_key_table(truth: PartDict) -> pd.DataFrame:
    """The answer key as the warehouse table ``RAW.GENERATOR_TRUTH``, with the columns the
    in-warehouse generator (scripts/snowflake_generate.sql) gives it: upper-case names."""
    parts = [load() for _, load in sorted(truth.items())]
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({c: pd.Series(dtype=object) for c in TRUTH_COLUMNS})
    )
    frame.columns = [str(c).upper() for c in frame.columns]
    return frame


# ----------------------------------------------------------------------------- text


def _cat(*parts: Any) -> np.ndarray:
    """Element-wise string concatenation (StringDType result)."""
    out = parts[0]
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return np.asarray(out, dtype=STR)


def _obj(values: np.ndarray) -> np.ndarray:
    """Object array of Python strings."""
    return np.asarray(values, dtype=STR).astype(object)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Ids like ``A000000123``."""
    digits = np.asarray(numbers, dtype=np.int64).astype(STR)
    return _obj(_cat(prefix, np.strings.zfill(digits, width)))


def _ints(values: np.ndarray) -> np.ndarray:
    """Integers as text."""
    return _obj(np.asarray(values, dtype=np.int64).astype(STR))


def _fixed(
    scaled: np.ndarray, decimals: int, missing: np.ndarray | None = None
) -> np.ndarray:
    """Fixed-point text of integers scaled by 10**decimals (1234, 3 -> '1.234')."""
    scaled = np.asarray(scaled, dtype=np.int64)
    unit = 10**decimals
    magnitude = np.abs(scaled)
    sign = np.where(scaled < 0, "-", "").astype(STR)
    frac = np.strings.zfill((magnitude % unit).astype(STR), decimals)
    out = _obj(_cat(sign, (magnitude // unit).astype(STR), ".", frac))
    if missing is not None:
        out[missing] = None
    return out


def _dates(days: np.ndarray) -> np.ndarray:
    """ISO dates ``YYYY-MM-DD`` from day numbers."""
    return _obj(np.asarray(days, dtype=np.int64).astype("M8[D]").astype(STR))


def _timestamps(seconds: np.ndarray) -> np.ndarray:
    """Timestamps ``YYYY-MM-DD HH:MM:SS`` from epoch seconds."""
    iso = np.asarray(seconds, dtype=np.int64).astype("M8[s]").astype(STR)
    return _obj(np.strings.replace(iso, "T", " "))


def _day_to_str(day: int) -> str:
    """ISO date of a day number."""
    return str(np.datetime64(int(day), "D"))


def _date_to_day(date: str) -> int:
    """Day number (days since 1970-01-01) of an ISO date."""
    return int(np.datetime64(date, "D").astype(np.int64))


# ----------------------------------------------------------------------------- mess


def _table_rng(
    cfg: SourceConfig, sim: ChunkSimulation, salt: int
) -> np.random.Generator:
    """Independent mess generator for one table of one chunk."""
    return np.random.default_rng([cfg.seed, sim.bounds.index, salt])


def _inject_nulls(
    rng: np.random.Generator,
    cols: dict[str, np.ndarray],
    columns: list[str],
    rate: float,
) -> None:
    """Blank out each cell of ``columns`` with probability ``rate`` (copies, in dict)."""
    for col in columns:
        cols[col] = cols[col].copy()
        cols[col][rng.random(len(cols[col])) < rate] = None


def _mess_casing(
    rng: np.random.Generator, values: np.ndarray, rate: float
) -> np.ndarray:
    """Flip the casing and/or pad with whitespace a ``rate`` fraction of values."""
    out = values.copy()
    hit = (rng.random(len(out)) < rate) & pd.notna(out)
    variant = rng.integers(0, 4, len(out))[hit]
    text = out[hit].astype(STR)
    upper = np.strings.upper(text)
    flipped = np.where(text == upper, np.strings.lower(text), upper)
    messy = np.select(
        [variant == kind for kind in range(3)],
        [flipped, np.strings.add(" ", text), np.strings.add(text, "  ")],
        default=np.strings.add(np.strings.add(" ", flipped), " "),
    )
    out[hit] = _obj(messy)
    return out


def _mess_labels(
    rng: np.random.Generator, values: np.ndarray, label: np.ndarray, rate: float
) -> np.ndarray:
    """Respell a ``rate`` fraction of 0/1 labels as Y/N, true/false or True/False."""
    out = values.copy()
    hit = (rng.random(len(out)) < rate) & pd.notna(out)
    spelling = rng.integers(0, MESSY_LABELS.shape[1], len(out))
    out[hit] = MESSY_LABELS[label[hit], spelling[hit]]
    return out


def _inject_out_of_range(
    rng: np.random.Generator,
    cols: dict[str, np.ndarray],
    income: np.ndarray,
    rate: float,
) -> None:
    """Give a ``rate`` fraction of application rows one impossible value (in place)."""
    n = len(income)
    hit = rng.random(n) < rate
    kind = rng.integers(0, len(OUT_OF_RANGE_VALUES) + 1, n)  # last kind: income < 0
    for k, (col, value) in enumerate(OUT_OF_RANGE_VALUES):
        cols[col][hit & (kind == k)] = value
    negative = hit & (kind == len(OUT_OF_RANGE_VALUES))
    cols["income"][negative] = _ints(-income[negative])


def _malform_dates(
    rng: np.random.Generator, values: np.ndarray, rate: float
) -> np.ndarray:
    """Replace a ``rate`` fraction of dates with unparseable ones."""
    out = values.copy()
    hit = rng.random(len(out)) < rate
    choice = rng.integers(0, len(MALFORMED_DATES), len(out))
    out[hit] = MALFORMED_DATES[choice[hit]]
    return out


def _with_duplicates(  # noqa: PLR0913 - the frame, its days, and where the copies come from
    rng: np.random.Generator,
    frame: pd.DataFrame,
    day: np.ndarray,
    cfg: SourceConfig,
    sim: ChunkSimulation,
    salt: int,
) -> DatedTable:
    """Insert exact copies of a ``duplicate_rate`` fraction of rows, each after a random row.

    Returns the rows with the day each lands on: an original on its own ``day``, a copy
    (a record sent again) 0..RESEND_MAX_DELAY_DAYS days later, never after as_of_date. The
    delays come from their own random stream, so the rows are the same as without them.
    """
    n = len(frame)
    duplicated = np.flatnonzero(rng.random(n) < cfg.duplicate_rate)
    after = rng.integers(0, max(n, 1), len(duplicated)) + 0.5
    position = np.concatenate([np.arange(n, dtype=np.float64), after])
    order = np.argsort(position, kind="stable")
    rows = np.concatenate([np.arange(n), duplicated])[order]
    resend = np.random.default_rng([cfg.seed, sim.bounds.index, SALT_RESEND, salt])
    delay = resend.integers(0, RESEND_MAX_DELAY_DAYS + 1, len(duplicated))
    landing_day = np.concatenate(
        [day, np.minimum(day[duplicated] + delay, cfg.as_of_day)]
    )[order]
    return frame.iloc[rows].reset_index(drop=True), landing_day
