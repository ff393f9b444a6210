"""The 16 physical stress sub-types, their realised measures and the purity check.

Importing this package registers every sub-type: the dimension modules below add themselves to
``STRESSES`` in taxonomy order (material, lighting, viewpoint, geometry).
"""

from robostress.core.records import CLEAN, MAX_SEVERITY, StressRecord
from robostress.stress.base import DIMENSIONS, StressSpec, all_stresses, apply_stress, get_stress
from robostress.stress.compound import DIMENSION_PAIRS, CompoundDesign, apply_compound

# isort: split
# Registration by import, in taxonomy order (the order of STRESSES and of every report).
from robostress.stress import material, lighting, viewpoint, geometry  # noqa: E402,F401,I001

__all__ = ["CLEAN", "DIMENSIONS", "DIMENSION_PAIRS", "MAX_SEVERITY", "CompoundDesign", "StressRecord",
           "StressSpec", "all_stresses", "apply_compound", "apply_stress", "get_stress"]
