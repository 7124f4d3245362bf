"""Objects shared by many rows (one answers mapping for every unanswered deployment, one reasons list for
every row with the same reasons), numbered so that array code can treat each distinct object once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def identity_codes(objects: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(first, codes): entries that are the same Python object share a code; `first[c]` is the position
    where code c first occurs. Codes are numbered in order of first use (not by address), so the same
    inputs always give the same codes."""
    if not len(objects):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(np.fromiter(map(id, objects), np.int64, count=len(objects)),
                                  return_index=True, return_inverse=True)
    by_first_use = np.argsort(first)
    number = np.empty_like(by_first_use)
    number[by_first_use] = np.arange(len(first))
    return first[by_first_use], number[inverse.ravel()]
