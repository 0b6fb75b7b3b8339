"""KeeLoq cipher: published vectors, inverse property, batch = scalar, learning, hop search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.protocols import keeloq
from keyguard.protocols.keeloq import Hop, ManufacturerKey

VECTOR_KEY = 0x5CEC6701B79FD949
VECTORS = [(0xF741E2DB, 0xE44F4CDF), (0x0CA69B92, 0xA6AC0EA2)]  # plaintext -> ciphertext

u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)


@pytest.mark.parametrize("plain,cipher", VECTORS)
def test_published_vectors_encrypt_direction(plain, cipher):
    assert keeloq.encrypt(plain, VECTOR_KEY) == cipher
    assert keeloq.decrypt(cipher, VECTOR_KEY) == plain
    # the other direction does not give the vector: the direction is pinned
    assert keeloq.decrypt(plain, VECTOR_KEY) != cipher


def test_vectors_batch():
    plain = np.array([p for p, _ in VECTORS], dtype=np.uint32)
    cipher = keeloq.encrypt_batch(plain, VECTOR_KEY)
    assert cipher.dtype == np.uint32
    assert cipher.tolist() == [c for _, c in VECTORS]
    assert keeloq.decrypt_batch(cipher, VECTOR_KEY).tolist() == plain.tolist()


@settings(max_examples=40, deadline=None)
@given(block=u32, key=u64)
def test_decrypt_inverts_encrypt(block, key):
    assert keeloq.decrypt(keeloq.encrypt(block, key), key) == block
    assert keeloq.encrypt(keeloq.decrypt(block, key), key) == block


def test_batch_matches_scalar_many_keys_and_many_blocks():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 2**63, 24, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    blocks = rng.integers(0, 2**32, 24, dtype=np.uint64)
    one_block_many_keys = keeloq.decrypt_batch(int(blocks[0]), keys)
    many_blocks_one_key = keeloq.encrypt_batch(blocks, int(keys[0]))
    pairwise = keeloq.decrypt_batch(blocks, keys)
    for i in range(24):
        assert one_block_many_keys[i] == keeloq.decrypt(int(blocks[0]), int(keys[i]))
        assert many_blocks_one_key[i] == keeloq.encrypt(int(blocks[i]), int(keys[0]))
        assert pairwise[i] == keeloq.decrypt(int(blocks[i]), int(keys[i]))
    grid = keeloq.encrypt_batch(blocks[:, None], keys[None, :4])
    assert grid.shape == (24, 4)
    assert grid[5, 3] == keeloq.encrypt(int(blocks[5]), int(keys[3]))


def test_key_bit_order_matters():
    # flipping one key bit changes the output: every key bit takes part
    base = keeloq.encrypt(0x12345678, VECTOR_KEY)
    for bit in (0, 15, 16, 63):
        assert keeloq.encrypt(0x12345678, VECTOR_KEY ^ (1 << bit)) != base


def test_normal_learning_definition_and_batch():
    rng = np.random.default_rng(7)
    mkey = int(rng.integers(0, 2**63)) << 1 | 1
    serial = 0x0ABCDEF
    dk = keeloq.normal_learning_key(serial, mkey)
    assert dk & 0xFFFFFFFF == keeloq.decrypt(serial | 0x20000000, mkey)
    assert dk >> 32 == keeloq.decrypt(serial | 0x60000000, mkey)
    # only the 28 serial bits count
    assert keeloq.normal_learning_key(serial | 0xF0000000, mkey) == dk
    serials = np.array([serial, 0x1234567, 0x0000001], dtype=np.uint64)
    batch = keeloq.normal_learning_keys(serials, mkey)
    assert [int(k) for k in batch] == [keeloq.normal_learning_key(int(s), mkey) for s in serials]


def test_seeded_learning_schemes():
    mkey, serial, seed = 0x0123456789ABCDEF, 0x5A5A5A5, 0xCAFEBABE
    sk = keeloq.secure_learning_key(serial, seed, mkey)
    assert sk >> 32 == keeloq.decrypt(serial, mkey)
    assert sk & 0xFFFFFFFF == keeloq.decrypt(seed, mkey)
    fk = keeloq.faac_learning_key(seed, mkey)
    assert fk >> 32 == keeloq.encrypt(seed, mkey)
    assert fk & 0xFFFFFFFF == keeloq.encrypt(0xCAFE544D, mkey)
    assert keeloq.device_key("secure", mkey, serial) is None  # no seed, no key
    assert keeloq.device_key("faac", mkey, serial, seed=seed) == fk
    assert keeloq.device_key("simple", mkey, serial) == mkey
    assert keeloq.device_key("magic_xor", mkey, serial) == ((serial << 32) | serial) ^ mkey
    with pytest.raises(ValueError, match="unknown KeeLoq learning"):
        keeloq.device_key("bogus", mkey)


@settings(max_examples=30, deadline=None)
@given(b=st.integers(0, 15), o=st.integers(0, 3), d=st.integers(0, 1023), c=st.integers(0, 0xFFFF))
def test_hop_pack_unpack(b, o, d, c):
    h = Hop(b, o, d, c)
    assert Hop.unpack(h.pack()) == h


def _random_keys(rng, n):
    return [int(k) for k in rng.integers(0, 2**63, n, dtype=np.uint64) * 2 + 1]


@pytest.mark.parametrize("learning", ["simple", "normal", "secure", "magic_xor"])
def test_decrypt_hop_finds_the_right_key_and_scheme(learning):
    rng = np.random.default_rng(sum(map(ord, learning)))
    keys = _random_keys(rng, 4)
    serial, button, counter, seed = 0x0D36C68, 0x2, 0x1234, 0x13572468
    true = ManufacturerKey("maker-c", keys[2], learning)
    dk = keeloq.device_key(learning, true.key, serial, seed=seed)
    hop = keeloq.encrypt(Hop(button, 0, serial & 0x3FF, counter).pack(), dk)
    candidates = [ManufacturerKey(f"maker-{n}", k, learning) for n, k in zip("ab", keys)] + [true]
    res = keeloq.decrypt_hop(hop, serial, button, candidates, seed=seed)
    assert res is not None
    assert (res.key_name, res.learning, res.counter, res.button) == ("maker-c", learning, counter, button)
    assert res.device_key == dk
    # wrong button in the clear part: no plausible decrypt
    assert keeloq.decrypt_hop(hop, serial, button ^ 1, candidates, seed=seed) is None


def test_decrypt_hop_tries_overridden_schemes():
    rng = np.random.default_rng(3)
    mk = _random_keys(rng, 1)[0]
    serial, button = 0x1234567, 0x8
    hop = keeloq.encrypt(Hop(button, 1, serial & 0x3FF, 77).pack(), keeloq.normal_learning_key(serial, mk))
    stored_as_simple = [ManufacturerKey("m", mk, "simple")]
    assert keeloq.decrypt_hop(hop, serial, button, stored_as_simple) is None
    res = keeloq.decrypt_hop(hop, serial, button, stored_as_simple, learnings=("simple", "normal"))
    assert res is not None and res.learning == "normal" and res.overflow == 1


def test_hop_plausible_rules():
    serial = 0x0ABC123
    good = Hop(0x4, 0, serial & 0x3FF, 5).pack()
    assert keeloq.hop_plausible(good, serial, 0x4)
    assert not keeloq.hop_plausible(good, serial, 0x2)
    assert not keeloq.hop_plausible(good, serial ^ 0x1, 0x4)
    # fobs that program fewer discriminator bits: compare only those
    partial = Hop(0x4, 0, (serial & 0xFF) | 0x300, 5).pack()
    assert not keeloq.hop_plausible(partial, serial, 0x4)
    assert keeloq.hop_plausible(partial, serial, 0x4, disc_bits=8)


def test_find_device_keys_vectorised_search():
    rng = np.random.default_rng(11)
    cands = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    serial, button = 0x0F0F0F0, 0x1
    hop = keeloq.encrypt(Hop(button, 0, serial & 0x3FF, 999).pack(), int(cands[4321]))
    hits = keeloq.find_device_keys(hop, serial, button, cands)
    assert 4321 in hits.tolist()
    # a random key passes with probability 2^-14: very few false hits among 5000
    assert hits.size <= 3
