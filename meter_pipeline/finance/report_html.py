"""The HTML pieces of the usage report: the page, a section, a table (cells escaped)."""

from __future__ import annotations

from collections.abc import Sequence

from meter_pipeline.finance.tables import esc

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{padding:.3em .7em;border-bottom:1px solid #ddd}
th{text-align:left;background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
section{margin-bottom:2.5em}svg{max-width:100%;height:auto}nav a{margin-right:1em}
"""
SECTIONS = (
    ("revenue", "Revenue"),
    ("month-over-month", "Month over month"),
    ("top-customers", "Top customers"),
    ("usage", "Usage"),
    ("quality", "Data quality"),
    ("corrections", "Corrections"),
    ("sla", "Uptime and credits"),
)


def _numeric(text: str) -> bool:
    return bool(text) and (
        text[0].isdigit() or text[:1] == "-" or text[:4].isupper() and " " in text
    )


def table(head: Sequence[str], rows: Sequence[Sequence], ids: Sequence[str] | None = None) -> str:
    """A table; cells that look like numbers or money are right-aligned."""
    out = ["<table><thead><tr>", *(f"<th>{esc(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for i, row in enumerate(rows):
        row_id = f' id="{esc(ids[i])}"' if ids else ""
        cells = "".join(
            f'<td class="n">{esc(c)}</td>' if _numeric(str(c)) else f"<td>{esc(c)}</td>"
            for c in row
        )
        out.append(f"<tr{row_id}>{cells}</tr>")
    if not rows:
        out.append(f'<tr><td colspan="{len(head)}">none</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def page(title: str, body: str) -> str:
    nav = "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in SECTIONS)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1><nav>{nav}</nav>{body}"
        "<p><small>Made by meter-pipeline from the warehouse tables. Amounts are exact at the "
        "currency's minor unit; charts show the same figures.</small></p></body></html>"
    )
