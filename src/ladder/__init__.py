"""ladder: from a straight line to a CNN, one measured rung at a time."""

__version__ = "0.1.0"

from .estimators import TorchClassifier, TorchRegressor  # noqa: E402

# `ladder.train` stays the module (ladder.train.train is the loop), so it is not re-exported here.
__all__ = ["TorchClassifier", "TorchRegressor", "__version__"]
