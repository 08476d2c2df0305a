"""The charges of a plan in ``reference/pricing.yaml`` (docs/rules.md#7-pricing), parsed exactly.

Every number is a decimal *string* in YAML (``unit_price: "0.002"``) and becomes a
:class:`~decimal.Decimal` parsed from that text. A YAML float or integer where a decimal string is
required is an error: ``0.1`` in YAML is already a binary float, so its exact value is lost.

Choices the rules leave open (documented here for finance):

- A value stored in a ``Decimal(38, 9)`` column (``unit_price`` of per_unit lines, ``up_to``,
  ``free_units``, ``package_size``) may have at most 9 fractional digits.
- Prices, fees, rates and quantities may not be negative; ``package_size`` must be positive.
- ``per_unit`` with no ``unit_price`` prices at 0 (docs/rules.md#fine-print-of-invoice-lines).
- A key that the charge's model does not use (e.g. ``tiers`` on a per_unit charge) is an error,
  so a typo cannot silently change a price.
- ``filter`` values must be strings (quote numbers: ``{tier: "1"}``), as dimensions are strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from meter_pipeline.config.errors import ConfigError, reject_unknown_keys, require_str
from meter_pipeline.money import EXACT, parse_decimal

MODELS = ("per_unit", "graduated", "volume", "package", "percentage")
_COMMON = {"id", "meter", "model", "filter", "free_units", "name", "description"}
#: model -> (required keys, optional keys), beyond the common ones.
_MODEL_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "per_unit": (frozenset(), frozenset({"unit_price"})),
    "graduated": (frozenset({"tiers"}), frozenset()),
    "volume": (frozenset({"tiers"}), frozenset()),
    "package": (frozenset({"package_size", "package_price"}), frozenset()),
    "percentage": (frozenset({"rate"}), frozenset({"fee_per_event"})),
}
_TIER = {"up_to", "unit_price", "flat_fee"}
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Tier:
    """One tier: ``up_to`` is an inclusive upper bound (None = no bound)."""

    up_to: Decimal | None
    unit_price: Decimal = _ZERO
    flat_fee: Decimal = _ZERO


@dataclass(frozen=True)
class Charge:
    """One usage charge of a plan; the model decides which price fields apply."""

    id: str
    meter: str
    model: str
    filter: tuple[tuple[str, str], ...] = ()
    free_units: Decimal = _ZERO
    unit_price: Decimal = _ZERO
    tiers: tuple[Tier, ...] = ()
    package_size: Decimal | None = None
    package_price: Decimal = _ZERO
    rate: Decimal = _ZERO
    fee_per_event: Decimal = _ZERO


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a YAML boolean {value!r}"
    if isinstance(value, float):
        return f"a YAML float {value!r} (inexact; quote it)"
    if isinstance(value, int):
        return f"a YAML integer {value!r} (quote it)"
    return f"{type(value).__name__} {value!r}"


def require_decimal(
    value: Any, file: str, key: str, *, positive: bool = False, max_scale: int | None = None
) -> Decimal:
    """Parse a non-negative decimal string exactly (positive when asked); else ConfigError."""
    if not isinstance(value, str):
        raise ConfigError(file, key, f'must be a decimal string such as "0.25", got {_kind(value)}')
    try:
        number = parse_decimal(value)
    except ValueError:
        raise ConfigError(file, key, f"must be a decimal number, got {value!r}") from None
    if number < 0 or (positive and number == 0):
        raise ConfigError(file, key, f"must be {'> 0' if positive else '≥ 0'}, got {value!r}")
    if number.adjusted() >= 20:
        raise ConfigError(file, key, f"must be below 10^20, got {value!r}")
    if max_scale is not None and number != number.quantize(
        Decimal(1).scaleb(-max_scale), context=EXACT
    ):
        raise ConfigError(file, key, f"must have at most {max_scale} decimal places, got {value!r}")
    return number + _ZERO


def _optional_decimal(raw: dict, name: str, file: str, where: str, **kw: Any) -> Decimal:
    return (
        _ZERO if raw.get(name) is None else require_decimal(raw[name], file, f"{where}{name}", **kw)
    )


def parse_tiers(raw: Any, file: str, where: str) -> tuple[Tier, ...]:
    """Tiers with strictly increasing ``up_to``; only the last, and always the last, is null."""
    if not isinstance(raw, list) or not raw:
        raise ConfigError(file, where, "must be a non-empty list of tiers")
    tiers: list[Tier] = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(file, at, "must be a mapping with up_to, unit_price, flat_fee")
        reject_unknown_keys(item, _TIER, file, f"{at}.")
        if "up_to" not in item:
            raise ConfigError(file, f"{at}.up_to", "is required (null on the last tier)")
        last = i == len(raw) - 1
        up_to = item["up_to"]
        if up_to is None and not last:
            raise ConfigError(file, f"{at}.up_to", "only the last tier may have up_to: null")
        if up_to is not None:
            if last:
                raise ConfigError(file, f"{at}.up_to", "the last tier must have up_to: null")
            up_to = require_decimal(up_to, file, f"{at}.up_to", max_scale=9)
            if tiers and up_to <= tiers[-1].up_to:
                raise ConfigError(
                    file,
                    f"{at}.up_to",
                    f"tiers must be strictly increasing: {up_to} is not above {tiers[-1].up_to}",
                )
        tiers.append(
            Tier(
                up_to,
                _optional_decimal(item, "unit_price", file, f"{at}."),
                _optional_decimal(item, "flat_fee", file, f"{at}."),
            )
        )
    return tuple(tiers)


def _parse_filter(raw: Any, file: str, key: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ConfigError(
            file,
            key,
            'must be a mapping of dimension name to string value (quote numbers: {tier: "1"})',
        )
    return tuple(sorted(raw.items()))


def parse_charge(raw: Any, file: str, where: str, meters: Any) -> Charge:
    """Validate one charge mapping; ``meters`` is the collection of known meter names."""
    if not isinstance(raw, dict):
        raise ConfigError(file, where, "must be a mapping with id, meter and model")
    charge_id = require_str(raw.get("id"), file, f"{where}.id")
    meter = require_str(raw.get("meter"), file, f"{where}.meter")
    if meter not in meters:
        raise ConfigError(
            file, f"{where}.meter", f"unknown meter {meter!r} (not in reference/meters.yaml)"
        )
    model = raw.get("model")
    if model not in MODELS:
        raise ConfigError(
            file, f"{where}.model", f"must be one of {', '.join(MODELS)}, got {model!r}"
        )
    required, optional = _MODEL_KEYS[model]
    reject_unknown_keys(raw, _COMMON | required | optional, file, f"{where}.")
    for key in sorted(required):
        if raw.get(key) is None:
            raise ConfigError(file, f"{where}.{key}", f"is required by model {model}")
    at = f"{where}."
    return Charge(
        id=charge_id,
        meter=meter,
        model=model,
        filter=_parse_filter(raw.get("filter"), file, f"{where}.filter"),
        free_units=_optional_decimal(raw, "free_units", file, at, max_scale=9),
        unit_price=_optional_decimal(raw, "unit_price", file, at, max_scale=9),
        tiers=parse_tiers(raw["tiers"], file, f"{where}.tiers") if "tiers" in required else (),
        package_size=(
            require_decimal(
                raw["package_size"], file, f"{at}package_size", positive=True, max_scale=9
            )
            if model == "package"
            else None
        ),
        package_price=_optional_decimal(raw, "package_price", file, at),
        rate=_optional_decimal(raw, "rate", file, at),
        fee_per_event=_optional_decimal(raw, "fee_per_event", file, at),
    )
