"""Render the contracts into Markdown docs for finance: ``python -m data_contracts.render``.

Writes ``data_contracts/docs/<table>.md`` and an index; a test keeps them current.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from data_contracts import CONTRACTS, PARTITION_COLUMN
from data_contracts.base import descriptions, model_description, polars_schema

DOCS = Path(__file__).parent / "docs"

_TYPES = {
    "Decimal(precision=38, scale=9)": "decimal(38, 9) — exact quantity",
    "Decimal(precision=38, scale=4)": "decimal(38, 4) — money, exact at the currency's minor unit",
    "Decimal(precision=9, scale=4)": "decimal(9, 4) — percentage, shown rounded down",
    "Datetime(time_unit='us', time_zone='UTC')": "timestamp[us, UTC]",
    "Date": "date32",
    "String": "string",
    "Int64": "int64",
    "UInt64": "uint64",
    "Boolean": "boolean",
}


#: A reference to the user docs in a model's text: ``docs/rules.md#7-pricing``, ``docs/whatif.md``.
_DOC_REF = re.compile(r"(?<![\w/])((?:data_contracts/)?docs/[\w.-]+\.md(?:#[\w-]+)?)")


def _linked(text: str) -> str:
    """The text with each docs reference made a link relative to ``data_contracts/docs/``."""

    def link(match: re.Match[str]) -> str:
        ref = match.group(1)
        target = ref.removeprefix("data_contracts/docs/") if ref.startswith("data_") else ref
        return f"[{ref}]({target if target != ref else '../../' + ref})"

    return _DOC_REF.sub(link, text)


def _type(dtype: object) -> str:
    text = str(dtype)
    return _TYPES.get(text, text.replace("|", "\\|"))


def render_table(table: str) -> str:
    model = CONTRACTS[table]
    cols = model.to_schema().columns
    docs = descriptions(model)
    part = PARTITION_COLUMN[table]
    lines = [
        f"# {table}",
        "",
        _linked(model_description(model)),
        "",
        f"Partitioned by `{part}`: `warehouse/{table}/{part}=<key>/part-0.parquet` (the partition "
        "column is in the folder name).",
        "",
        "| column | type | nullable | meaning |",
        "|---|---|---|---|",
    ]
    for name, dtype in polars_schema(model).items():
        nullable = "yes" if cols[name].nullable else "no"
        lines.append(f"| `{name}` | {_type(dtype)} | {nullable} | {_linked(docs.get(name, ''))} |")
    lines += [
        "",
        "```sql",
        f"select * from read_parquet('<root>/warehouse/{table}/*/*.parquet', "
        "hive_partitioning=true);",
        "```",
        "",
    ]
    return "\n".join(lines)


def render_index() -> str:
    lines = [
        "# Table contracts",
        "",
        "Generated from the pandera models in `data_contracts/` by "
        "`python -m data_contracts.render`; do not edit by hand.",
        "",
        "| table | partition | grain |",
        "|---|---|---|",
    ]
    for table, model in CONTRACTS.items():
        lines.append(
            f"| [{table}]({table}.md) | `{PARTITION_COLUMN[table]}` | "
            f"{_linked(model_description(model))} |"
        )
    return "\n".join(lines) + "\n"


def rendered() -> dict[str, str]:
    """File name → content of every doc page."""
    pages = {f"{table}.md": render_table(table) for table in CONTRACTS}
    pages["README.md"] = render_index()
    return pages


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (DOCS / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(rendered())} pages to {DOCS}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
