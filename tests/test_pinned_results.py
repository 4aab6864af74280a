"""Searches, facets, date orders, filters, timelines, more-like-this and explain give the same
results as when they were pinned (tests/pinned/results.json, written by make_pinned.py), so
that making them faster, or reorganising the code, cannot change what a reader sees unnoticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .pinned.make_pinned import pinned_results

PINNED = json.loads((Path(__file__).parent / "pinned" / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def now() -> dict:
    # Pinned before searches counted only the articles with every word: as match="any" counts.
    return pinned_results({"match": "any"})


@pytest.mark.parametrize("name", sorted(PINNED))
def test_results_stay_as_pinned(now: dict, name: str) -> None:
    assert now[name] == PINNED[name]


def test_an_index_opened_without_preloading_gives_the_same_results() -> None:
    """``preload=False`` (how the search command opens an index) reads the same files another way."""
    assert pinned_results({"match": "any"}, preload=False) == PINNED
