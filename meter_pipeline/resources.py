"""The Dagster resource that says where the data root is and holds its reference, loaded once."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from meter_pipeline.config.reference import Reference, load_reference, resolve_root


class DataRoot(dg.ConfigurableResource):
    """The data root: ``root`` when set, else ``$METER_PIPELINE_ROOT`` (read at run time), else
    ``./data``. Its reference files are loaded and validated once per run (per process), on first
    use, and every asset of the run sees that one :class:`Reference`."""

    root: str | None = None
    _reference: Reference | None = PrivateAttr(default=None)

    def path(self) -> Path:
        return resolve_root(self.root)

    def reference(self) -> Reference:
        if self._reference is None:
            self._reference = load_reference(self.path())
        return self._reference
