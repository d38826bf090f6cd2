"""Project settings: hooks and config patterns only (see conf/ for everything else)."""

from credit_risk.hooks import QueryTagHook, RunIdHook, SnowparkSessionHook

HOOKS = (SnowparkSessionHook(), RunIdHook(), QueryTagHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "engine": ["engine*", "engine*/**"],
        "airflow": ["airflow*", "airflow*/**"],
    },
}
