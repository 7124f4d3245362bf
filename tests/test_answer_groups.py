"""Rows grouped by their answers mapping (the engine looks at each distinct mapping once): every row
with answers is in exactly the group of its own mapping, in the order the answers list them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from risk_models.questionnaire.answers import rows_by_answers


@given(st.integers(1, 60), st.lists(st.tuples(st.integers(0, 80), st.integers(0, 4)), max_size=120))
def test_every_answered_row_is_in_the_group_of_its_own_answers(n, picks):
    ids = [f"D{i:03d}" for i in range(n)]
    shared = [{"q": k} for k in range(5)]  # a few mappings shared by many rows, as a bulk answer gives
    answers = {f"D{i:03d}": shared[k] for i, k in picks}  # ids beyond n: answers for unknown rows
    groups = rows_by_answers(ids, answers)
    inventory_order = [i for i, d in enumerate(ids) if d in answers]
    assert sorted(r for _, rows in groups for r in rows) == inventory_order
    position = {d: p for p, d in enumerate(answers)}
    for per, rows in groups:
        assert all(answers[ids[r]] is per for r in rows)
        assert [position[ids[r]] for r in rows] == sorted(position[ids[r]] for r in rows)
    assert len({id(per) for per, _ in groups}) == len(groups)
    firsts = [min(position[ids[r]] for r in rows) for _, rows in groups]
    assert firsts == sorted(firsts)


@given(st.lists(st.sampled_from(["none", "documented", "tested", "active"]), min_size=1, max_size=30),
       st.dictionaries(st.integers(0, 40), st.sampled_from([{}, {"exit_plan_exists": "none"}, {"rto_hours": 4}]),
                       max_size=20))
def test_the_inventory_fills_only_the_open_exit_plan_question(lib, statuses, given_at):
    from risk_models.questionnaire.answers import EXIT_PLAN_OF_FALLBACK, EXIT_PLAN_QUESTION, with_inventory_facts
    questions = lib.questions
    ids = [f"D{i:03d}" for i in range(len(statuses))]
    answers = {f"D{i:03d}": dict(v) for i, v in given_at.items()}  # some for rows not in the inventory
    out = with_inventory_facts(ids, statuses, answers, questions)
    for dep, status in zip(ids, statuses, strict=True):
        given = answers.get(dep, {})
        implied = EXIT_PLAN_OF_FALLBACK.get(status)
        if EXIT_PLAN_QUESTION in given or implied is None:
            assert out.get(dep, {}) == given  # an answer given is never overwritten
        else:
            assert out[dep] == {**given, EXIT_PLAN_QUESTION: implied}
    assert {d: v for d, v in out.items() if d not in ids} == {d: v for d, v in answers.items() if d not in ids}



@given(st.lists(st.integers(0, 5), max_size=50))
def test_shared_objects_are_numbered_by_first_use(picks):
    from risk_models.io.identity import identity_codes
    objects = [[k] for k in range(6)]  # six distinct list objects, shared by many rows
    rows = [objects[k] for k in picks]
    first, codes = identity_codes(rows)
    assert [rows[f] is rows[i] for i, f in zip(range(len(rows)), first[codes].tolist(), strict=True)] == [True] * len(rows)
    order_of_first_use = list(dict.fromkeys(picks))
    assert [picks[f] for f in first.tolist()] == order_of_first_use
    assert codes.tolist() == [order_of_first_use.index(k) for k in picks]
