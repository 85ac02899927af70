"""The playground's φ is ladder's feature map `playground` (ladder.features.toggles): one
module computes it for the page and for `ladder run`."""

from ..features.toggles import phi  # noqa: F401
