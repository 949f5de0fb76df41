"""What a redirected Windows console (a GBK or cp1252 pipe) gets from the command lines."""

from __future__ import annotations

import io

import pytest

from experiments.contract import console


def written(text: str, encoding: str) -> bytes:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, newline="")
    console.tolerant(stream)
    stream.write(text)
    stream.flush()
    return raw.getvalue()


@pytest.mark.parametrize(
    ("text", "encoding", "shown"),
    [
        # GBK (a Chinese Windows) has the Greek mu, not the micro sign, and no narrow space
        ("301\u202fµs，cpu", "gbk", "301 μs，cpu"),
        ("0.390×–1.06×\u20091\u00a0ms", "gbk", "0.390×–1.06× 1 ms"),  # it has × and –
        # cp1252 (a Western Windows) has the micro sign and the en dash, no Chinese
        ("301\u202fµs，cpu", "cp1252", "301 µs?cpu"),
        ("μs ≈ 2", "cp1252", "µs ~ 2"),
        ("−3 … 正在", "ascii", "-3 ... ??"),
        ("✓", "gbk", "?"),  # nothing near: a question mark, never an escape
    ],
)
def test_what_the_code_page_lacks_becomes_its_nearest_equivalent(
    text: str, encoding: str, shown: str
) -> None:
    assert written(text, encoding) == shown.encode(encoding)


def test_a_stream_that_can_encode_everything_is_left_alone() -> None:
    assert written("301\u202fµs 正在", "utf-8") == "301\u202fµs 正在".encode()
    assert console.can_encode("正在", io.TextIOWrapper(io.BytesIO(), encoding="gbk"))
    assert not console.can_encode("正在", io.TextIOWrapper(io.BytesIO(), encoding="cp1252"))
    assert console.can_encode("正在", io.StringIO())  # in-memory streams name no encoding
