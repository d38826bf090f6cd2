"""The errors a user can fix (a setting, an input file, the data), printed as messages.

Raise a subclass of :class:`UserError` with a message that says what is wrong and what to
do. ``kedro run`` (``credit_risk.cli``) prints such an error as one message on stderr and
exits with status 1; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from kedro.validation.exceptions import (
    DataValidationError,
    ParameterValidationError,
    ValidationConfigurationError,
)

from credit_risk.engine.errors import EngineError


class UserError(Exception):
    """Something the user can fix; its message says what is wrong and what to do."""


# Also user-fixable: the engine's errors (a missing setting, a busy database; the engine is
# usable without this project, so its errors do not derive from UserError) and Kedro's own
# validation errors: a typed parameter (names the key), a dataset's validator declaration
# or a failed validator check (names the dataset).
USER_ERRORS: tuple[type[BaseException], ...] = (
    UserError,
    EngineError,
    ParameterValidationError,
    ValidationConfigurationError,
    DataValidationError,
)


def user_error(exc: BaseException) -> BaseException | None:
    """The user-fixable error that ``exc`` is or was raised from, else None.

    Kedro wraps a dataset's own error in a ``DatasetError`` (``raise ... from exc``), so the
    whole chain of causes is searched.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, USER_ERRORS) and not _wrapped_by_kedro(current):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _wrapped_by_kedro(exc: BaseException) -> bool:
    """A failure of one of the project's own validators that is not a user error.

    Kedro's catalog wraps anything a dataset validator raises in a ``DataValidationError``;
    the project's validators raise a ``UserError`` for what the user can fix (a failed
    data-quality check), so anything else they raised is a bug and keeps its traceback.
    """
    return (
        isinstance(exc, DataValidationError)
        and not isinstance(exc, UserError)
        and str(getattr(exc, "validator", "") or "").startswith("credit_risk.")
    )
