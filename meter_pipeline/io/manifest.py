"""The close manifest (docs/audit.md#can-anyone-have-changed-it-the-close-manifest):
``warehouse/_manifests/billing_period=YYYY-MM/manifest.json``.

Written last when a month closes. It lists every input file the close depends on (path, bytes,
sha256), every output partition file of the period (path, bytes, sha256, rows), the SHA-256 of
the previous period's manifest (a hash chain: changing or replacing an earlier month breaks every
later link) and the product version. It holds no wall-clock time and its JSON is canonical (keys
sorted, files sorted by path), so re-closing a month from the same inputs writes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

MANIFESTS = "_manifests"
MANIFEST_FILE = "manifest.json"
FORMAT = 1
_BLOCK = 1 << 20


def manifest_path(root: str | Path, period: str) -> Path:
    return Path(root) / "warehouse" / MANIFESTS / f"billing_period={period}" / MANIFEST_FILE


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def relative(root: str | Path, path: Path) -> str:
    """``path`` relative to the root, with ``/`` separators (as source_file)."""
    return path.relative_to(root).as_posix()


def file_entry(root: str | Path, path: Path) -> dict[str, Any]:
    return {
        "path": relative(root, path),
        "bytes": path.stat().st_size,
        "sha256": sha256_file(path),
    }


def input_entries(root: str | Path, folders: Iterable[str]) -> list[dict[str, Any]]:
    """Every file directly inside each folder (relative to the root; missing folders hold none),
    sorted by path."""
    root = Path(root)
    files = [
        path
        for folder in folders
        if (root / folder).is_dir()
        for path in (root / folder).iterdir()
        if path.is_file()
    ]
    return sorted((file_entry(root, p) for p in files), key=lambda e: e["path"].encode())


def output_entries(root: str | Path, folders: Iterable[str]) -> list[dict[str, Any]]:
    """Every Parquet file of the given partition folders, with its row count, sorted by path.
    Hidden files (a writer's temporary file) are not outputs."""
    root = Path(root)
    entries = []
    for folder in folders:
        if not (root / folder).is_dir():
            continue
        for path in (root / folder).glob("*.parquet"):
            if path.name.startswith("."):
                continue
            entries.append({**file_entry(root, path), "rows": pq.read_metadata(path).num_rows})
    return sorted(entries, key=lambda e: e["path"].encode())


def render_manifest(
    period: str,
    version: str,
    previous: tuple[str, str | None],
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
) -> bytes:
    """The canonical JSON bytes of a manifest; ``previous`` is (period, its manifest's sha256 or
    None when it has none)."""
    document = {
        "format": FORMAT,
        "billing_period": period,
        "product": "meter-pipeline",
        "version": version,
        "previous_period": previous[0],
        "previous_manifest_sha256": previous[1],
        "inputs": inputs,
        "outputs": outputs,
    }
    return (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def manifest_sha256(root: str | Path, period: str) -> str | None:
    path = manifest_path(root, period)
    return sha256_file(path) if path.exists() else None


def read_manifest(root: str | Path, period: str) -> dict[str, Any] | None:
    path = manifest_path(root, period)
    if not path.exists():
        return None
    return json.loads(path.read_bytes())


def write_manifest(root: str | Path, period: str, data: bytes) -> Path:
    """Replace the period's manifest atomically (written aside, synced, renamed)."""
    path = manifest_path(root, period)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{MANIFEST_FILE}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
