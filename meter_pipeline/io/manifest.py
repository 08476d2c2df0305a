"""The close manifest (docs/audit.md#can-anyone-have-changed-it-the-close-manifest):
``warehouse/_manifests/billing_period=YYYY-MM/manifest.json``.

Written last when a month closes. It lists every input file the close depends on (path, bytes,
sha256), every output partition file of the period (path, bytes, sha256, rows), the SHA-256 of
the previous period's manifest (a hash chain: changing or replacing an earlier month breaks every
later link) and the product version. It holds no wall-clock time and its JSON is canonical (keys
sorted, files sorted by path), so re-closing a month from the same inputs writes the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from meter_pipeline.storage import Storage, storage_for
from meter_pipeline.storage.base import FILE
from meter_pipeline.workers import Map

MANIFESTS = "_manifests"
MANIFEST_FILE = "manifest.json"
FORMAT = 1


def manifest_rel(period: str) -> str:
    """The period's manifest, relative to the data root."""
    return f"warehouse/{MANIFESTS}/billing_period={period}/{MANIFEST_FILE}"


def file_entry(storage: Storage, rel: str) -> dict[str, Any]:
    found = storage.stat(rel)
    return {"path": rel, "bytes": found.size if found else 0, "sha256": storage.sha256(rel)}


def _files(storage: Storage, folder: str) -> list[str]:
    """The files directly inside a folder (none when it does not exist), relative to the root."""
    return [f"{folder}/{e.name}" for e in storage.list_folder(folder) or [] if e.kind == FILE]


def input_paths(root: str | Path, folders: Iterable[str]) -> list[str]:
    """Every file directly inside each folder (relative to the root; missing folders hold
    none): the inputs a manifest lists."""
    storage = storage_for(root)
    return [rel for folder in folders for rel in _files(storage, folder)]


def output_paths(root: str | Path, folders: Iterable[str]) -> list[str]:
    """Every Parquet file of the given partition folders: the outputs a manifest lists. Hidden
    files (a writer's temporary file) are not outputs."""
    storage = storage_for(root)
    return [
        rel
        for folder in folders
        for rel in _files(storage, folder)
        if not (name := rel.rsplit("/", 1)[1]).startswith(".") and name.endswith(".parquet")
    ]


def input_entries(
    root: str | Path, folders: Iterable[str], map_: Map = map
) -> list[dict[str, Any]]:
    """:func:`input_paths` with their bytes and SHA-256, sorted by path; files are hashed with
    ``map_`` (a thread pool's hashes two at a time: hashlib releases the GIL)."""
    storage = storage_for(root)
    entries = map_(lambda rel: file_entry(storage, rel), input_paths(root, folders))
    return sorted(entries, key=lambda e: e["path"].encode())


def output_entries(
    root: str | Path, folders: Iterable[str], map_: Map = map
) -> list[dict[str, Any]]:
    """:func:`output_paths` with their bytes, SHA-256 and row count, sorted by path."""
    storage = storage_for(root)

    def entry(rel: str) -> dict[str, Any]:
        with storage.open_read(rel) as fh:
            rows = pq.read_metadata(fh).num_rows
        return {**file_entry(storage, rel), "rows": rows}

    return sorted(map_(entry, output_paths(root, folders)), key=lambda e: e["path"].encode())


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
    storage = storage_for(root)
    if not storage.exists(manifest_rel(period)):
        return None
    return storage.sha256(manifest_rel(period))


def read_manifest(root: str | Path, period: str) -> dict[str, Any] | None:
    try:
        return json.loads(storage_for(root).read_bytes(manifest_rel(period)))
    except FileNotFoundError:
        return None


def write_manifest(root: str | Path, period: str, data: bytes) -> str:
    """Replace the period's manifest atomically (one whole-file write)."""
    storage = storage_for(root)
    storage.put_bytes(manifest_rel(period), data)
    return storage.location(manifest_rel(period))
