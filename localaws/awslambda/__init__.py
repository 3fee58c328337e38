"""The Lambda data plane: the Invoke API and a runtime that really runs Python handlers."""
from .responses import LambdaService

__all__ = ["LambdaService"]
