"""Corrections (SPEC §15, §17): every reason, duplicates, stacking and the day's tables, by hand."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from meter_pipeline.ingestion.correction_day import applied_period, day_tables
from meter_pipeline.ingestion.corrections import DayState, Target, judge_day
from meter_pipeline.io.jsonl import read_jsonl
from tests.helpers.billing import METERS

DAY = dt.date(2026, 11, 10)
TARGETS = {
    "calls": Target("calls", dt.date(2026, 11, 2), "api_calls", "2026-11"),
    "tokens": Target("tokens", dt.date(2026, 11, 3), "llm_tokens", "2026-11"),
    "users": Target("users", dt.date(2026, 11, 3), "active_users", "2026-11"),
}


def rows(*objects) -> list:
    text = "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n"
    return [("landing/corrections/2026-11-10/c.jsonl", r) for r in read_jsonl(text.encode())]


def run(*objects, state=None):
    state = state or DayState()
    return (*judge_day(rows(*objects), DAY, TARGETS, state, METERS), state)


def c(cid="k1", eid="tokens", action="amend", **extra) -> dict:
    return {"correction_id": cid, "event_id": eid, "action": action, **extra}


@pytest.mark.parametrize(
    "obj, reason",
    [
        pytest.param("{not json", "malformed", id="not JSON: malformed"),
        pytest.param(
            {"event_id": "tokens", "action": "void"}, "missing_field", id="no correction_id"
        ),
        pytest.param(c(action=""), "missing_field", id="an empty action is absent"),
        pytest.param(c(), "missing_field", id="an amend with neither value nor dimensions"),
        pytest.param(c(eid=5, value="1"), "invalid_type", id="a numeric event_id"),
        pytest.param(c(value=True), "invalid_type", id="a boolean value"),
        pytest.param(c(dimensions={"model": ["x"]}), "invalid_type", id="an array dimension value"),
        pytest.param(c(eid="nope", action="void"), "unknown_event", id="no such clean event"),
        pytest.param(c(eid="calls", action="undo"), "invalid_value", id="an unknown action"),
        pytest.param(c(eid="calls", value="2"), "invalid_value", id="a value on a count meter"),
        pytest.param(c(value="1e20"), "invalid_value", id="a value out of range"),
        pytest.param(c(value="NaN"), "invalid_value", id="NaN is not a JSON number"),
        pytest.param(c(value="-1"), "negative_value", id="a negative value"),
        pytest.param(
            c(dimensions={"region": "eu"}), "missing_dimension", id="the new map lacks model"
        ),
        pytest.param(
            c(eid="users", dimensions={"user_id": ""}), "missing_dimension", id="empty unique dim"
        ),
    ],
)
def test_each_reason(obj, reason):
    accepted, quarantined, duplicates, _ = run(obj)
    assert (len(accepted), len(duplicates)) == (0, 0)
    assert [q["reason"] for q in quarantined] == [reason]


def test_an_unknown_event_comes_before_a_bad_action():
    _, quarantined, _, _ = run(c(eid="nope", action="undo"))
    assert quarantined[0]["reason"] == "unknown_event"


def test_a_void_then_any_correction_of_that_event_is_already_voided():
    accepted, quarantined, _, state = run(
        c("v1", "tokens", "void", value="ignored on a void"),
        c("a1", "tokens", value="3"),
        c("v2", "tokens", "void"),
    )
    assert [(a.correction_id, a.action, a.value) for a in accepted] == [("v1", "void", None)]
    assert [q["reason"] for q in quarantined] == ["already_voided", "already_voided"]
    assert ("tokens", dt.date(2026, 11, 3)) in state.voided


def test_amends_are_accepted_in_arrival_order_with_exact_values_and_sorted_dimensions():
    accepted, quarantined, _, _ = run(
        c("a1", value="2.5"),
        c("a2", dimensions={"model": "large", "b": 7, "a": True}),
        c("a3", value=1.0000000005),
    )
    assert quarantined == []
    assert accepted[0].value == Decimal("2.500000000") and accepted[0].dimensions is None
    assert accepted[1].value is None
    assert accepted[1].dimensions == [
        {"key": "a", "value": "true"},
        {"key": "b", "value": "7"},
        {"key": "model", "value": "large"},
    ]
    assert accepted[2].value == Decimal("1.000000000")  # half-even beyond 9 digits, from text


def test_a_repeated_correction_id_is_a_duplicate_before_any_reason_with_its_conflict_flag():
    accepted, quarantined, duplicates, _ = run(
        c("k1", value="3"),
        c("k1", value="3"),
        c("k1", value="4"),
        c("k1", eid="nope", action="gibberish"),
    )
    assert len(accepted) == 1 and quarantined == []
    assert [(d["line_number"], d["conflict"], d["first_landing_date"]) for d in duplicates] == [
        (2, False, DAY),
        (3, True, DAY),
        (4, True, DAY),
    ]


def test_quarantined_rows_are_never_seen():
    accepted, quarantined, duplicates, _ = run(c("k1", value="-3"), c("k1", value="3"))
    assert [q["reason"] for q in quarantined] == ["negative_value"]
    assert len(accepted) == 1 and duplicates == []


@pytest.mark.parametrize(
    "period, day, expected",
    [
        ("2026-11", "2026-12-03", "2026-11"),  # the last landing day: still open
        ("2026-11", "2026-12-04", "2026-12"),  # closed: the earliest open period
        ("2026-09", "2026-12-10", "2026-12"),
        (None, "2026-11-10", None),  # late_ignored: no period bills it
    ],
)
def test_applied_period(period, day, expected):
    assert applied_period(period, dt.date.fromisoformat(day), 3) == expected


def test_day_tables_conserve_rows():
    accepted, quarantined, duplicates, _ = run(
        c("k1", value="3"), c("k1", value="3"), "{bad", c("k2", eid="nope", action="void")
    )
    tables = day_tables(DAY, accepted, quarantined, duplicates, 3, 4)
    audit = tables["correction_audit"].row(0, named=True)
    assert (audit["rows_read"], audit["rows_accepted"]) == (4, 1)
    assert (audit["rows_quarantined"], audit["rows_duplicate"]) == (2, 1)
    row = tables["event_corrections"].row(0, named=True)
    assert (row["applied_period"], row["event_landing_date"]) == ("2026-11", dt.date(2026, 11, 3))


def test_effective_events_apply_voids_and_stacked_amends_in_arrival_order():
    import polars as pl

    from meter_pipeline.billing.effective import effective_events
    from tests.helpers.billing import event, events_frame

    e1 = event("acme", "llm_tokens", "2026-11-02", "10", {"model": "small"})
    e2 = event("acme", "llm_tokens", "2026-11-02", "20", {"model": "small"})
    e3 = event("acme", "llm_tokens", "2026-11-02", "30", {"model": "small"})
    events = events_frame([e1, e2, e3])
    landing = e1["landing_date"]

    def corr(line, eid, action, value=None, dims=None):
        return {
            "landing_date": dt.date(2026, 11, 5),
            "source_file": "landing/corrections/2026-11-05/c.jsonl",
            "line_number": line,
            "event_id": eid,
            "event_landing_date": landing,
            "action": action,
            "value": None if value is None else Decimal(value),
            "dimensions": None if dims is None else [{"key": "model", "value": dims}],
        }

    corrections = pl.DataFrame(
        [
            corr(3, e2["event_id"], "amend", value="25"),  # arrives last: wins
            corr(1, e2["event_id"], "amend", value="21", dims="large"),
            corr(2, e1["event_id"], "void"),
        ],
        schema_overrides={
            "value": pl.Decimal(38, 9),
            "dimensions": pl.List(pl.Struct({"key": pl.String, "value": pl.String})),
        },
    )
    out = effective_events(events, corrections).collect()
    assert out.columns == events.columns
    assert [(r["event_id"], str(r["value"])) for r in out.iter_rows(named=True)] == [
        (e2["event_id"], "25.000000000"),
        (e3["event_id"], "30.000000000"),
    ]
    assert out["dimensions"].to_list()[0] == [{"key": "model", "value": "large"}]
    assert out["dimensions"].to_list()[1] == [{"key": "model", "value": "small"}]
