"""Every error about a reference CSV file names the line of the file, as an editor numbers it (the
header is line 1, so the first data row is line 2): ``reference/customers.csv: line 33: <rule>``.

Each message a reference CSV file can produce is asserted here in full, with blank lines, a quoted
cell spanning lines and a byte order mark in front, so no count of "data rows" can pass for a line.
"""

from __future__ import annotations

import pytest

from meter_pipeline.config.alerts import LAYOUT as ALERTS
from meter_pipeline.config.alerts import parse_alert_rows
from meter_pipeline.config.customers import parse_customers
from meter_pipeline.config.errors import ConfigError, CsvLayout, parse_csv_rows
from meter_pipeline.config.meters import parse_meters
from meter_pipeline.config.sla import load_sla
from tests.unit.test_config_pricing import SPEC_PRICING, load
from tests.unit.test_sla_config import write_root

LAYOUT = CsvLayout("reference/x.csv", ("a", "b"))
# Line 1 is blank, the header is line 2, line 4 is blank, the record of line 5 spans line 6.
PREFIX = '\ufeff\na,b\n1,2\n\n"x\ny",3\n'


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param("", "reference/x.csv: line 1: must have a header row: a,b", id="empty"),
        pytest.param("\n,\n", "reference/x.csv: line 1: must have a header row: a,b", id="blank"),
        pytest.param("\na,a,b\n", "reference/x.csv: line 2: names column 'a' twice", id="twice"),
        pytest.param(
            "\n\na\n", "reference/x.csv: line 3: misses column b (expected a,b)", id="missing"
        ),
        pytest.param(
            PREFIX + "7\n", "reference/x.csv: line 7: has 1 cells, the header has 2", id="cells"
        ),
        pytest.param(
            PREFIX + '"z"w,1\n',
            "reference/x.csv: line 7: is not valid CSV (',' expected after '\"')",
            id="text after a closing quote",
        ),
        pytest.param(
            PREFIX + '"open,1\n8,9\n10,11\n',
            "reference/x.csv: line 7: is not valid CSV (unexpected end of data)",
            id="a quote never closed is named by the line it opens on",
        ),
    ],
)
def test_every_layout_error_names_the_line_of_the_file(text, message):
    with pytest.raises(ConfigError) as err:
        parse_csv_rows(text, LAYOUT)
    assert str(err.value) == message


def test_rows_are_numbered_by_the_line_they_start_on():
    rows = parse_csv_rows(PREFIX + ",\n7,8\n", LAYOUT)
    assert [number for number, _ in rows] == [3, 5, 8]


def test_row_32_of_customers_csv_is_line_33(tmp_path):
    """The case the issue found: the 32nd data row is reported as line 33, where an editor is."""
    good = "".join(f"c{i},C,growth,2026-01-01,\n" for i in range(31))
    header = "customer_id,customer_name,plan_id,start_date,end_date\n"
    text = header + good + "x,X,gold,2026-01-01,\n"
    with pytest.raises(ConfigError) as err:
        parse_customers(text, load(tmp_path, SPEC_PRICING))
    assert str(err.value) == (
        "reference/customers.csv: line 33: unknown plan 'gold' (not in reference/pricing.yaml)"
    )


METERS = parse_meters({"meters": [{"name": "api_calls", "aggregation": "count"}]})
ALERT_HEAD = "customer_id,meter,threshold_kind,threshold\n\n"  # the bad row is on line 3


@pytest.mark.parametrize(
    "row, rule",
    [
        (",api_calls,usage,1", "customer_id is empty"),
        ("a,api_calls,spend,1", "threshold_kind must be usage or cost, got 'spend'"),
        ("a,,usage,1", "a usage alert names its meter"),
        ("a,nope,usage,1", "meter 'nope' is not in reference/meters.yaml"),
        (
            "a,api_calls,cost,1",
            "a cost alert is on the invoice subtotal: leave meter empty, got 'api_calls'",
        ),
        ("a,api_calls,usage,0", "threshold: must be > 0, got '0'"),
        ("a,api_calls,usage,x", "threshold: must be a decimal number, got 'x'"),
        (
            "a,api_calls,usage,1.0000000001",
            "threshold: must have at most 9 decimal places, got '1.0000000001'",
        ),
    ],
)
def test_alerts_csv_errors_name_the_line(row, rule):
    with pytest.raises(ConfigError) as err:
        parse_alert_rows(parse_csv_rows(ALERT_HEAD + row + "\n", ALERTS), METERS)
    assert str(err.value) == f"reference/alerts.csv: line 3: {rule}"


T = "2026-11-10T02:00:00Z"
LATER = "2026-11-10T03:00:00Z"
SLA_CASES = [
    ("maintenance", "service,start,end,announced_at", f"search,{T},{LATER},{T}",
     "service 'search' is not a service of sla.yaml (cloud_meter, billing_meter, or * for all)"),
    ("maintenance", "service,start,end,announced_at", f"*,x,{LATER},{T}",
     "start must be an RFC 3339 timestamp (e.g. 2026-11-03T02:00:00Z), got 'x'"),
    ("maintenance", "service,start,end,announced_at", f"*,{T},,{T}",
     "end must be an RFC 3339 timestamp (e.g. 2026-11-03T02:00:00Z), got ''"),
    ("maintenance", "service,start,end,announced_at", f"*,{T},{T},{T}",
     "end must be after start"),
    ("maintenance", "service,start,end,announced_at", f"*,{T},{LATER},soon",
     "announced_at must be an RFC 3339 timestamp (e.g. 2026-11-03T02:00:00Z), got 'soon'"),
    ("excused_downtime", "service,start,end,cause", f"api,{T},{LATER},x",
     "service 'api' is not a service of sla.yaml (cloud_meter, billing_meter, or * for all)"),
    ("excused_downtime", "service,start,end,cause", f"*,{LATER},{T},x", "end must be after start"),
    ("excused_downtime", "service,start,end,cause", f"*,{T},{LATER},", "cause must not be empty"),
    ("sla_claims", "customer_id,service,billing_period,submitted_at", f",cloud_meter,2026-11,{T}",
     "customer_id: must be a non-empty string, got ''"),
    ("sla_claims", "customer_id,service,billing_period,submitted_at", f"a,,2026-11,{T}",
     "service: must be a non-empty string, got ''"),
    ("sla_claims", "customer_id,service,billing_period,submitted_at", f"a,cloud_meter,2026-13,{T}",
     "billing_period must be YYYY-MM, got '2026-13'"),
    ("sla_claims", "customer_id,service,billing_period,submitted_at", "a,cloud_meter,2026-11,x",
     "submitted_at must be an RFC 3339 timestamp (e.g. 2026-11-03T02:00:00Z), got 'x'"),
]  # fmt: skip


@pytest.mark.parametrize("name, header, row, rule", SLA_CASES)
def test_sla_csv_errors_name_the_line(tmp_path, name, header, row, rule):
    # the header on line 1, a blank line 2, the bad row on line 3
    with pytest.raises(ConfigError) as err:
        load_sla(write_root(tmp_path, **{name: f"{header}\n\n{row}\n"}))
    assert str(err.value) == f"reference/{name}.csv: line 3: {rule}"
