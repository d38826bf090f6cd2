"""Project hooks: the Snowpark session's life, the PII masking key, and query tags."""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog, MemoryDataset
from omegaconf import OmegaConf

from credit_risk import engine
from credit_risk.engine.project import config_group
from credit_risk.errors import UserError
from credit_risk.pipelines import DEMO, kedro_env

logger = logging.getLogger(__name__)

MASKING_KEY_ENV = "CREDIT_RISK_MASKING_KEY"
PROJECT = "credit_risk"


def _config(context: Any, key: str) -> dict[str, Any]:
    return config_group(context.config_loader, key)


def _credentials(context: Any) -> dict[str, Any]:
    """The run env's credentials over ``conf/local``'s: ``--env snowflake`` still reads conf/local/credentials.yml."""
    credentials = _config(context, "credentials")
    env = getattr(context, "env", None)
    conf_source = getattr(context.config_loader, "conf_source", None)
    if env in (None, "local") or conf_source is None:
        return credentials
    # read the files directly: a second OmegaConfigLoader would replace the run's ${globals:} resolver
    local: dict[str, Any] = {}
    for path in sorted(Path(conf_source, "local").glob("credentials*.yml")):
        loaded = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        local.update(loaded if isinstance(loaded, dict) else {})
    return {**local, **credentials}


def resolve_masking_key(
    credentials: dict[str, Any], engine_cfg: dict[str, Any], project_path: Path
) -> str:
    """The key for masking PII: credentials, then the environment, then (embedded only) a local file."""
    key = (credentials.get("masking") or {}).get("key") or os.environ.get(
        MASKING_KEY_ENV
    )
    if key:
        return str(key)
    if engine_cfg.get("kind") != "embedded":
        raise engine.EngineConfigError(
            f"no PII masking key: set masking.key in credentials or {MASKING_KEY_ENV}"
        )
    path = engine.embedded_dir(engine_cfg, project_path) / "masking.key"
    if not path.exists():
        # Written whole under another name, then linked into place: of processes starting at
        # once (parallel Airflow tasks), one creates the key and every one reads it complete.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".masking.key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
            logger.info(
                "created a local PII masking key in %s (set %s to choose one)",
                path,
                MASKING_KEY_ENV,
            )
        except FileExistsError:
            pass  # another process made it first: use that one
        finally:
            draft.unlink()
    return path.read_text().strip()


def offer(catalog: DataCatalog, name: str, value: Any) -> None:
    """Put ``value`` in the memory dataset ``name``: the one declared in catalog.yml (for its
    kedro-viz layer), else a new one."""
    if name in catalog and isinstance(catalog[name], MemoryDataset):
        catalog.save(name, value)
    else:
        catalog[name] = MemoryDataset(value, copy_mode="assign")


class UnsupportedRunnerError(UserError):
    """The run asked for a runner the project cannot run on (ThreadRunner)."""


class DemoDataError(UserError):
    """A run on Snowflake would have generated demo landing files without asking for them."""


class SnowparkSessionHook:
    """Configures the engine for the Kedro session and closes its Snowpark session at the end.

    Nothing starts or connects until something needs a session: ``kedro catalog
    describe-datasets`` or ``kedro airflow create`` never start the embedded server nor write
    a masking key. A run's first dataset that reads or writes a table connects (starting the
    embedded server if none serves the folder), and a run whose nodes mask PII gets the key.
    """

    def __init__(self) -> None:
        self._engine_cfg: dict[str, Any] = {}
        self._credentials: dict[str, Any] = {}
        self._project_path = Path()
        self._config_error: engine.EngineConfigError | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Read ``engine`` config and credentials and check them; connect and start nothing."""
        self._engine_cfg = _config(context, "engine").get("engine") or {}
        self._credentials = _credentials(context)
        self._project_path = Path(context.project_path)
        self._config_error = None
        try:
            engine.configure(
                self._engine_cfg, self._project_path, self._credentials.get("snowflake")
            )
        except engine.EngineConfigError as exc:
            # A command that runs no node (kedro catalog, kedro airflow create -e snowflake on
            # a machine without credentials) needs no connection settings: the error stops a
            # run instead, before any node (and a notebook's first query, which configures
            # the engine from conf itself and meets the same error).
            self._config_error = exc

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: DataCatalog
    ) -> None:
        """Refuse ``--runner ThreadRunner`` before any node runs, with the reason; offer the
        masking key to nodes as the ``masking_key`` input (never a parameter) when a node
        of the run needs it.

        The process has one Snowpark session, which threads would share: its query tag names
        one node at a time, a data-quality results append is a transaction on it (another
        thread's statements would run inside it), and on the embedded engine fakesnow's
        cursor and Snowpark's (without Snowflake's thread-safe session parameter) are not
        safe to share; seen as "Unhandled exception" and empty results.
        """
        if self._config_error is not None:
            raise self._config_error
        if "ThreadRunner" in str(run_params.get("runner") or ""):
            raise UnsupportedRunnerError(
                "credit_risk runs its nodes one at a time on one Snowpark session per process: "
                "ThreadRunner would share that session between threads (query tags, the data-quality "
                "results transaction). Run without --runner (SequentialRunner); for parallel work, "
                "run pipelines in separate processes (kedro airflow create does, one task each)."
            )
        self._refuse_demo_data_on_snowflake(run_params, pipeline)
        if "masking_key" in pipeline.inputs():
            key = resolve_masking_key(
                self._credentials, self._engine_cfg, self._project_path
            )
            offer(catalog, "masking_key", key)

    def _refuse_demo_data_on_snowflake(
        self, run_params: dict[str, Any], pipeline: Any
    ) -> None:
        """On Snowflake the landing files are real: the generator runs only when named."""
        named = run_params.get("pipeline_names") or []
        generates = any(n.namespace == DEMO for n in pipeline.nodes)
        if (
            self._engine_cfg.get("kind") == "snowflake"
            and generates
            and DEMO not in named
        ):
            raise DemoDataError(
                "this run includes the source-data generator, which would replace the landing "
                "files with made-up data, and the engine is Snowflake (real data). Run the "
                f"pipelines you need by name; to load demo data on purpose: "
                f"kedro run --env {kedro_env()} --pipelines {DEMO}"
            )

    @hook_impl
    def after_pipeline_run(self) -> None:
        """Close the session so the run ends without leaving it open."""
        engine.close_session()

    @hook_impl
    def on_pipeline_error(self) -> None:
        """Close the session on failure too."""
        engine.close_session()


RUN_ID_ENV = "CREDIT_RISK_RUN_ID"


def current_run_id(session_id: str | None) -> str | None:
    """The run's id: ``CREDIT_RISK_RUN_ID`` when set (a scheduler's run), else the Kedro session id."""
    return os.environ.get(RUN_ID_ENV) or session_id


_run_catalog: DataCatalog | None = None
VALIDATION_SWITCH = (
    "KEDRO_DATASET_VALIDATION"  # Kedro's switch for every dataset validator
)


class DataQualityOffError(UserError):
    """A run asked to skip Kedro's dataset validators, which hold the data-quality checks."""


class DataQualityConfigError(UserError):
    """A guarded table's checks (``data_quality.<dataset>``) are not a valid DatasetQuality."""


def typed_checks(catalog: DataCatalog) -> None:
    """Validate every ``data_quality.<dataset>`` as a DatasetQuality and offer it typed.

    Kedro types a parameter only when a node reads it, and the checks of most guarded tables
    are read by their validators alone; so they are validated here before any node runs (a
    bad one refused naming its key, as Kedro words it), from the run's parameters (the
    contract's values interpolated), and each ``params:data_quality.<dataset>`` the
    validators load is the typed model.
    """
    from credit_risk.quality import DatasetQuality  # noqa: PLC0415 - see run_catalog

    if "parameters" not in catalog:
        return
    specs = (catalog.load("parameters") or {}).get("data_quality") or {}
    errors, typed = [], {}
    for dataset, spec in specs.items():
        try:
            typed[dataset] = (
                spec
                if isinstance(spec, DatasetQuality)
                else DatasetQuality.model_validate(spec)
            )
        except ValueError as err:  # pydantic's ValidationError is a ValueError
            errors.append(f"- Parameter 'data_quality.{dataset}': {err}")
    if errors:
        raise DataQualityConfigError(
            "Parameter validation failed:\n" + "\n".join(errors)
        )
    for dataset, model in typed.items():
        offer(catalog, f"params:data_quality.{dataset}", model)


def run_catalog() -> DataCatalog | None:
    """The catalog Kedro created last in this process (None before any)."""
    return _run_catalog


class RunIdHook:
    """Offers the run's id to nodes as the ``run_id`` input (data-quality results are keyed on it).

    The id is ``CREDIT_RISK_RUN_ID`` when set (a scheduler's run id, so a retried task replaces
    its own results), else the Kedro session id, which is new for every run. The catalog is
    also the one the tables' data-quality validators read their checks, the run id and their
    relationship parents from (:class:`credit_risk.quality.TableChecks`).
    """

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog, save_version: str) -> None:
        """Add ``run_id`` to the catalog; the data-quality validators read from it."""
        global _run_catalog  # noqa: PLW0603 - one catalog per session, as Kedro makes it
        _run_catalog = catalog
        current = current_run_id(save_version)
        if (
            current
        ):  # a catalog made outside a run (kedro airflow create, kedro viz) has none
            offer(catalog, "run_id", current)

    @hook_impl
    def before_pipeline_run(self, catalog: DataCatalog) -> None:
        """Refuse to run with Kedro's dataset validation off: the data-quality checks are validators."""
        switch = os.environ.get(VALIDATION_SWITCH, "").strip().lower()
        # Kedro's rule: a recognised value of the switch wins over the catalog's flag
        off = switch in ("0", "false", "off")
        if off or (
            switch not in ("1", "true", "on")
            and not getattr(catalog, "validation_enabled", True)
        ):
            cause = (
                f"{VALIDATION_SWITCH}={os.environ[VALIDATION_SWITCH]!r}"
                if off
                else "the catalog's validation_enabled=False"
            )
            raise DataQualityOffError(
                f"{cause} turns off Kedro's dataset validators, and with them this "
                "project's data-quality checks (tables would be written unchecked, with no "
                "results recorded); unset it to run"
            )
        typed_checks(catalog)


def query_tag(project: str, pipeline: str, node: str | None, run_id: str | None) -> str:
    """The QUERY_TAG of a query: JSON naming the project, pipeline, node and run, keys sorted."""
    return json.dumps(
        {"project": project, "pipeline": pipeline, "node": node, "run_id": run_id},
        sort_keys=True,
    )


class QueryTagHook:
    """Tags every query with the project, pipeline, node and run id, so QUERY_HISTORY finds a run.

    On Snowflake the tag is Snowpark's ``session.query_tag`` (``ALTER SESSION SET
    QUERY_TAG``); the embedded engine records it in ``query_history.jsonl``. Tags are per
    session, so this assumes nodes run one at a time (the default SequentialRunner).
    """

    def __init__(self) -> None:
        self._pipeline = "__default__"
        self._run_id: str | None = None

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Remember the run's pipeline and id; tag the run's first queries."""
        names = run_params.get("pipeline_names") or [
            run_params.get("pipeline_name") or "__default__"
        ]
        self._pipeline = ",".join(str(n) for n in names)
        self._run_id = current_run_id(
            run_params.get("run_id") or run_params.get("session_id")
        )
        engine.set_query_tag(query_tag(PROJECT, self._pipeline, None, self._run_id))

    @hook_impl
    def before_node_run(self, node: Any, run_id: str) -> None:
        """Tag the node's queries with its name."""
        engine.set_query_tag(
            query_tag(PROJECT, self._pipeline, node.name, self._run_id or run_id)
        )

    @hook_impl
    def before_dataset_loaded(self, node: Any) -> None:
        """Inputs load before ``before_node_run``: tag their queries with the node that reads them."""
        engine.set_query_tag(
            query_tag(PROJECT, self._pipeline, node.name, self._run_id)
        )
