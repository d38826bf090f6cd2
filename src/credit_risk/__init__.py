"""credit-risk"""

import warnings

__version__ = "0.1"

# Kedro 1.7's OmegaConfigLoader registers its ${globals:} and ${runtime_params:} resolvers
# with OmegaConf.register_new_resolver, which omegaconf 2.4 deprecates (a UserWarning on
# every config loader: 3 per `kedro run`). Nothing in this project calls it and nothing a
# user can do silences it, so it is filtered here, where every entry point (kedro run, viz,
# jupyter, an Airflow task) imports the project first. Only that message, only from Kedro.
warnings.filterwarnings(
    "ignore",
    message=r"register_new_resolver\(\) is deprecated",
    category=UserWarning,
    module=r"kedro\.config\.omegaconf_config",
)
