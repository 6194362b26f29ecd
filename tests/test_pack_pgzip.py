"""Parallel gzip (pigz style): whatever the block edges, the output is one ordinary
gzip member that decompresses to exactly the input, with a correct trailer."""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import struct
import zlib

import pytest

from pystage.packing import pgzip
from pystage.packing.tarball import compress_to

BLOCK = 4096  # small blocks, so the tests cross many edges quickly

try:
    from zlib_ng import zlib_ng
except ImportError:  # pragma: no cover
    zlib_ng = None


@pytest.fixture(autouse=True, params=["zlib-ng", "zlib"])
def backend(request, monkeypatch):
    """Every test runs on zlib-ng (the default) and on stock zlib (the fallback)."""
    if request.param == "zlib":
        monkeypatch.setattr(pgzip, "zlib", zlib)
        monkeypatch.setattr(pgzip, "LEVEL", 9)
    elif zlib_ng is None:
        pytest.skip("zlib-ng is not installed")
    else:
        assert pgzip.zlib is zlib_ng and pgzip.LEVEL == 8
    return pgzip.zlib


def _serial(level=None):
    return pgzip.zlib.compressobj(level or pgzip.LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, 9)


def _data(size: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    words = [b"alpha ", b"beta ", b"gamma\n", b"delta;", b"\x00" * 7]
    out = bytearray()
    while len(out) < size:
        # a mix of repetitive text (long matches across edges) and random bytes
        out += rng.choice(words) if rng.random() < 0.8 else rng.randbytes(rng.randint(1, 64))
    return bytes(out[:size])


def _gzip(chunks, workers=2, block_size=BLOCK) -> bytes:
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
    crc, length = pgzip.deflate_parallel(chunks, out.extend, workers=workers, block_size=block_size)
    out += struct.pack("<II", crc, length & 0xFFFFFFFF)
    return bytes(out)


@pytest.mark.parametrize(
    "size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK, 3 * BLOCK + 17, 40 * BLOCK + 5]
)
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_output_gunzips_to_the_input_at_every_block_edge(size, workers):
    data = _data(size)
    blob = _gzip([data], workers=workers)
    assert gzip.decompress(blob) == data
    # and by zlib on its own, which checks the trailer's CRC and length too
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert d.decompress(blob) + d.flush() == data
    assert d.eof and d.unused_data == b""


def test_chunking_of_the_input_does_not_change_the_output():
    data = _data(25 * BLOCK + 333, seed=2)
    rng = random.Random(3)
    chunks, i = [], 0
    while i < len(data):
        n = rng.choice([0, 1, 7, 511, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK])
        chunks.append(data[i : i + n])
        i += n
    assert _gzip(chunks) == _gzip([data])
    assert gzip.decompress(_gzip(chunks)) == data


def test_blocks_keep_the_matches_across_edges(monkeypatch):
    # each block primed with the 32 KiB before it: within 1% of one serial stream,
    # and smaller than blocks compressed on their own
    data = _data(2 * 1024 * 1024, seed=4)
    serial = _serial()
    one_stream = len(serial.compress(data) + serial.flush())
    primed = len(_gzip([data], block_size=128 * 1024))
    assert primed <= one_stream * 1.01
    unprimed_deflate = pgzip._deflate
    monkeypatch.setattr(
        pgzip, "_deflate", lambda block, d, last: unprimed_deflate(block, b"", last)
    )
    assert primed < len(_gzip([data], block_size=128 * 1024))


def test_a_small_stream_is_the_plain_serial_deflate():
    data = _data(BLOCK // 2)
    serial = _serial()
    assert _gzip([data])[10:-8] == serial.compress(data) + serial.flush()


def test_compress_to_hashes_and_writes_what_it_emits():
    data = _data(3 * pgzip.BLOCK + 5, seed=5)
    sink = io.BytesIO()
    result = compress_to(iter([data[:100], data[100:]]), sink)
    blob = sink.getvalue()
    assert gzip.decompress(blob) == data
    assert result.size == len(blob)
    assert result.sha1 == hashlib.sha1(blob).hexdigest()
    assert result.sha512 == hashlib.sha512(blob).digest()
    # the same bytes whether or not they are written anywhere
    assert compress_to([data], None).sha512 == result.sha512


def test_an_error_while_reading_stops_the_compression():
    def chunks():
        yield _data(5 * BLOCK)
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        pgzip.deflate_parallel(chunks(), lambda b: None, workers=2, block_size=BLOCK)


def test_incompressible_blocks_are_stored_and_the_rest_still_compressed():
    rng = random.Random(8)
    noise = rng.randbytes(3 * 256 * 1024)
    text = _data(3 * 256 * 1024, seed=9)
    data = noise + text + noise[:1000] + text
    blob = _gzip([data], block_size=256 * 1024)
    assert gzip.decompress(blob) == data
    stored = len(_gzip([noise], block_size=256 * 1024))
    level9 = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    # no bigger than what level 9 makes of random bytes (it stores them too)
    assert stored <= len(level9.compress(noise) + level9.flush()) + 64
    # the text blocks were compressed as well as level 9 compresses them alone
    text9 = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    text_alone = len(text9.compress(text) + text9.flush())
    assert text_alone < 0.9 * len(text)
    assert len(blob) <= len(noise) + 1000 + 2 * text_alone * 1.05 + 1024
    assert pgzip._incompressible(noise[: 256 * 1024])
    assert not pgzip._incompressible(text[: 256 * 1024])
