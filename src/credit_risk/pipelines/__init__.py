"""The project's modular pipelines, one folder each; which of them is a demo."""

from __future__ import annotations

import os

import click

# The source-data generator is a demo: it writes made-up landing files. `kedro run` runs it
# only in these envs (the embedded engine's); elsewhere the landing files are real data, and
# the generator runs only when named (`kedro run --env snowflake --pipelines source_data`).
DEMO_ENVS = ("local",)
DEMO = "source_data"


def kedro_env() -> str:
    """The env of the Kedro command being run: its ``--env``, else ``KEDRO_ENV``, else local."""
    context = click.get_current_context(silent=True)
    env = context.params.get("env") if context is not None else None
    return env or os.environ.get("KEDRO_ENV") or "local"
