"""CSV records follow RFC 4180 quoting as Python's csv module reads it."""

from meter_pipeline.io.csvfile import read_csv


def rows(data: bytes):
    return [(r.line_number, r.raw_record, r.fields, r.error) for r in read_csv(data)]


def test_a_quote_inside_an_unquoted_field_is_a_literal_and_swallows_nothing():
    got = rows(b'event_id,customer_id\nc"1,x\nd,e\n')
    assert got == [
        (1, 'c"1,x', {"event_id": 'c"1', "customer_id": "x"}, None),
        (2, "d,e", {"event_id": "d", "customer_id": "e"}, None),
    ]


def test_a_quoted_field_spans_lines_and_keeps_its_raw_text():
    got = rows(b'event_id,customer_id\r\n"a\r\nb",x\r\n')
    assert got == [(1, '"a\r\nb",x', {"event_id": "a\r\nb", "customer_id": "x"}, None)]


def test_an_unterminated_quote_makes_the_rest_one_malformed_row():
    ((number, raw, fields, error),) = rows(b'event_id,customer_id\n"a,x\nb,y\n')
    assert (number, raw, fields) == (1, '"a,x\nb,y', None)
    assert "unexpected end of data" in error


def test_text_after_a_closing_quote_is_malformed_and_the_next_row_still_loads():
    got = rows(b'event_id,customer_id\n"a"b,x\nc,y\n')
    assert got[0][:3] == (1, '"a"b,x', None)
    assert got[1] == (2, "c,y", {"event_id": "c", "customer_id": "y"}, None)
