"""Project settings: hooks and config patterns only (see conf/ for everything else)."""

from credit_risk.contract import RESOLVERS
from credit_risk.hooks import QueryTagHook, RunIdHook, SnowparkSessionHook
from credit_risk.timing import NodeTimingHook

# NodeTimingHook writes data/09_tracking/timings/<run id>.json (time and peak memory per node)
HOOKS = (SnowparkSessionHook(), RunIdHook(), QueryTagHook(), NodeTimingHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "engine": ["engine*", "engine*/**"],
        "airflow": ["airflow*", "airflow*/**"],
        # the data contract is parameters (params:data_contract) and globals
        # (${globals:data_contract...} in the catalog and other parameters) at once
        "globals": ["globals.yml", "parameters_data_contract.yml"],
    },
    # ${landing_columns:...}, ${features:...}, ${concat:...}: see credit_risk.contract
    "custom_resolvers": RESOLVERS,
}
