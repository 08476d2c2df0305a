"""The one error type for bad reference data, and small readers shared by the loaders."""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from typing import Any

import yaml

from meter_pipeline.storage import storage_for

#: The longest rule text an error message holds.
MAX_RULE_CHARS = 400


class ConfigError(ValueError):
    """A reference file breaks a rule: ``<file>: <key or line>: <rule>`` on one line."""

    def __init__(self, file: str, where: str, rule: str):
        if len(rule) > MAX_RULE_CHARS:  # a huge value in a config file never floods a message
            rule = rule[: MAX_RULE_CHARS - 1] + "…"
        self.file, self.where, self.rule = file, where, rule
        super().__init__(f"{file}: {where}: {rule}")


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors' aliases: a reference file never needs ``*name``, and refusing it
    stops an alias bomb (a few lines expanding to gigabytes) before anything is expanded."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in reference files", event.start_mark
            )
        return super().compose_node(parent, index)


def read_yaml(root: str | os.PathLike, rel: str, *, required: bool) -> dict[str, Any]:
    """Read ``<root>/<rel>`` as a YAML mapping; ``{}`` when optional and absent."""
    text = read_text(root, rel)
    if text is None:
        if required:
            raise ConfigError(rel, "(file)", "is required but does not exist")
        return {}
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(rel, where, f"is not valid YAML ({problem})") from None
    except RecursionError:
        raise ConfigError(rel, "(file)", "is not valid YAML (nested too deeply)") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(rel, "(top level)", "must be a mapping of keys to values")
    return data


@dataclass(frozen=True)
class CsvLayout:
    """A reference CSV file: its path under the root, the columns it needs, and the words of its
    header errors (``{expected}``, ``{missing}`` and ``{twice}`` are filled in)."""

    rel: str
    columns: tuple[str, ...]
    no_header: str = "must have a header row: {expected}"
    missing: str = "misses column {missing} (expected {expected})"
    twice: str = "names column {twice} twice"


#: ``(line number, {column: cell})`` per data row of a reference CSV file: the line of the file
#: the row starts on, counted from 1 as an editor counts them (the header is usually line 1).
CsvRows = list[tuple[int, dict[str, str]]]


def read_csv_rows(root: str | os.PathLike, layout: CsvLayout, *, required: bool) -> CsvRows | None:
    """Read ``<root>/<layout.rel>`` with :func:`parse_csv_rows`; None when optional and absent."""
    text = read_text(root, layout.rel)
    if text is None:
        if required:
            raise ConfigError(layout.rel, "(file)", "is required but does not exist")
        return None
    return parse_csv_rows(text, layout)


def reference_exists(root: str | os.PathLike, rel: str) -> bool:
    """Whether the root has the reference file ``rel`` (anything at that name)."""
    storage = storage_for(root)
    return storage.exists(rel) or storage.is_folder(rel)


def read_text(root: str | os.PathLike, rel: str) -> str | None:
    """A reference file's text, None when there is none; a file that is not valid UTF-8 or
    cannot be read (a folder, no permission) is a ConfigError naming it."""
    storage = storage_for(root)
    try:
        return storage.read_bytes(rel).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(rel, "(file)", "is not valid UTF-8") from None
    except FileNotFoundError:
        if storage.is_folder(rel):
            raise ConfigError(rel, "(file)", "cannot be read (Is a directory)") from None
        return None
    except IsADirectoryError:
        raise ConfigError(rel, "(file)", "cannot be read (Is a directory)") from None
    except OSError as exc:
        raise ConfigError(rel, "(file)", f"cannot be read ({exc.strerror or exc})") from None


def _blank(cells: list[str]) -> bool:
    """A line with nothing but blanks on it, or a row of empty cells (``,,,``, as spreadsheets
    export trailing rows): skipped."""
    return all(not cell.strip() for cell in cells)


def _records(text: str, rel: str) -> list[tuple[int, list[str]]]:
    """``(first line, cells)`` of each record that is not blank, lines counted from 1. A record
    that is not valid CSV (an unclosed quote runs to the end of the file) is named by the line it
    starts on."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    records = []
    while True:
        first = reader.line_num + 1  # a quoted cell may span lines: the record starts here
        try:
            cells = next(reader)
        except StopIteration:
            return records
        except csv.Error as exc:
            raise ConfigError(rel, line(first), f"is not valid CSV ({exc})") from None
        if not _blank(cells):
            records.append((first, cells))


def line(number: int) -> str:
    """Where a row of a reference CSV file is: ``line 33`` (the file's line, header = line 1)."""
    return f"line {number}"


def parse_csv_rows(text: str, layout: CsvLayout) -> CsvRows:
    """The data rows of a reference CSV file, by the one rule every such file follows.

    RFC 4180 read strictly (a stray quote makes the file invalid), a UTF-8 byte order mark
    ignored, blank lines and rows of empty cells skipped wherever they are, cells taken as written,
    extra columns kept (the loaders ignore them). The first record that is not blank is the
    header: it must not name a column twice and must hold every column of the layout; each row
    has as many cells as the header. Every row is numbered by the line of the file it starts on
    (as an editor shows it: the header is usually line 1, so the first data row is line 2), and
    every error names that line: ``reference/customers.csv: line 33: <rule>``.
    """
    rel = layout.rel
    records = _records(text, rel)
    expected = ",".join(layout.columns)
    if not records:
        raise ConfigError(rel, line(1), layout.no_header.format(expected=expected))
    header_line, header = records[0]
    dupes = sorted({name for name in header if header.count(name) > 1})
    if dupes:
        raise ConfigError(
            rel, line(header_line), layout.twice.format(twice=", ".join(map(repr, dupes)))
        )
    missing = [column for column in layout.columns if column not in header]
    if missing:
        raise ConfigError(
            rel,
            line(header_line),
            layout.missing.format(missing=", ".join(missing), expected=expected),
        )
    rows = []
    for number, cells in records[1:]:
        if len(cells) != len(header):
            raise ConfigError(
                rel, line(number), f"has {len(cells)} cells, the header has {len(header)}"
            )
        rows.append((number, dict(zip(header, cells, strict=True))))
    return rows


_DURATION = re.compile(r"([0-9]+)([smhd])\Z")
_UNIT_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}


def parse_duration_us(text: Any, file: str, key: str) -> int:
    """``"1h"`` → microseconds. An integer with s, m, h or d."""
    match = _DURATION.match(str(text)) if isinstance(text, (str, int)) else None
    if match is None or isinstance(text, bool):
        raise ConfigError(
            file, key, f"must be an integer with s, m, h or d (e.g. 1h), got {text!r}"
        )
    return int(match.group(1)) * _UNIT_US[match.group(2)]


def require_int(value: Any, file: str, key: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(file, key, f"must be an integer ≥ {minimum}, got {value!r}")
    return value


def require_str(value: Any, file: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(file, key, f"must be a non-empty string, got {value!r}")
    return value


def reject_unknown_keys(data: dict, allowed: set[str], file: str, where: str) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(
                file,
                f"{where}{key}",
                f"is not a known key (expected one of: {', '.join(sorted(allowed))})",
            )
