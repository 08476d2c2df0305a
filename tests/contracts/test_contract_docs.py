"""The finance docs are generated from the contracts and must be current."""

import pandera.errors
import polars as pl
import pytest

from data_contracts import CONTRACTS, conform, empty_frame
from data_contracts.render import DOCS, rendered


def test_rendered_docs_are_committed_and_current():
    stale = [
        name
        for name, text in rendered().items()
        if not (DOCS / name).exists() or (DOCS / name).read_text(encoding="utf-8") != text
    ]
    assert stale == [], f"run `python -m data_contracts.render` to refresh: {stale}"


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_every_contract_accepts_its_own_empty_frame(table):
    assert conform(empty_frame(CONTRACTS[table]), CONTRACTS[table]).height == 0


def test_a_float_value_column_breaks_the_clean_events_contract():
    frame = empty_frame(CONTRACTS["clean_events"]).with_columns(pl.col("value").cast(pl.Float64))
    with pytest.raises(pandera.errors.SchemaErrors, match="value"):
        conform(frame, CONTRACTS["clean_events"])


def test_an_unknown_reason_breaks_the_quarantine_contract():
    import datetime as dt

    frame = pl.DataFrame(
        {
            "landing_date": [dt.date(2026, 9, 1)],
            "source_file": ["f"],
            "line_number": [1],
            "reason": ["bad_vibes"],
            "detail": ["x"],
            "raw_record": ["{}"],
        },
        schema=empty_frame(CONTRACTS["quarantined_events"]).schema,
    )
    with pytest.raises(pandera.errors.SchemaErrors, match="isin"):
        conform(frame, CONTRACTS["quarantined_events"])
