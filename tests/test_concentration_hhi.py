"""HHI by key: shares of the weight per key (keys without a value left out), the top key the first of the
largest shares in key order — the same figures whatever the order of the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from risk_models.engine.concentration import hhi

rows = st.lists(st.tuples(st.sampled_from(["azure", "aws", "gcp", None]), st.sampled_from([0.0, 1.0, 2.5, 1e6])),
                min_size=1, max_size=40)


@given(rows, st.randoms())
def test_hhi_is_the_sum_of_squared_shares_and_ignores_row_order(data, rnd):
    keys, weights = pd.Series([k for k, _ in data], dtype=object), np.array([w for _, w in data])
    got = hhi(keys, weights)
    by_key: dict[str, float] = {}
    for k, w in data:
        if k is not None:
            by_key[k] = by_key.get(k, 0.0) + w
    total = sum(by_key.values())
    if total <= 0:
        assert got["hhi"] == 0.0 and got["top"] is None
        return
    shares = {k: 100 * v / total for k, v in sorted(by_key.items())}
    assert got["shares"] == {k: round(v, 2) for k, v in shares.items()}
    assert got["hhi"] == round(sum(v * v for v in shares.values()), 1)
    assert got["top"] == max(shares, key=lambda k: (shares[k], -sorted(shares).index(k)))
    shuffled = list(range(len(data)))
    rnd.shuffle(shuffled)
    assert hhi(keys.iloc[shuffled].reset_index(drop=True), weights[shuffled]) == got
