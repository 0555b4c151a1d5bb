"""Verbatim copies of the seed's client code (../shared/seed/client-examples.md).

The seed document is the contract; CI may not have it beside the checkout,
so its code blocks are copied here unmodified by `extract.py`, and
`tests/unit/test_seed_copies.py` checks that the copies still match the
document wherever it is present.
"""
