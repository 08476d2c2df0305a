"""SPEC §11, §17 Formats: CloudEvents 1.0 and Stripe meter-event lines, recognised per JSONL line.

Every case writes real JSONL lines into a landing folder, ingests the day (2026-09-01) and checks
where each row went. Expected values are worked out by hand from SPEC.md.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.meters import parse_meters
from tests.helpers.ingestion import (
    METERS_YAML,
    DataRoot,
    Raw,
    audit_row,
    clean_rows,
    counts,
    reasons,
)

D = Decimal
NOON_S = 1788264000  # 2026-09-01T12:00:00Z in epoch seconds
LLM = "    unit: token\n    required_dimensions: [model]\n"
CE_METERS = METERS_YAML.replace(
    LLM,
    LLM + "    value_property: $.usage.tokens\n"
    "    dimension_properties: {model: $.model, region: \"$['geo']['region-name']\"}\n",
).replace(
    "    unique_dimension: user_id\n",
    "    unique_dimension: user_id\n    dimension_properties: {user_id: $.user}\n",
)


def ce(**fields):
    """A valid CloudEvents line on llm_tokens; override or drop (None) any attribute."""
    base = {
        "specversion": "1.0",
        "id": "ce1",
        "source": "//api.example.com/llm",
        "type": "llm_tokens",
        "subject": "acme",
        "time": "2026-09-01T12:00:00Z",
        "data": {"usage": {"tokens": Raw("12.5")}, "model": "large", "geo": {"region-name": "eu"}},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def stripe(**fields):
    """A valid Stripe meter event on tokens (sum)."""
    base = {
        "identifier": "st1",
        "event_name": "tokens",
        "timestamp": Raw(str(NOON_S)),
        "payload": {"stripe_customer_id": "cus_1", "value": "25"},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def ingest(tmp_path, lines, meters=CE_METERS, name="a.jsonl"):
    root = DataRoot.create(tmp_path, meters)
    root.write_jsonl(name, lines)
    return root, root.ingest()


def only_reason(tables):
    ((_, _, reason),) = reasons(tables)
    return reason


def test_a_cloudevent_maps_id_subject_type_time_data_and_keeps_source(tmp_path):
    _, tables = ingest(tmp_path, [ce(ext="x", datacontenttype="application/json")])
    (row,) = clean_rows(tables)
    assert (row["event_id"], row["customer_id"], row["meter"]) == ("ce1", "acme", "llm_tokens")
    assert row["event_time"].isoformat() == "2026-09-01T12:00:00+00:00"
    assert row["value"] == D("12.5")
    assert row["dimensions"] == {"model": "large", "region": "eu"}
    assert row["source"] == "//api.example.com/llm"
    assert audit_row(tables)["unknown_fields"] == [{"name": "ext", "rows": 1}]


def test_a_stripe_event_maps_identifier_name_seconds_customer_value_and_other_payload_keys(
    tmp_path,
):
    line = stripe(payload={"stripe_customer_id": "cus_1", "value": "25", "zone": Raw("3")})
    _, tables = ingest(tmp_path, [{**line, "object": "billing.meter_event", "livemode": False}])
    (row,) = clean_rows(tables)
    assert (row["event_id"], row["customer_id"], row["meter"]) == ("st1", "cus_1", "tokens")
    assert row["event_time"].isoformat() == "2026-09-01T12:00:00+00:00"
    assert (row["value"], row["dimensions"], row["source"]) == (D("25"), {"zone": "3"}, None)
    unknown = {u["name"]: u["rows"] for u in audit_row(tables)["unknown_fields"]}
    assert unknown == {"object": 1, "livemode": 1}


def test_native_lines_keep_source_null_and_count_other_forms_fields_as_unknown(tmp_path):
    native = {
        "event_id": "n1",
        "customer_id": "c1",
        "meter": "api_calls",
        "timestamp": "2026-09-01T12:00:00Z",
        "id": "x",
        "subject": "y",
    }
    _, tables = ingest(tmp_path, [native])
    (row,) = clean_rows(tables)
    assert (row["event_id"], row["source"]) == ("n1", None)
    assert {u["name"] for u in audit_row(tables)["unknown_fields"]} == {"id", "subject"}


def test_native_fields_in_a_cloudevent_are_unknown_and_not_read(tmp_path):
    _, tables = ingest(tmp_path, [ce(event_id="other", value="99", customerId="z")])
    (row,) = clean_rows(tables)
    assert (row["event_id"], row["value"]) == ("ce1", D("12.5"))
    names = {u["name"] for u in audit_row(tables)["unknown_fields"]}
    assert names == {"event_id", "value", "customerId"}


CASES = [
    (ce(specversion="0.3"), "malformed"),
    (ce(specversion=Raw("1.0")), "malformed"),
    (ce(id=None), "missing_field"),
    (ce(subject=None), "missing_field"),
    (ce(time=None), "missing_field"),
    (ce(time=""), "missing_field"),
    (ce(time=Raw("1788264000000")), "invalid_type"),
    (ce(time="2026-09-01 12:00:00Z"), "invalid_timestamp"),
    (ce(data="text"), "invalid_type"),
    (ce(data=[1]), "invalid_type"),
    (ce(data=None), "missing_field"),  # no data: the sum meter's value is absent
    (ce(data={"usage": {"tokens": {"n": 1}}, "model": "large"}), "invalid_type"),
    (ce(data={"usage": {"tokens": True}, "model": "large"}), "invalid_type"),
    (ce(data={"usage": {"tokens": "abc"}, "model": "large"}), "invalid_value"),
    (ce(data={"usage": {"tokens": "-1"}, "model": "large"}), "negative_value"),
    (ce(data={"usage": {"tokens": 1}, "model": ["x"]}), "invalid_type"),
    (ce(data={"usage": {"tokens": 1}, "model": None}), "missing_dimension"),
    (ce(data={"usage": {"tokens": 1}}), "missing_dimension"),
    (ce(data={"usage": {"tokens": 1}, "model": "x" * 257}), "field_too_long"),
    (ce(type="nope"), "unknown_meter"),
    (ce(id=Raw("7")), "invalid_type"),
    (ce(source=Raw("7")), "invalid_type"),
    (ce(time="2026-06-01T00:00:00Z"), "too_old"),
    (stripe(identifier=None), "missing_field"),
    (stripe(payload={"value": "1"}), "missing_field"),
    (stripe(timestamp=None), "missing_field"),
    (stripe(timestamp=Raw("1788264000.5")), "invalid_type"),
    (stripe(timestamp=Raw("17882640e2")), "invalid_type"),
    (stripe(timestamp=True), "invalid_type"),
    (stripe(timestamp=Raw("-1")), "invalid_timestamp"),
    (stripe(timestamp="2026-09-01T12:00:00Z"), "invalid_timestamp"),
    (stripe(timestamp=Raw("9" * 5000)), "invalid_timestamp"),
    (stripe(timestamp=Raw("253402300800")), "invalid_timestamp"),  # year 10000
    (stripe(payload="cus_1"), "invalid_type"),
    (stripe(payload={"stripe_customer_id": "cus_1"}), "missing_field"),  # sum needs a value
    (stripe(payload={"stripe_customer_id": "cus_1", "value": Raw("1e400")}), "invalid_value"),
    (stripe(event_name="nope"), "unknown_meter"),
    (stripe(timestamp=Raw("0")), "too_old"),
]


@pytest.mark.parametrize(
    "line, reason", CASES, ids=[f"{i}-{reason}" for i, (_, reason) in enumerate(CASES)]
)
def test_a_line_of_another_form_that_breaks_a_rule_gets_that_rules_reason(tmp_path, line, reason):
    _, tables = ingest(tmp_path, [line])
    assert only_reason(tables) == reason
    assert counts(tables) == (1, 1, 0, 0)
    assert tables.quarantined_events["detail"][0]


def test_stripe_seconds_as_a_string_of_digits_and_amberflo_fields_do_not_apply(tmp_path):
    _, tables = ingest(tmp_path, [stripe(timestamp=str(NOON_S), meterValue="4")])
    (row,) = clean_rows(tables)
    assert (row["value"], row["event_time"].isoformat()) == (D("25"), "2026-09-01T12:00:00+00:00")


def test_a_count_meter_ignores_a_missing_value_and_unique_count_reads_its_dimension(tmp_path):
    lines = [
        ce(id="a", type="api_calls", data=None),
        ce(id="b", type="active_users", data={"user": Raw("42")}),
        ce(id="c", type="active_users", data={"other": 1}),
    ]
    _, tables = ingest(tmp_path, lines)
    rows = {r["event_id"]: r for r in clean_rows(tables)}
    assert set(rows) == {"a", "b"}
    assert rows["a"]["value"] is None and rows["b"]["dimensions"] == {"user_id": "42"}
    assert only_reason(tables) == "missing_dimension"


def test_a_sum_meter_without_value_property_quarantines_its_cloudevents_as_missing_value(
    tmp_path,
):
    _, tables = ingest(tmp_path, [ce(type="tokens", data={"tokens": 5})])
    assert only_reason(tables) == "missing_field"
    assert "value" in tables.quarantined_events["detail"][0]


def test_null_or_empty_form_markers_do_not_make_a_line_another_form(tmp_path):
    native = {
        "event_id": "n1",
        "customer_id": "c1",
        "meter": "api_calls",
        "timestamp": "2026-09-01T12:00:00Z",
        "specversion": None,
        "payload": "",
    }
    _, tables = ingest(tmp_path, [native])
    assert [r["event_id"] for r in clean_rows(tables)] == ["n1"]


def test_other_forms_are_jsonl_only(tmp_path):
    root = DataRoot.create(tmp_path, CE_METERS)
    root.write_csv(
        "a.csv",
        ["identifier", "event_name", "timestamp", "event_id", "customer_id", "meter"],
        [["s", "tokens", "2026-09-01T12:00:00Z", "n1", "c1", "api_calls"]],
    )
    tables = root.ingest()
    assert [r["event_id"] for r in clean_rows(tables)] == ["n1"]
    assert {u["name"] for u in audit_row(tables)["unknown_fields"]} == {"identifier", "event_name"}


def test_a_resent_cloudevent_is_a_duplicate_by_id_and_a_changed_source_is_no_conflict(tmp_path):
    _, tables = ingest(tmp_path, [ce(), ce(source="elsewhere"), ce(subject="other")])
    assert [r["source"] for r in clean_rows(tables)] == ["//api.example.com/llm"]
    assert tables.duplicate_events["conflict"].to_list() == [False, True]


def test_a_mixed_day_over_many_lines_gives_the_same_rows_through_the_bulk_path(tmp_path):
    """600 lines take the vectorised path for native ones; the others go per line."""
    lines = []
    for n in range(200):
        lines.append(
            {
                "event_id": f"n{n}",
                "customer_id": "c1",
                "meter": "tokens",
                "timestamp": "2026-09-01T12:00:00Z",
                "value": "1",
            }
        )
        lines.append(ce(id=f"c{n}"))
        lines.append(stripe(identifier=f"s{n}"))
    _, tables = ingest(tmp_path, lines)
    rows = clean_rows(tables)
    assert counts(tables) == (600, 0, 0, 600)
    by_form = {kind: [r for r in rows if r["event_id"][0] == kind] for kind in "ncs"}
    assert {r["value"] for r in by_form["n"]} == {D(1)}
    assert {r["source"] for r in by_form["c"]} == {"//api.example.com/llm"}
    assert {(r["customer_id"], r["value"]) for r in by_form["s"]} == {("cus_1", D(25))}


def _meters(**fields):
    return {"meters": [{"name": "m", "aggregation": "sum", **fields}]}


@pytest.mark.parametrize(
    "fields",
    [
        {"value_property": "tokens"},
        {"value_property": "$"},
        {"value_property": "$..tokens"},
        {"value_property": "$.items[0]"},
        {"value_property": "$.*"},
        {"value_property": '$["tokens"]'},
        {"value_property": "$.a-b"},
        {"value_property": 5},
        {"value_property": "$.v", "dimension_properties": {"model": "$.m[?(@.x)]"}},
        {"value_property": "$.v", "dimension_properties": ["$.m"]},
        {"dimension_properties": {"model": "$.model"}},  # a sum meter for CloudEvents, no value
    ],
    ids=lambda f: repr(f),
)
def test_a_bad_property_is_a_configuration_error_naming_the_meter(fields):
    with pytest.raises(ConfigError) as err:
        parse_meters(_meters(**fields))
    assert "'m'" in str(err.value) and str(err.value).startswith(
        "reference/meters.yaml: meters[0]."
    )


def test_the_jsonpath_subset_parses_dot_and_bracket_segments():
    config = parse_meters(
        _meters(
            value_property="$.usage['input tokens']",
            dimension_properties={"b": "$['a.b']['']", "a": "$._x.é1"},
        )
    )
    meter = config.meters["m"]
    assert meter.value_property == ("usage", "input tokens")
    assert meter.dimension_properties == (("a", ("_x", "é1")), ("b", ("a.b", "")))


def test_the_vectorised_path_never_takes_a_cloudevent_or_a_stripe_line(tmp_path):
    import polars as pl

    from meter_pipeline.ingestion.fast_path import fast_events
    from meter_pipeline.ingestion.validate import context_for
    from tests.helpers.ingestion import DAY, to_json

    flat_ce = ce(data=None, type="api_calls")
    flat_stripe = {"identifier": "s", "event_name": "api_calls", "timestamp": "1788264000"}
    native = {"event_id": "n", "customer_id": "c", "meter": "api_calls", "timestamp": "1"}
    lines = pl.DataFrame(
        {"line_number": [1, 2, 3], "text": [to_json(x) for x in (flat_ce, flat_stripe, native)]}
    )
    ctx = context_for(
        parse_meters({"meters": [{"name": "api_calls", "aggregation": "count"}]}), DAY
    )
    assert fast_events(lines, ctx)["line_number"].to_list() == []
    ok = lines.with_columns(
        pl.lit(to_json({**native, "timestamp": "2026-09-01T12:00:00Z"})).alias("text")
    )
    assert fast_events(ok, ctx)["line_number"].to_list() == [1, 2, 3]
