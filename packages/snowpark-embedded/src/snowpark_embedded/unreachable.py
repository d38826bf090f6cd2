"""Fail a session's request once its engine has been unreachable for a bounded time.

The Snowflake connector retries a request whose connection failed (refused, reset, cut
mid-answer) until ``network_timeout``, which is infinite by default: a process whose server
died, or whose network dropped, waits forever and says nothing. ``network_timeout`` itself is
no cure: it also cancels any statement running longer than it. :func:`bound_unreachable`
counts only the time during which every attempt failed to reach the server, so a statement
may run for hours while the server answers, and a dead server ends the request within the
bound (plus one retry wait), with a message saying what happened.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from snowpark_embedded.errors import EngineGoneError

if TYPE_CHECKING:
    from snowflake.snowpark import Session

logger = logging.getLogger(__name__)

_MARK = "_snowpark_embedded_unreachable_bound"


def _unreachable(cause: BaseException) -> bool:
    """Whether a failed attempt means the other end is not there (not: it answered slowly or badly)."""
    from snowflake.connector.vendored import (
        requests,  # noqa: PLC0415 - the connector's own
    )
    from snowflake.connector.vendored.urllib3.exceptions import (
        ProtocolError,  # noqa: PLC0415
    )

    kinds = (
        requests.exceptions.ConnectionError,
        ProtocolError,
        ConnectionError,
        http.client.BadStatusLine,
        http.client.IncompleteRead,
    )
    return isinstance(cause, kinds) and not isinstance(
        cause, requests.exceptions.Timeout
    )


def bound_unreachable(
    session: Session,
    timeout_s: float,
    message: Callable[[float, BaseException], str],
    gone_now: Callable[[], bool] | None = None,
) -> None:
    """Raise :class:`EngineGoneError` from a request after ``timeout_s`` of failing to reach the server.

    ``message(waited_s, cause)`` words the error. ``gone_now()``, if given, is asked after
    each failed attempt: True means the server is certainly gone (its process ended), and
    the request fails at once.
    """
    from snowflake.connector.network import RetryRequest  # noqa: PLC0415

    rest = session._conn._conn.rest  # noqa: SLF001 - the connector's HTTP client of this session
    if getattr(rest._request_exec, _MARK, False):  # noqa: SLF001
        return
    original = rest._request_exec  # noqa: SLF001
    failing_since: list[float | None] = [None]

    def request_exec(*args, **kwargs):
        try:
            result = original(*args, **kwargs)
        except RetryRequest as exc:
            cause = exc.args[0] if exc.args else exc
            if not _unreachable(cause):
                raise
            now = time.monotonic()
            if failing_since[0] is None:
                failing_since[0] = now
            waited = now - failing_since[0]
            if waited >= timeout_s or (gone_now is not None and gone_now()):
                failing_since[0] = None
                raise EngineGoneError(message(waited, cause)) from cause
            logger.warning(
                "the engine did not answer (%s); retrying for up to %.0f s more",
                cause,
                timeout_s - waited,
            )
            raise
        failing_since[0] = None
        return result

    setattr(request_exec, _MARK, True)
    rest._request_exec = request_exec  # noqa: SLF001
