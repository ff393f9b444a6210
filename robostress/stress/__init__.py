"""The 16 physical stress sub-types, their realised measures and the purity check."""

from robostress.stress.base import (
    CLEAN,
    DIMENSIONS,
    MAX_SEVERITY,
    StressRecord,
    StressSpec,
    all_stresses,
    apply_stress,
    get_stress,
)

__all__ = ["CLEAN", "DIMENSIONS", "MAX_SEVERITY", "StressRecord", "StressSpec", "all_stresses",
           "apply_stress", "get_stress"]
