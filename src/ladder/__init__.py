"""ladder: from a straight line to a CNN, one measured rung at a time."""

__version__ = "0.1.0"

# The estimators pull in PyTorch and scikit-learn (seconds to import): they load on first use, so
# `ladder --help` and `ladder list` answer at once.
_LAZY = {"TorchClassifier": "estimators", "TorchRegressor": "estimators"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# `ladder.train` stays the module (ladder.train.train is the loop), so it is not re-exported here.
__all__ = ["TorchClassifier", "TorchRegressor", "__version__"]
