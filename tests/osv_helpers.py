"""Small OSV advisories written for the tests (the real database is only for integration tests)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any


def advisory(id: str, package: str = "demo", ranges: list[list[dict[str, str]]] | None = None,
             versions: list[str] | None = None, aliases: list[str] | None = None, ecosystem: str = "PyPI",
             **extra: Any) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": package}}
    if ranges is not None:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": events} for events in ranges]
    if versions is not None:
        affected["versions"] = versions
    data = {"id": id, "modified": "2024-01-01T00:00:00Z", "affected": [affected], "details": f"{id} details"}
    if aliases:
        data["aliases"] = aliases
    data.update(extra)
    return data


def write_zip(path: Path, advisories: list[dict[str, Any]], extra: dict[str, bytes] | None = None) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in advisories:
            archive.writestr(f"{item['id']}.json", json.dumps(item))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path
