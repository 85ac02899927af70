"""ladder: from a straight line to a CNN, one measured rung at a time."""

__version__ = "0.1.0"

from .estimators import TorchClassifier, TorchRegressor  # noqa: E402
from .train import train  # noqa: E402

__all__ = ["TorchClassifier", "TorchRegressor", "train", "__version__"]
