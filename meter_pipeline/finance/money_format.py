"""The one money formatter of the CLI, the reports and the invoice documents.

Amounts are shown at their currency's minor unit (ISO 4217, from the ``iso4217`` package, as
pricing.yaml's rounding uses): ``USD 42,180.87``, ``JPY 75,695``, ``BHD 1.250``. Digit grouping and
the currency symbol come from Babel (CLDR). Display only and never rounded: an amount finer
than its minor unit (none on an invoice: a blocking check proves it) shows all of its digits, and
nothing goes through float.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from iso4217 import Currency

LOCALE = "en_US"


def minor_units(currency: str) -> int:
    """The ISO 4217 minor units of ``currency`` (2 for USD, 0 for JPY, 3 for BHD)."""
    exponent = Currency(currency.upper()).exponent
    return 0 if exponent is None else int(exponent)


def _pattern(currency: str, code: bool, digits: int) -> str:
    number = "#,##0" + ("." + "0" * digits if digits else "")
    sign = "¤¤\u00a0" if code else "¤"
    return f"{sign}{number};{sign}-{number}"


def format_money(amount: Decimal | int | str, currency: str, symbol: bool = False) -> str:
    """``USD 1,234.50``, ``USD -317.69`` (``symbol``: ``$1,234.50``, ``$-317.69``)."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    # Never hide a digit: an amount finer than the minor unit shows all of its digits.
    exponent = value.normalize().as_tuple().exponent
    finer = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    text = format_currency(
        value,
        currency.upper(),
        format=_pattern(currency, not symbol, max(minor_units(currency), finer)),
        locale=LOCALE,
        currency_digits=False,
    )
    return text.replace("\u00a0", " ")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 customer``, ``3 customers``."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"
