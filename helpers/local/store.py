"""Extension stores: what moto drops, kept per service, and cleared with moto's reset.

State otherwise lives in moto's backends (read through moto_bridge); only data that moto does
not keep at all lives here.
"""
from __future__ import annotations

import threading
from typing import Any


class ApiGatewayStore:
    """Deployment snapshots: a stage serves the API as it was at CreateDeployment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deployments: dict[tuple[str, str, str, str], dict[str, Any]] = {}

    def save_deployment(
        self, account: str, region: str, api_id: str, deployment_id: str, snapshot: dict
    ) -> None:
        with self._lock:
            self._deployments[(account, region, api_id, deployment_id)] = snapshot

    def deployment(self, account: str, region: str, api_id: str, deployment_id: str) -> dict | None:
        with self._lock:
            return self._deployments.get((account, region, api_id, deployment_id))

    def reset(self) -> None:
        with self._lock:
            self._deployments.clear()


class Stores:
    def __init__(self) -> None:
        self.apigateway = ApiGatewayStore()

    def reset(self) -> None:
        self.apigateway.reset()


stores = Stores()
