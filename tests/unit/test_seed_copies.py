"""The seed's client code kept here is byte for byte what the seed document has."""

from __future__ import annotations

import pytest

from tests.seed_clients.extract import BLOCKS, HERE, SEED, block_starting_with


@pytest.mark.skipif(not SEED.exists(), reason="the seed document is not beside this checkout")
@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_copy_matches_the_seed(name):
    expected = block_starting_with(SEED.read_text(encoding="utf-8"), BLOCKS[name])
    assert (HERE / name).read_text(encoding="utf-8") == expected
