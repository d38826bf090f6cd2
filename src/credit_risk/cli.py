"""Project CLI: Kedro's own ``kedro run``, printing a user-fixable error as a message.

Kedro loads ``<package>.cli`` and lets its commands override the built-in ones (and
``python -m credit_risk`` runs this ``run``). The command keeps every option and behaviour
of Kedro's ``run``; only a :class:`~credit_risk.errors.UserError` (or another error listed
in ``credit_risk.errors.USER_ERRORS``) that stops the run is shown as one message on stderr
with exit status 1, instead of a traceback. Any other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

from credit_risk.errors import user_error


class UserErrorsAsMessages(click.Command):
    """A click command that turns a user-fixable error into a ``click.ClickException``."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a user-fixable error becomes a message and exit status 1."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            found = user_error(exc)
            if found is None:
                raise
            raise click.ClickException(f"{type(found).__name__}: {found}") from None


@click.group(name="credit_risk")
def cli() -> None:
    """Project-specific commands (they replace Kedro's of the same name)."""


run = UserErrorsAsMessages(
    name="run",
    params=kedro_run.params,
    callback=kedro_run.callback,
    help=kedro_run.help,
    short_help=kedro_run.short_help,
    context_settings=kedro_run.context_settings,
)
cli.add_command(run)
