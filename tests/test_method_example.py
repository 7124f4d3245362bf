"""The worked example of docs/method.md is the real output: its scores, cells, ratings and expected
losses are read from docs/method.md and compared with an assessment of the demo organisation."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from risk_models.config.loader import load_profile, with_profile
from risk_models.engine.assessment import assess
from risk_models.inventory.read import import_inventory
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT


def _row(text: str, name: str) -> list[str]:
    line = next(x for x in text.splitlines() if x.startswith(f"| {name} |"))
    return [c.strip() for c in line.strip("|").split("|")[1:]]


def test_method_worked_example_matches_the_engine(lib):
    text = (ROOT / "docs" / "method.md").read_text(encoding="utf-8")
    demo_lib = with_profile(lib, load_profile(ROOT / "config" / "demo" / "profile.yaml", lib.regimes))
    # the example's assessment date, as its command gives it (contracts are measured against it)
    as_of = dt.date.fromisoformat(re.search(r"--as-of (\d{4}-\d\d-\d\d)", text).group(1))
    demo_lib = with_profile(demo_lib, demo_lib.profile.model_copy(update={"reporting_date": as_of}))
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), demo_lib.questions)
    a = assess(import_inventory(DEMO_INVENTORY, demo_lib), answers, demo_lib, trials=2000, seed=0)
    ids = list(a.frame["deployment_id"])
    scores, cells, losses = _row(text, "score (inherent)"), _row(text, "likelihood × impact"), \
        _row(text, "expected annual loss")
    for col, dep in enumerate(("DEP-001", "DEP-061")):
        i = ids.index(dep)
        score, inherent = (float(x) for x in re.findall(r"[\d.]+", scores[col])[:2])
        assert score == pytest.approx(a.residual.table["score"].iat[i], abs=0.05)
        assert inherent == pytest.approx(a.inherent.table["score"].iat[i], abs=0.05)
        lik, imp, rating = re.match(r"(\d) × (\d) → \*\*(\w+)\*\*", cells[col]).groups()
        t = a.residual.table.iloc[i]
        assert (int(lik), int(imp), rating) == (t["likelihood"], t["impact"], t["rating"])
        loss = float(re.search(r"\$([\d,]+)", losses[col]).group(1).replace(",", ""))
        assert loss == pytest.approx(a.simulation.expected_by_deployment[i], abs=1)
