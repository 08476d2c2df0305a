"""A printable PDF of one invoice, made with fpdf2 (pure Python, no browser or system library).

The PDF uses fpdf2's built-in Helvetica, which covers Latin-1: money is shown with currency codes
(``USD 1,234.50``), and a character outside Latin-1 in a customer name or line text is shown as
``?`` (the HTML document shows every character).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fpdf import FPDF

from meter_pipeline.finance.money_format import format_money
from meter_pipeline.finance.tables import quantity

WIDTHS = (10, 86, 24, 20, 24, 26)  # mm: #, description, quantity, free, unit price, amount


def _latin1(text: str) -> str:
    return text.replace("—", "-").encode("latin-1", "replace").decode("latin-1")


def invoice_pdf(
    invoice: dict,
    lines: list[dict],
    name: str,
    describe: Callable[[dict], str],
    title: str,
    total_label: str,
) -> bytes:
    cur = invoice["currency"]
    pdf = FPDF(format="A4")
    # No wall-clock time in the file (same inputs, same bytes): dated the period's first day.
    pdf.set_creation_date(
        dt.datetime.strptime(invoice["billing_period"], "%Y-%m").replace(tzinfo=dt.UTC)
    )
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in (
        f"Customer: {name} ({invoice['customer_id']})",
        f"Billing period: {invoice['billing_period']}    Currency: {cur}",
    ):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 9)
    heads = ("#", "Description", "Quantity", "Free units", "Unit price", "Amount")
    for width, head in zip(WIDTHS, heads, strict=True):
        pdf.cell(width, 7, head, border="B", align="L" if head == "Description" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for line in lines:
        unit = line["unit_price"]
        cells = (
            str(line["line_no"]),
            describe(line)[:60],
            quantity(line["quantity"]),
            quantity(line["free_quantity"]),
            "" if unit is None else format_money(unit, cur),
            format_money(line["amount"], cur),
        )
        for i, (width, text) in enumerate(zip(WIDTHS, cells, strict=True)):
            pdf.cell(width, 6, _latin1(text), border="B", align="L" if i == 1 else "R")
        pdf.ln()
    pdf.ln(2)
    for label, key in (("Subtotal", "subtotal"), ("Credits", "credits"), (total_label, "total")):
        pdf.set_font("Helvetica", "B" if key == "total" else "", 10)
        pdf.cell(sum(WIDTHS[:-1]), 7, label, align="R")
        pdf.cell(WIDTHS[-1], 7, _latin1(format_money(invoice[key], cur)), align="R")
        pdf.ln()
    return bytes(pdf.output())
