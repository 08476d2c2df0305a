"""``meter-pipeline invoices --period YYYY-MM --out DIR``: one document per invoice.

For each invoice of the month: ``<invoice_id>.html`` (lines with quantities, free units, unit
prices, credits with the month they were earned in, adjustments with what they adjust and the
month they were earned in, totals in the currency's format; a credit note is titled so) and
``<invoice_id>.pdf`` (the same, printable, made with fpdf2), plus ``invoices.csv`` and
``invoice_lines.csv`` of the month for the ledger (amounts as exact decimal text). The
documents show the warehouse's numbers; nothing is recomputed or rounded here.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from meter_pipeline.finance.money_format import format_money
from meter_pipeline.finance.pdf import invoice_pdf
from meter_pipeline.finance.tables import (
    FinanceError,
    closed_month,
    customer_names,
    esc,
    quantity,
    read_table,
)

KIND = {
    "platform_fee": "Platform fee",
    "usage": "Usage",
    "minimum_commitment": "Minimum commitment true-up",
    "sla_credit": "SLA credit",
    "adjustment": "Adjustment",
}
TITLE = {"invoice": "Invoice", "credit_note": "Credit note"}
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{padding:.35em .6em;border-bottom:1px solid #ddd}
th{text-align:left;background:#f4f4f4}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.totals td{border:none}.totals .grand td{font-weight:bold;border-top:2px solid #222}
.credit td{color:#06623b}@media print{body{margin:0}}
"""


MONTHS = (
    "January February March April May June July August September October November December"
).split()


def month_name(period: str) -> str:
    """``2026-09`` → ``September 2026`` (English whatever the process locale)."""
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def title(invoice: dict) -> str:
    """``Invoice 2026-10-acme``, or ``Credit note 2026-10-acme`` when the total is negative."""
    kind = TITLE.get(invoice.get("document_type") or "invoice", "Invoice")
    return f"{kind} {invoice['invoice_id']}"


def total_label(invoice: dict) -> str:
    return "Total credited" if invoice.get("document_type") == "credit_note" else "Total due"


def describe(line: dict) -> str:
    """What a line is, in words: kind, then what it is for."""
    kind = KIND.get(line["kind"], line["kind"].replace("_", " ").capitalize())
    if line["kind"] == "adjustment":  # a correction of a closed month (docs/audit.md)
        what = line.get("charge_id") or (line.get("adjusts") or "").replace("_", " ")
        earned = line.get("earned_period")
        detail = ", ".join(p for p in (what, earned and month_name(earned)) if p)
        return f"{kind} — {detail}" if detail else kind
    parts = {
        "platform_fee": [line["service"], line["plan_id"]],
        "usage": [line["charge_id"], line["meter"] and f"meter {line['meter']}"],
        "minimum_commitment": [line["plan_id"]],
        "sla_credit": [
            line["service"],
            line["earned_period"] and f"earned {line['earned_period']}",
        ],
    }.get(line["kind"], [line.get("charge_id"), line.get("service")])
    days = line.get("active_days")
    if line["kind"] in ("platform_fee", "minimum_commitment") and days:
        parts.append(f"{days} active days")
    detail = ", ".join(str(p) for p in parts if p)
    return f"{kind} — {detail}" if detail else kind


def invoice_html(invoice: dict, lines: list[dict], name: str) -> str:
    cur = invoice["currency"]
    rows = []
    for line in lines:
        unit = line["unit_price"]
        rows.append(
            f'<tr class="{"credit" if line["kind"] == "sla_credit" else line["kind"]}" '
            f'data-line="{line["line_no"]}"><td>{line["line_no"]}</td>'
            f"<td>{esc(describe(line))}</td>"
            f'<td class="n">{quantity(line["quantity"])}</td>'
            f'<td class="n">{quantity(line["free_quantity"])}</td>'
            f'<td class="n">{"" if unit is None else esc(format_money(unit, cur))}</td>'
            f'<td class="n amount" data-amount="{line["amount"]}">'
            f"{esc(format_money(line['amount'], cur))}</td></tr>"
        )
    totals = "".join(
        f'<tr class="{cls}"><td colspan="5" class="n">{label}</td>'
        f'<td class="n" data-{key}="{invoice[key]}">'
        f"{esc(format_money(invoice[key], cur))}</td></tr>"
        for label, key, cls in (
            ("Subtotal", "subtotal", ""),
            ("Credits", "credits", ""),
            (total_label(invoice), "total", "grand"),
        )
    )
    heading = title(invoice)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(heading)}</title>'
        f"<style>{STYLE}</style></head><body>"
        f'<h1 data-document-type="{esc(invoice.get("document_type") or "invoice")}">'
        f"{esc(heading)}</h1><p>Customer: <b>{esc(name)}</b> ({esc(invoice['customer_id'])})"
        f"<br>Billing period: {esc(invoice['billing_period'])}<br>Currency: {esc(cur)}</p>"
        "<table><thead><tr><th>#</th><th>Description</th><th class=n>Quantity</th>"
        "<th class=n>Free units</th><th class=n>Unit price</th><th class=n>Amount</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody>"
        f'<tbody class="totals">{totals}</tbody></table>'
        "<p><small>Amounts are exact at the currency's minor unit. Quantities after free units; "
        "credits are SLA service credits applied from earlier months; adjustments correct the "
        "usage of an earlier month, already invoiced, named with it.</small></p>"
        "</body></html>"
    )


def write_invoices(root: Path, period: str, out: Path, pdf: bool = True) -> list[Path]:
    """Write the month's documents and CSV files under ``out``; returns the paths written."""
    closed_month(root, period)
    invoices = read_table(root, "invoices", [period]).sort("invoice_id")
    lines = read_table(root, "invoice_lines", [period]).sort("invoice_id", "line_no")
    names = customer_names(root)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for invoice in invoices.iter_rows(named=True):
        mine = lines.filter(pl.col("invoice_id") == invoice["invoice_id"]).to_dicts()
        name = names.get(invoice["customer_id"], invoice["customer_id"])
        page = out / f"{invoice['invoice_id']}.html"
        page.write_text(invoice_html(invoice, mine, name), encoding="utf-8")
        written.append(page)
        if pdf:
            doc = out / f"{invoice['invoice_id']}.pdf"
            doc.write_bytes(
                invoice_pdf(invoice, mine, name, describe, title(invoice), total_label(invoice))
            )
            written.append(doc)
    for table, frame in (("invoices", invoices), ("invoice_lines", lines)):
        path = out / f"{table}.csv"
        frame.write_csv(path)
        written.append(path)
    if not invoices.height:
        raise FinanceError(f"{period} has no invoices (nobody billed); wrote the empty CSV files")
    return written
