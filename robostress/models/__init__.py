"""Model backends behind one batch-first interface, created by name from a registry that
installed packages extend through the ``robostress.models`` entry-point group."""

from robostress.models.base import ENTRY_POINT_GROUP, MODELS, Model, Request, Response, create_model
from robostress.models.spec import ModelSpec, path_safe

__all__ = ["ENTRY_POINT_GROUP", "MODELS", "Model", "ModelSpec", "Request", "Response", "create_model",
           "path_safe"]
