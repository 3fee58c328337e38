"""The API Gateway (REST, v1) data plane: runs deployed stages of APIs that moto stores."""
from .dataplane import ApiGatewayDataPlane

__all__ = ["ApiGatewayDataPlane"]
