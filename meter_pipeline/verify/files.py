"""Verify the files a close manifest lists, and the hash chain between manifests
(docs/audit.md#meter-pipeline-verify,
docs/audit.md#can-anyone-have-changed-it-the-close-manifest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meter_pipeline.calendar import is_period, previous_period
from meter_pipeline.io import manifest
from meter_pipeline.io.manifest import MANIFESTS, manifest_rel
from meter_pipeline.storage import storage_for
from meter_pipeline.workers import Map


def manifest_periods(root: Path) -> list[str]:
    """Periods that have a manifest, in order."""
    prefix = "billing_period="
    folders = storage_for(root).folders_with(f"warehouse/{MANIFESTS}", manifest.MANIFEST_FILE)
    return sorted(
        name[len(prefix) :]
        for name in folders
        if name.startswith(prefix) and is_period(name[len(prefix) :])
    )


def load(root: Path, period: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The period's manifest, or None with the reason it cannot be used."""
    rel = manifest_rel(period)
    try:
        return json.loads(storage_for(root).read_bytes(rel)), []
    except (OSError, ValueError) as exc:
        return None, [f"{period}: manifest unreadable: {rel}: {exc}"]


def _short(digest: str | None) -> str:
    return "none" if digest is None else digest[:16] + "…"


def check_files(
    root: Path, period: str, doc: dict[str, Any], map_: Map = map
) -> tuple[int, list[str]]:
    """Re-hash every input and output the manifest lists (with ``map_``: a thread pool's hashes
    two files at a time); (files checked, differences, in the manifest's order)."""
    storage = storage_for(root)
    entries = [entry for kind in ("inputs", "outputs") for entry in doc.get(kind, [])]

    def problem(entry: dict[str, Any]) -> str | None:
        stat = storage.stat(entry["path"])
        if stat is None:
            return f"{period}: file missing: {entry['path']}"
        found = storage.sha256(entry["path"])
        size = stat.size
        if found != entry["sha256"] or size != entry["bytes"]:
            return (
                f"{period}: file changed: {entry['path']} (sha256 recorded "
                f"{_short(entry['sha256'])}, now {_short(found)}; bytes {entry['bytes']} → "
                f"{size})"
            )
        return None

    problems = [found for found in map_(problem, entries) if found is not None]
    return len(entries), problems


def check_unlisted(
    root: Path, period: str, doc: dict[str, Any], input_folders: list[str], outputs: list[str]
) -> list[str]:
    """Files in the period's input and output folders that its manifest does not list (listed
    only: nothing is hashed for this)."""
    listed = {e["path"] for kind in ("inputs", "outputs") for e in doc.get(kind, [])}
    present = [
        *sorted(manifest.input_paths(root, input_folders), key=str.encode),
        *sorted(manifest.output_paths(root, outputs), key=str.encode),
    ]
    return [f"{period}: file not in the manifest: {path}" for path in present if path not in listed]


def check_chain(root: Path, period: str, doc: dict[str, Any]) -> list[str]:
    """The manifest names its own month, and records the previous month's manifest hash."""
    problems = []
    if doc.get("billing_period") != period:
        problems.append(
            f"{period}: manifest of the wrong month: billing_period={period} holds the manifest "
            f"of {doc.get('billing_period')!r}"
        )
    previous = previous_period(period)
    if doc.get("previous_period") != previous:
        problems.append(
            f"{period}: chain broken: manifest links to {doc.get('previous_period')!r}, "
            f"expected {previous}"
        )
    recorded, actual = doc.get("previous_manifest_sha256"), manifest.manifest_sha256(root, previous)
    if recorded != actual:
        problems.append(
            f"{period}: chain broken: recorded sha256 of {previous}'s manifest "
            f"{_short(recorded)}, the file has {_short(actual)}"
        )
    return problems
