"""Philox-4x32-10: published known answers, and the numba implementation equal to the reference."""

import zlib

import numpy as np
import pytest

from fdsl_gen import rng

# Random123's kat_vectors for philox4x32 with 10 rounds: (counter, key, expected output).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_reference_known_answers(ctr, key, expected):
    assert tuple(int(w) for w in rng.philox4x32_10(*ctr, *key)) == expected


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_numba_known_answers(ctr, key, expected):
    from fdsl_gen.backends.numba_philox import philox4x32_10

    assert tuple(int(w) for w in philox4x32_10(*ctr, *key)) == expected


def test_numba_sequences_equal_reference():
    from fdsl_gen.backends.numba_philox import philox_fill

    r = np.random.default_rng(7)
    for _ in range(20):
        seed, stream, cat, inst = (int(v) for v in r.integers(0, 2**32, 4))
        n = int(r.integers(1, 40))
        out = np.zeros(n, dtype=np.uint32)
        philox_fill(seed, stream, cat, inst, out)
        np.testing.assert_array_equal(out, rng.philox_words(seed, stream, cat, inst, n))


def test_words_do_not_depend_on_batching():
    batch = rng.philox_words(3, 9, np.arange(5), np.array([0, 1, 2, 3, 4]), 10)
    for k in range(5):
        np.testing.assert_array_equal(batch[k], rng.philox_words(3, 9, k, k, 10))
    # a longer sequence starts with the shorter one
    np.testing.assert_array_equal(rng.philox_words(3, 9, 1, 1, 30)[:10], batch[1])


def test_counter_words_separate_streams():
    a = rng.philox_words(1, 2, 3, 4, 8)
    for other in [rng.philox_words(1, 2, 4, 3, 8), rng.philox_words(2, 2, 3, 4, 8), rng.philox_words(1, 3, 3, 4, 8)]:
        assert not np.array_equal(a, other)
    assert rng.stream_id("fractaldb/patch") != rng.stream_id("ofdb/patch")
    assert rng.stream_id("fractaldb/patch") == zlib.crc32(b"fractaldb/patch")  # CRC-32 of the UTF-8 bytes


def test_uniform_and_bounded_conversions():
    words = rng.philox_words(0, 1, 0, 0, 200_000)
    u = rng.uniform53(words[0::2], words[1::2])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    # extremes of the 53-bit formula are exact
    assert rng.uniform53(0, 0) == 0.0
    assert rng.uniform53(0xFFFFFFFF, 0xFFFFFFFF) == 1.0 - 2.0**-53
    b = rng.bounded(words, 511)
    assert b.min() == 0 and b.max() == 510
    counts = np.bincount(b, minlength=511)
    assert counts.min() > 0.7 * counts.mean()


def test_seed_range_is_checked():
    assert rng.check_seed(2**32 - 1) == 2**32 - 1
    for bad in (-1, 2**32):
        with pytest.raises(ValueError):
            rng.check_seed(bad)
