"""Brute force: code scanning of fixed-code remotes, against normal gate-remote use."""

from __future__ import annotations

import pytest

from detect_fakes import engine, ev1527, feed, kinds, press


def test_scanning_many_ids_is_bruteforce():
    pk = []
    t = 10.0
    for k in range(40):  # 40 consecutive ids, each sent twice, ≈ 12 per second
        pk += [ev1527(t, 0x12300 + k), ev1527(t + 0.035, 0x12300 + k)]
        t += 0.08
    e = engine()
    out = feed(e, pk) + e.finish()
    assert kinds(out) == ["bruteforce"]
    a = out[0]
    assert a.evidence["distinct_codes"] == 40
    assert a.evidence["protocol"] == "ev1527"
    assert a.evidence["codes_per_s"] > 10
    assert a.t == pytest.approx(10.0)
    assert a.t_end == pytest.approx(10.0 + 39 * 0.08 + 0.03)


def test_a_household_of_remotes_is_not_bruteforce():
    pk = []
    for k in range(30):  # 3 remotes, 4 buttons, pressed all evening
        pk += [ev1527(5.0 + 7.0 * k + r * 0.04, 0x11111 + (k % 3), button=1 + k % 4)
               for r in range(4)]
    e = engine()
    assert feed(e, pk) + e.finish() == []


@pytest.mark.parametrize("n,expect", [(7, []), (8, ["bruteforce"])])
def test_threshold_of_distinct_codes_in_the_window(n, expect):
    pk = [ev1527(1.0 + 1.2 * k, 0x40000 + k) for k in range(n)]  # within 10 s
    e = engine()
    assert kinds(feed(e, pk) + e.finish()) == expect


def test_many_codes_spread_beyond_the_window_are_not_bruteforce():
    pk = [ev1527(1.0 + 2.0 * k, 0x40000 + k) for k in range(20)]  # one every 2 s
    e = engine()
    assert feed(e, pk) + e.finish() == []


def test_rolling_codes_are_not_counted():
    pk = []
    for k in range(20):
        pk += press(1.0 + 0.3 * k, 0x5000 + k, frames=1, serial=0x100 + k)
    e = engine()
    assert "bruteforce" not in kinds(feed(e, pk) + e.finish())
