"""The JSON report's option records are formatted from whole columns (Arrow), not by orjson one value at a
time: every number must parse back to the value orjson would write, whatever its size."""

from __future__ import annotations

import json

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from risk_models.report.json_columns import _encoded, _numbers

floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(-1e12, 1e12).map(lambda x: round(x, 2)), st.integers(-10**17, 10**17).map(float))


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(1, 40), elements=floats))
def test_numbers_read_back_as_orjson_writes_them(values):
    got = json.loads("[" + ",".join(_numbers(values).to_pylist()) + "]")
    want = orjson.loads(orjson.dumps(values.tolist()))
    assert got == want
    assert [type(x) for x in got] == [type(x) for x in want]  # floats stay floats (25000.0, not 25000)


@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), min_size=1, max_size=20))
def test_strings_are_json_escaped(values):
    encoded = _encoded(np.array(values, dtype=object)).to_pylist()
    assert [json.loads(x) for x in encoded] == values
