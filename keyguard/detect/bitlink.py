"""Frames linked by their bits: a rolling code heard before, when one of the two transmissions
did not decode under its protocol.

A replayed frame carries the original's bits exactly. When the front end cannot decode one side
with a profile (a press heard at low SNR, or through a jammer, fails the decoder's margin gate;
a raw-IQ replay's frame is framed but not matched), the frame still often comes out as an
``unknown`` packet: the same bits, or a long stretch of them, without a protocol. This module
remembers the bits of decoded rolling-code frames and of unknown frames and answers two
questions:

- was this decoded press's frame heard before as an unknown frame
  (:meth:`BitMemory.heard_as_unknown`)?
- is this unknown frame a decoded code heard before (:meth:`BitMemory.decoded_match`)?

A link needs a contiguous stretch of at least ``MIN_LINK_BITS`` (27) equal bits that tells this
code apart from every other code of its identity heard so far: in that stretch the frame of each
other code (same length) differs from it in at least ``MIN_DISTINCT_BITS`` bits. A stretch
inside the fixed part (serial, button) is shared by every press of the key and proves nothing;
one that spans the serial and a changed button differs in a few bits only. When no other code
of the identity is known the stretch must cover ``WHOLE_FRAME`` of the frame. By chance alone
27 given bits match with probability 7e-9.

Frames are compared only across transmissions: frames of one press (a held button's repeats,
a press whose first frames decoded only as unknown) follow each other with gaps shorter than
the press gap, so a link needs ``chain_gap_s`` of silence between the two sides' chains of
matching frames.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

#: seed length (bits) of the index
MIN_MATCH_BITS = 24
#: unknown frames are indexed by every ``SEED_STEP``-th seed only (a quarter of the work for
#: the many frames that link nothing); a stretch of ``MIN_MATCH_BITS + SEED_STEP - 1`` bits
#: always holds one of them, so links need that many bits at least (27: a KeeLoq hop's
#: fragment of 29 bits still links)
SEED_STEP = 4
#: the shortest stretch (bits) that links two frames, whatever its alignment
MIN_LINK_BITS = MIN_MATCH_BITS + SEED_STEP - 1
#: ... in which every other code of the identity differs from this one in this many bits (two
#: KeeLoq hops differ in 16 of 32 bits on average; a changed button in at most 4)
MIN_DISTINCT_BITS = 8
#: with no other code of the identity known, the stretch must cover this share of the frame
WHOLE_FRAME = 0.9


def frame_bits(data: str | None, nbits: int | None) -> str | None:
    """The first ``nbits`` bits of a packet's hex ``data`` as a '0'/'1' string (None when
    there is no data or it holds fewer bits)."""
    if not data or not nbits or nbits <= 0:
        return None
    try:
        v = int(data, 16)
    except ValueError:
        return None
    s = format(v, f"0{len(data) * 4}b")
    return s[:nbits] if len(s) >= nbits else None


def longest_match(a: str, b: str, index: dict | None = None) -> tuple[int, int, int]:
    """Longest common run of bits of ``a`` and ``b`` of at least ``MIN_MATCH_BITS``, as
    (length, start in a, start in b); (0, -1, -1) when there is none. ``index``: seeds of ``b``
    (:func:`seeds`) when already computed."""
    k = MIN_MATCH_BITS
    if len(a) < k or len(b) < k:
        return 0, -1, -1
    idx = index if index is not None else seeds(b)
    best = (0, -1, -1)
    seen: set = set()
    for i in range(len(a) - k + 1):
        for j in idx.get(a[i:i + k], ()):
            if (i - j) in seen:
                continue  # this diagonal was already extended from an earlier seed
            seen.add(i - j)
            i0, j0 = i, j
            while i0 > 0 and j0 > 0 and a[i0 - 1] == b[j0 - 1]:
                i0, j0 = i0 - 1, j0 - 1
            n = 0
            while i0 + n < len(a) and j0 + n < len(b) and a[i0 + n] == b[j0 + n]:
                n += 1
            if n > best[0]:
                best = (n, i0, j0)
    return best


def sparse_seeds(b: str) -> frozenset:
    """The ``MIN_MATCH_BITS``-bit windows of ``b`` starting at multiples of ``SEED_STEP``."""
    k = MIN_MATCH_BITS
    return frozenset(b[j:j + k] for j in range(0, len(b) - k + 1, SEED_STEP))


def seeds(b: str) -> dict:
    """Every ``MIN_MATCH_BITS``-bit window of ``b`` → its start positions."""
    k = MIN_MATCH_BITS
    out: dict = {}
    for j in range(len(b) - k + 1):
        out.setdefault(b[j:j + k], []).append(j)
    return out


@dataclass
class Episode:
    """Frames of one bit string heard with gaps under the chain gap: one transmission.
    Times in s (``t`` capture-relative, ``abs_t`` timeline)."""

    bits: str
    capture: str
    handle: int
    t: float
    t_end: float
    abs_t: float
    abs_end: float
    freq_hz: float | None
    frames: int = 1
    bursts: list = field(default_factory=list)


@dataclass
class Code:
    """A decoded rolling code: its frame's bits and when its frames were last heard (s)."""

    code: str
    identity: str | None
    protocol: str
    bits: str
    index: dict
    last_end: float


@dataclass
class Link:
    """A match: the other side's ``episode`` or ``code``, the stretch's length (bits) and the
    fewest bits in which another code of the identity differs over it (None when no other code
    is known)."""

    bits: int
    distinct_bits: int | None
    episode: Episode | None = None
    code: Code | None = None

    def evidence(self) -> dict:
        return {"matched_bits": self.bits, "distinct_bits": self.distinct_bits}


class BitMemory:
    """Bits of the decoded rolling codes and of the unknown frames heard in this run
    (bounded: the newest ``max_codes`` codes and ``max_unknown`` unknown bit strings)."""

    def __init__(self, max_codes: int = 4096, max_unknown: int = 2048):
        self.max_codes = int(max_codes)
        self.max_unknown = int(max_unknown)
        self._codes: OrderedDict[str, Code] = OrderedDict()
        self._by_identity: dict[str, list[str]] = {}   # identity -> codes (newest last)
        # bits -> (episodes, its sparse seeds)
        self._unknown: OrderedDict[str, tuple[list[Episode], frozenset]] = OrderedDict()
        self._seed_unknown: dict[str, set] = {}   # seed -> unknown bit strings holding it
        self._seed_codes: dict[str, set] = {}     # seed -> codes whose frame holds it
        #: code -> end (timeline s) of the chain of frames carrying it (decoded or unknown)
        self._chain_end: dict[str, float] = {}

    # recording ---------------------------------------------------------------------------
    def add_decoded(self, code: str, identity: str | None, protocol: str, bits: str,
                    abs_end: float) -> None:
        """A decoded frame of a rolling ``code``."""
        c = self._codes.get(code)
        self._chain_end[code] = max(self._chain_end.get(code, abs_end), abs_end)
        if c is not None:
            c.last_end = max(c.last_end, abs_end)
            return
        if len(bits) < MIN_MATCH_BITS:
            return
        c = Code(code, identity, protocol, bits, seeds(bits), abs_end)
        self._codes[code] = c
        for s in c.index:
            self._seed_codes.setdefault(s, set()).add(code)
        if identity is not None:
            lst = self._by_identity.setdefault(identity, [])
            lst.append(code)
            del lst[:-16]  # the newest codes of the key: those a replay is told apart from
        while len(self._codes) > self.max_codes:
            old, oc = self._codes.popitem(last=False)
            self._chain_end.pop(old, None)
            for s in oc.index:
                held = self._seed_codes.get(s)
                if held is not None:
                    held.discard(old)
                    if not held:
                        del self._seed_codes[s]

    def add_unknown(self, bits: str, ep: Episode, chain_gap_s: float,
                    win: frozenset | None = None) -> None:
        """An unknown frame (``ep`` describes it alone; ``win``: its :func:`sparse_seeds` when
        already computed); frames of the same bits less than ``chain_gap_s`` apart join one
        episode."""
        if len(bits) < MIN_MATCH_BITS:
            return
        entry = self._unknown.get(bits)
        if entry is None:
            entry = self._unknown[bits] = ([], win if win is not None else sparse_seeds(bits))
            for s in entry[1]:
                self._seed_unknown.setdefault(s, set()).add(bits)
        else:
            self._unknown.move_to_end(bits)
        eps = entry[0]
        last = eps[-1] if eps else None
        if last is not None and last.handle == ep.handle and \
                ep.abs_t - last.abs_end <= chain_gap_s:
            last.abs_end = max(last.abs_end, ep.abs_end)
            last.t_end = max(last.t_end, ep.t_end)
            last.frames += 1
            last.bursts += [b for b in ep.bursts if all(b is not x for x in last.bursts)]
        else:
            eps.append(ep)
            del eps[:-8]
        while len(self._unknown) > self.max_unknown:
            old, (_, win) = self._unknown.popitem(last=False)
            for s in win:
                held = self._seed_unknown.get(s)
                if held is not None:
                    held.discard(old)
                    if not held:
                        del self._seed_unknown[s]

    def extend_chain(self, code: str, abs_end: float) -> None:
        """Frames carrying ``code`` heard up to ``abs_end`` (s) as part of one transmission."""
        self._chain_end[code] = max(self._chain_end.get(code, abs_end), abs_end)

    def chain_end(self, code: str) -> float | None:
        """End (timeline s) of the latest chain of frames known to carry ``code``."""
        return self._chain_end.get(code)

    # questions ---------------------------------------------------------------------------
    def distinct_bits(self, code: str, identity: str | None, bits: str, start: int,
                      n: int) -> int | None:
        """Fewest bits in which the frame of another code of ``identity`` (same length)
        differs from ``bits`` over the stretch [start, start + n); None when no such frame is
        known."""
        if identity is None:
            return None
        fewest = None
        part = bits[start:start + n]
        for other in self._by_identity.get(identity, ()):
            oc = self._codes.get(other)
            if other == code or oc is None or len(oc.bits) != len(bits):
                continue
            d = sum(x != y for x, y in zip(part, oc.bits[start:start + n]))
            fewest = d if fewest is None else min(fewest, d)
        return fewest

    def _link_to(self, bits: str, code: Code) -> tuple[int, int | None] | None:
        """(length, :meth:`distinct_bits`) of the longest stretch ``bits`` share with the
        code's frame when it links them (see the module's docstring: long enough, and telling
        the code apart from its identity's other codes), else None."""
        n, _, j = longest_match(bits, code.bits, code.index)
        if n < MIN_LINK_BITS:
            return None
        d = self.distinct_bits(code.code, code.identity, code.bits, j, n)
        if d is None:
            return (n, None) if n >= WHOLE_FRAME * len(code.bits) else None
        return (n, d) if d >= MIN_DISTINCT_BITS else None

    def heard_as_unknown(self, code: str, identity: str | None, before_abs_t: float,
                         chain_gap_s: float, handle: int | None = None) -> Link | None:
        """The earliest unknown transmission, separated from this press's own chain of
        frames by at least ``chain_gap_s`` of silence and ending before ``before_abs_t``
        (the press's start, s), that carried a stretch of the decoded ``code``'s frame that
        tells it apart from the identity's other codes."""
        c = self._codes.get(code)
        if c is None:
            return None
        cands: set = set()
        for s in c.index:
            cands |= self._seed_unknown.get(s, set())
        found: list[tuple[Episode, int, int | None]] = []
        for ub in cands:
            got = self._link_to(ub, c)
            if got is None:
                continue
            n, distinct = got
            for ep in self._unknown[ub][0]:
                if ep.abs_t < before_abs_t:
                    found.append((ep, n, distinct))
        # walk back from the press: matching frames that lead into it are its own
        chain_start = before_abs_t
        out = None
        for ep, n, distinct in sorted(found, key=lambda f: -f[0].abs_end):
            same_capture = handle is None or ep.handle == handle
            if same_capture and ep.abs_end >= chain_start - chain_gap_s:
                chain_start = min(chain_start, ep.abs_t)
                continue
            if out is None or ep.abs_t < out.episode.abs_t:
                out = Link(bits=n, distinct_bits=distinct, episode=ep)
        return out

    def decoded_match(self, bits: str, win: frozenset | None = None) -> Link | None:
        """The decoded code a stretch of whose frame, telling it apart from its identity's
        other codes, this unknown frame carries (the longest stretch), or None. ``win``: the
        frame's :func:`sparse_seeds` when already computed (a stretch of ``MIN_LINK_BITS``
        holds one of them)."""
        if len(bits) < MIN_MATCH_BITS:
            return None
        cands: set = set()
        for w in (win if win is not None else sparse_seeds(bits)):
            got = self._seed_codes.get(w)
            if got:
                cands |= got
        best = None
        for code in sorted(cands):
            c = self._codes[code]
            got = self._link_to(bits, c)
            if got is None:
                continue
            n, distinct = got
            if best is None or n > best.bits:
                best = Link(bits=n, distinct_bits=distinct, code=c)
        return best
