"""SSE decoder: line endings, fields, ids and the edge cases of chunked input."""

from __future__ import annotations

import pytest

from graphport.sdk.schema import StreamPart
from graphport.sdk.sse import SSEDecoder


def decode(*chunks: bytes, last_event_id: str | None = None) -> list[StreamPart]:
    decoder = SSEDecoder(last_event_id=last_event_id)
    parts = [part for chunk in chunks for part in decoder.feed(chunk)]
    return parts + decoder.flush()


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


@pytest.mark.parametrize("newline", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(newline: bytes) -> None:
    stream = newline.join([b"event: values", b'data: {"a": 1}', b"id: 7", b"", b""])
    assert decode(stream) == [StreamPart("values", {"a": 1}, "7")]


@pytest.mark.parametrize("newline", [b"\n", b"\r", b"\r\n"])
def test_any_chunking_gives_the_same_events(newline: bytes) -> None:
    stream = newline.join(
        [b"event: a", b"data: 1", b"", b": ping", b"", b"event: b", b"data: 2", b"id: x", b"", b""]
    )
    expected = [StreamPart("a", 1, None), StreamPart("b", 2, "x")]
    assert decode(stream) == expected
    assert decode(*one_byte_at_a_time(stream)) == expected


def test_cr_at_chunk_boundary_then_lf_is_one_line_break() -> None:
    parts = decode(b"event: a\r", b"\ndata: 1\r", b"\n\r", b"\n")
    assert parts == [StreamPart("a", 1, None)]


def test_cr_at_chunk_boundary_alone_ends_the_line() -> None:
    assert decode(b"event: a\r", b"data: 1\r", b"\r") == [StreamPart("a", 1, None)]


def test_multi_line_data_joins_with_newline() -> None:
    assert decode(b"event: t\ndata: [1,\ndata: 2]\n\n") == [StreamPart("t", [1, 2], None)]
    assert decode(b"event: t\ndata: line1\ndata: line2\n\n") == [
        StreamPart("t", "line1\nline2", None)
    ]


def test_comments_and_unknown_fields_are_ignored() -> None:
    stream = b": heartbeat\n\nfoo: bar\nevent: e\n:comment\ndata: null\n\n"
    assert decode(stream) == [StreamPart("e", None, None)]


def test_only_one_leading_space_is_stripped_and_colonless_lines_are_fields() -> None:
    assert decode(b"event:e\ndata:  x\n\n") == [StreamPart("e", " x", None)]
    assert decode(b"event: e\ndata\n\n") == [StreamPart("e", None, None)]


def test_id_persists_until_changed_and_ignores_nul() -> None:
    stream = b"id: 1\nevent: a\n\nevent: b\n\nid: bad\x00id\nevent: c\n\nid: 2\nevent: d\n\n"
    assert [p.id for p in decode(stream)] == ["1", "1", "1", "2"]


def test_id_alone_updates_last_id_without_an_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 5\n\n") == []
    assert decoder.last_event_id == "5"
    assert decoder.feed(b"event: e\n\n") == [StreamPart("e", None, "5")]


def test_resumed_decoder_starts_from_last_event_id() -> None:
    assert decode(b"event: e\n\n", last_event_id="41") == [StreamPart("e", None, "41")]


def test_empty_id_resets_it() -> None:
    assert decode(b"id: 3\nevent: a\n\nid:\nevent: b\n\n") == [
        StreamPart("a", None, "3"),
        StreamPart("b", None, None),
    ]


def test_retry_is_parsed_when_numeric() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"retry: 1500\n\nretry: soon\n\n")
    assert decoder.retry == 1500


def test_blank_lines_without_fields_dispatch_nothing() -> None:
    assert decode(b"\n\n\r\n\n") == []


def test_data_without_event_name_is_kept() -> None:
    assert decode(b'data: {"x": 1}\n\n') == [StreamPart("", {"x": 1}, None)]


def test_bom_is_dropped_even_when_split() -> None:
    stream = b"\xef\xbb\xbfevent: a\ndata: 1\n\n"
    assert decode(stream) == [StreamPart("a", 1, None)]
    assert decode(*one_byte_at_a_time(stream)) == [StreamPart("a", 1, None)]


def test_bom_is_dropped_only_at_the_start() -> None:
    parts = decode(b"event: a\n\n\xef\xbb\xbfevent: b\n\n")
    assert [p.event for p in parts] == ["a"]


def test_pending_event_is_flushed_at_eof() -> None:
    assert decode(b"event: end\ndata: null") == [StreamPart("end", None, None)]
    assert decode(b"event: values\ndata: 1\n") == [StreamPart("values", 1, None)]


def test_non_json_data_is_returned_as_text() -> None:
    assert decode(b"event: e\ndata: not json\n\n") == [StreamPart("e", "not json", None)]


def test_whitespace_data_is_none_and_utf8_survives_splitting() -> None:
    text = '"héllo ✓"'.encode()
    parts = decode(b"event: w\ndata:    \n\nevent: u\ndata: ", text[:3], text[3:], b"\n\n")
    assert parts == [StreamPart("w", None, None), StreamPart("u", "héllo ✓", None)]
