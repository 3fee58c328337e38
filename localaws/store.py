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


class S3Store:
    """Checksums (moto keeps none) of objects, multipart uploads and their parts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (bucket, key) -> (algorithm, value, type, ETag of the object the checksum belongs to)
        self._objects: dict[tuple[str, str], tuple[str, str, str, str]] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._parts: dict[tuple[str, int], dict[str, Any]] = {}
        self._completed: dict[str, tuple[str, str, Any]] = {}

    def set_checksum(self, bucket: str, key: str, algorithm: str, value: str, kind: str,
                     etag: str) -> None:
        with self._lock:
            self._objects[(bucket, key)] = (algorithm, value, kind, etag.strip('"'))

    def checksum(self, bucket: str, key: str, etag: str) -> tuple[str, str, str] | None:
        """The stored checksum, if it still belongs to the object with this ETag (any write
        that bypassed the checksum paths, such as a copy or a POST upload, changed the ETag)."""
        with self._lock:
            found = self._objects.get((bucket, key))
        if found is None or found[3] != etag.strip('"'):
            return None
        return found[:3]

    def forget_object(self, bucket: str, key: str) -> None:
        with self._lock:
            self._objects.pop((bucket, key), None)

    def start_upload(self, upload_id: str, bucket: str, key: str, algorithm: str | None,
                     kind: str | None = None) -> None:
        with self._lock:
            self._uploads[upload_id] = {"bucket": bucket, "key": key, "algorithm": algorithm,
                                        "type": kind}

    def upload(self, upload_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._uploads.get(upload_id)

    def set_part_checksum(self, upload_id: str, number: int, checksums: dict[str, Any]) -> None:
        """A part's checksums ({algorithm: base64 value}) and its "size"."""
        with self._lock:
            self._parts[(upload_id, number)] = checksums

    def part_checksum(self, upload_id: str, number: int) -> dict[str, Any]:
        with self._lock:
            return dict(self._parts.get((upload_id, number)) or {})

    def forget_upload(self, upload_id: str) -> None:
        with self._lock:
            self._uploads.pop(upload_id, None)
            for part in [p for p in self._parts if p[0] == upload_id]:
                del self._parts[part]

    def set_completed(self, upload_id: str, bucket: str, key: str, result: Any) -> None:
        """What CompleteMultipartUpload answered, for a retry of it (S3 answers it again)."""
        with self._lock:
            self._completed[upload_id] = (bucket, key, result)
            while len(self._completed) > 1000:
                self._completed.pop(next(iter(self._completed)))

    def completed(self, upload_id: str, bucket: str, key: str) -> Any | None:
        with self._lock:
            found = self._completed.get(upload_id)
        return found[2] if found and found[:2] == (bucket, key) else None

    def reset(self) -> None:
        with self._lock:
            self._objects.clear()
            self._uploads.clear()
            self._parts.clear()
            self._completed.clear()


class Stores:
    def __init__(self) -> None:
        self.apigateway = ApiGatewayStore()
        self.s3 = S3Store()

    def reset(self) -> None:
        self.apigateway.reset()
        self.s3.reset()


stores = Stores()
