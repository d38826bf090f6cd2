"""The run's business date (``run_date`` in conf/base/parameters.yml): ``null`` or ``YYYY-MM-DD``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from credit_risk.errors import UserError


class RunDateError(UserError, ValueError):
    """``run_date`` is not a ``YYYY-MM-DD`` day."""


def business_date(run_date: object) -> date | None:
    """``run_date`` as a date, ``None`` when unset; a clear error when it is not a ``YYYY-MM-DD`` day."""
    if run_date is None or run_date == "":
        return None
    if isinstance(run_date, datetime):
        return run_date.date()
    if isinstance(run_date, date):
        return run_date
    try:
        return date.fromisoformat(str(run_date).strip())
    except ValueError:
        raise RunDateError(
            f"run_date (conf/base/parameters.yml, or --params run_date=...) must be a "
            f"YYYY-MM-DD day or null, got {run_date!r}"
        ) from None


def day_of(run_date: object) -> date:
    """The run's business date, or today in UTC when ``run_date`` is unset."""
    return business_date(run_date) or datetime.now(UTC).date()
