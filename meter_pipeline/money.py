"""Exact numbers: the Decimal dtypes, parsing from decimal text, and the one rounding function.

Nothing in a money or quantity path goes through binary floating point. Values are parsed from
their decimal text with :class:`decimal.Decimal`, stored as ``Decimal(38, 9)`` (quantities) or
``Decimal(38, 4)`` (money), and rounded once per invoice line by :func:`round_money`.
"""

from __future__ import annotations

import decimal
import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import polars as pl

from meter_pipeline.grammar import JSON_NUMBER_PATTERN

QUANTITY = pl.Decimal(38, 9)
MONEY = pl.Decimal(38, 4)
PERCENT = pl.Decimal(9, 4)

QUANTITY_EXP = Decimal("1e-9")
VALUE_LIMIT = Decimal("1e20")

#: The JSON number grammar of RFC 8259 (no leading '+', no leading zeros, no bare '.').
JSON_NUMBER = re.compile(JSON_NUMBER_PATTERN + r"\Z")

#: A context wide enough that no operation on our ranges ever rounds silently.
EXACT = decimal.Context(
    prec=200,
    rounding=ROUND_HALF_EVEN,
    Emax=999999,
    Emin=-999999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def is_json_number(text: str) -> bool:
    """True when ``text`` is exactly a JSON number token."""
    return JSON_NUMBER.match(text) is not None


def parse_decimal(text: str) -> Decimal:
    """Parse a JSON-number text exactly. Raises ``ValueError`` for anything else."""
    if not is_json_number(text):
        raise ValueError(f"{text!r} is not a decimal number")
    return EXACT.create_decimal(text)


def to_quantity(value: Decimal) -> Decimal:
    """Round an exact value to 9 fractional digits, half-even (the Decimal(38, 9) storage rule)."""
    # EXACT.add, not ``+``: the operator would round to the thread context's 28 digits. Adding 0
    # turns a -0 into 0.
    return EXACT.add(
        value.quantize(QUANTITY_EXP, rounding=ROUND_HALF_EVEN, context=EXACT), Decimal(0)
    )


def round_money(amount: Decimal, minor_units: int, mode: str) -> Decimal:
    """Round an exact amount once, to ``minor_units`` fractional digits.

    ``half_up`` rounds half away from zero (the commercial rule); ``half_even`` is banker's
    rounding. This is the only place a money amount is rounded.
    """
    try:
        rounding = ROUNDING_MODES[mode]
    except KeyError:
        raise ValueError(f"unknown rounding mode {mode!r}") from None
    exp = Decimal(1).scaleb(-minor_units)
    return EXACT.add(amount.quantize(exp, rounding=rounding, context=EXACT), Decimal(0))
