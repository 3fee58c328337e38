"""The API Gateway (REST, v1) data plane: runs deployed stages of APIs that moto stores.

dataplane.py (parse, route, method request, method response) hands each integration an
IntegrationContext (context.py) and calls the handler for its type in integrations.py; router.py
and exceptions.py are used by both. Nothing here imports dataplane.py but this file.
"""
from .dataplane import ApiGatewayDataPlane

__all__ = ["ApiGatewayDataPlane"]
