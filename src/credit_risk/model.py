"""The old name of :mod:`credit_risk.modelling.model`, kept so model files pickled before the move still load."""

from credit_risk.modelling.model import (  # noqa: F401 - re-exported for unpickling
    ESTIMATOR_STEP,
    PREPROCESS_STEP,
    PROBABILITY,
    ScoringModel,
    TrainedModel,
    prepare_features,
    version_stamp,
)
