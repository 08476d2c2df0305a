"""What an operator reads: a missing or wrong root, --version, the query command's errors, run
tags and the instance folder, and the one money format (exact, at the currency's minor unit)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meter_pipeline.cli import main
from meter_pipeline.finance.money_format import format_money, minor_units, plural
from meter_pipeline.instance import ARGS_TAG, COMMAND_TAG, instance_home, run_tags


def test_a_missing_root_is_named_with_the_demo_command(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert (
        main(["backfill", "--root", str(missing), "--start", "2026-08-01", "--end", "2026-08-01"])
        == 2
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"error: data root {missing} does not exist (from --root, $METER_PIPELINE_ROOT or "
        "./data). Check the path, or make a demo root there: "
        f"meter-pipeline demo --root {missing}\n"
    )
    assert not missing.exists()  # nothing written


def test_a_root_without_reference_says_so(tmp_path, capsys):
    assert (
        main(["backfill", "--root", str(tmp_path), "--start", "2026-08-01", "--end", "2026-08-01"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith(f"error: data root {tmp_path} has no reference/ folder")
    assert "meter-pipeline demo --root DIR" in err
    assert not (tmp_path / "warehouse").exists()


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("meter-pipeline 0.1.0 (dagster 1.13.27, polars ")


def test_query_without_a_warehouse_says_what_to_run(tmp_path, capsys):
    assert main(["query", "--root", str(tmp_path), "select 1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"query error: no warehouse at {tmp_path / 'warehouse'}")
    assert f"meter-pipeline demo --root {tmp_path}" in err


def test_run_tags_and_instance_folder(tmp_path, monkeypatch):
    tags = run_tags(["backfill", "--root", "my data", "--start", "2026-08-01"])
    assert tags == {COMMAND_TAG: "backfill", ARGS_TAG: "--root 'my data' --start 2026-08-01"}
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert instance_home(tmp_path / "data") == tmp_path / ".dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert instance_home(tmp_path / "data") == tmp_path / "home"


@pytest.mark.parametrize(
    "amount, currency, text",
    [
        ("42180.8700", "USD", "USD 42,180.87"),
        ("75695.0000", "JPY", "JPY 75,695"),
        ("-317.6900", "USD", "USD -317.69"),
        ("-4500", "JPY", "JPY -4,500"),
        ("1.25", "BHD", "BHD 1.250"),
        ("0", "USD", "USD 0.00"),
        ("0.0000005", "USD", "USD 0.0000005"),  # a unit price finer than a cent: every digit
        ("1234567.125", "USD", "USD 1,234,567.125"),
    ],
)
def test_money_is_shown_at_the_minor_unit(amount, currency, text):
    assert format_money(Decimal(amount), currency) == text


def test_symbols_and_plurals():
    assert format_money(Decimal("1234.5"), "USD", symbol=True) == "$1,234.50"
    assert format_money(Decimal("75695"), "JPY", symbol=True) == "¥75,695"
    assert (plural(1, "customer"), plural(17, "customer")) == ("1 customer", "17 customers")


@given(
    cents=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(["USD", "EUR", "JPY", "BHD", "KWD", "CLP"]),
)
def test_formatting_never_changes_an_amount_at_its_minor_unit(cents, currency):
    amount = Decimal(cents).scaleb(-minor_units(currency))
    code, number = format_money(amount, currency).split(" ")
    assert code == currency
    assert Decimal(number.replace(",", "")) == amount
    decimals = len(number.split(".")[1]) if "." in number else 0
    assert decimals == minor_units(currency)
