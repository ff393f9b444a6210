"""The bottom layer: frozen records and small pure helpers that every other layer may import.

Nothing here imports another robostress package (see docs/architecture.md).
"""

from robostress.core.colour import (
           PALETTE,
           lab,
           lab_linear,
           linear_to_srgb8,
           luminance,
           srgb_to_linear,
)
from robostress.core.records import CLEAN, MAX_SEVERITY, Frozen, StressRecord

__all__ = ["CLEAN", "MAX_SEVERITY", "PALETTE", "Frozen", "StressRecord", "lab", "lab_linear",
           "linear_to_srgb8", "luminance", "srgb_to_linear"]
