"""Every table of every page speaks people's words: headers in sentence case (no snake_case, no internal
id), money in whole dollars, percentages side by side at one precision — on the demo organisation, and
after the steps that show more tables (answers uploaded, a file with rejected rows, a what-if plan, two
saved assessments)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from tests.app_upload import upload_inventory

APP = "../dashboard/app.py"
ROOT = Path(__file__).resolve().parents[1]
PAGES = ["overview", "inventory", "discovery", "questionnaire", "scenarios", "cases", "heatmaps", "fallbacks",
         "providers", "report", "history", "settings", "audit"]

SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
CENTS = re.compile(r"\$\s?\d[\d,]*\.\d{2}\b")  # "$17,307.73"
PERCENT = re.compile(r"(?<![\w.])\d+(?:\.(\d+))?\s?%")
MONEY_WORDS = re.compile(r"\$|\busd\b|loss|cost|spend|price|var \d\d", re.IGNORECASE)


def _internal_ids() -> set[str]:
    """Ids a person never types: channel, question and outcome ids of the configuration."""
    ids = set(yaml.safe_load((ROOT / "config/channels.yaml").read_text())["channels"])
    ids |= {q["id"] for q in yaml.safe_load((ROOT / "config/questionnaire.yaml").read_text())["questions"]}
    return {i for i in ids if "_" in i}


def _shown_columns(df) -> list[tuple[str, str, dict]]:
    """(column name, header as drawn, column config) of each visible column of a table element."""
    cfg = json.loads(df.proto.columns or "{}")
    order = list(df.proto.column_order)
    value = df.value
    names = [str(c) for c in value.columns]
    if order:
        names = [c for c in order if c in names]
    out = []
    for name in names:
        c = cfg.get(name, {})
        if c.get("hidden") or name == "_index":
            continue
        out.append((name, c.get("label") or name, c.get("type_config") or {}))
    if not cfg.get("_index", {}).get("hidden") and value.index.name:  # a shown index has a header too
        out.append(("_index", str(value.index.name), {}))
    return out


def _decimals_of_step(step: float | None) -> int | None:
    if step is None:
        return None
    text = f"{step:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def problems(page: str, at: AppTest) -> list[str]:
    found = []
    ids = _internal_ids()
    for n, df in enumerate(at.dataframe):
        where = f"{page} table {n + 1} ({df.key or 'no key'})"
        value = df.value
        percent_digits: dict[str, int] = {}
        for name, header, tc in _shown_columns(df):
            if SNAKE.search(header) or header in ids:
                found.append(f"{where}: header {header!r} is an internal name")
            elif header[:1].isalpha() and header[:1].islower():
                found.append(f"{where}: header {header!r} is not in sentence case")
            if name not in value.columns:
                continue
            col = value[name]
            fmt = str(tc.get("format") or "")
            numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
            whole = numeric and bool((col.dropna() % 1 == 0).all())
            step_digits = 0 if (pd.api.types.is_integer_dtype(col)) else _decimals_of_step(tc.get("step"))
            if fmt in ("dollar", "accounting", "localized") and MONEY_WORDS.search(header) and step_digits != 0 \
                    and not whole:
                found.append(f"{where}: money column {header!r} shows cents (format {fmt!r} without step=1)")
            if "$" in fmt and not re.search(r"%(?:\.0f|d|i)", fmt):
                found.append(f"{where}: money column {header!r} shows cents (format {fmt!r})")
            if numeric and not fmt and MONEY_WORDS.search(header) and not whole:
                found.append(f"{where}: money column {header!r} has no format and shows cents")
            if fmt == "percent":
                percent_digits[header] = max((step_digits or 2) - 2, 0) if step_digits is not None else 2
            elif numeric and re.fullmatch(r"%\.(\d)f%%", fmt):
                percent_digits[header] = int(fmt[2])
            if not numeric and (col.dtype == object or pd.api.types.is_string_dtype(col)):
                text = col.dropna().astype(str)
                cents = text[text.str.contains(CENTS)]
                if len(cents):
                    found.append(f"{where}: {header!r} shows cents: {cents.iloc[0]!r}")
                digits = {len(m or "") for t in text for m in PERCENT.findall(t)}
                if len(digits) > 1:
                    found.append(f"{where}: {header!r} mixes percentage precisions {sorted(digits)}")
        if len(set(percent_digits.values())) > 1:
            found.append(f"{where}: percentages side by side at different precisions {percent_digits}")
    return found


def _go(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _table_with(at: AppTest, column: str) -> bool:
    return any(column in df.value.columns for df in at.dataframe)


def _every_page(at: AppTest, label: str) -> list[str]:
    found = []
    for page in PAGES:
        found += problems(f"{label}/{page}", _go(at, page))
    return found


def test_every_table_of_the_demo_speaks_peoples_words():
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, at.exception
    found = _every_page(at, "demo")
    # a what-if plan: its metrics and its table of changed deployments
    _go(at, "fallbacks")
    next(b for b in at.button if b.label.startswith("Apply the top recommendation")).click().run()
    assert not at.exception, at.exception
    assert _table_with(at, "Options applied")
    found += problems("plan/fallbacks", at)
    # the ranking of unanswered questions, then the demo's answers file uploaded with one answer it refuses
    _go(at, "questionnaire")
    at.toggle(key="voi_on").set_value(True).run()
    before = len(at.dataframe)
    answers = yaml.safe_load((ROOT / "config/demo/answers.yaml").read_text())
    answers["DEP-001"]["rto_hours"] = 8
    answers["DEP-002"] = {"users_affected": "nobody_at_all"}
    at.file_uploader(key="answers_upload").upload("answers.yaml", yaml.safe_dump(answers).encode(),
                                                  "application/yaml").run()
    assert not at.exception, at.exception
    assert len(at.dataframe) > before
    found += problems("answers/questionnaire", at)
    # two saved assessments: the history lists and compares them
    _go(at, "history")
    for label in ("Q3", "Q4"):
        at.text_input[0].set_value(label)
        next(b for b in at.button if b.label == "Save").click().run()
        assert not at.exception, at.exception
    assert _table_with(at, "Cell before")
    found += problems("saved/history", at)
    assert not found, "\n".join(found)


def test_tables_after_an_upload_with_rejected_rows_speak_peoples_words():
    at = AppTest.from_file(APP, default_timeout=180).run()
    _go(at, "inventory")
    csv = ("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
           "U1,Chat,openai,gpt-4o,1234.56,low,public\n"
           "U2,Bot,Azur OpenAI,gpt-4o,100,loww,public\n")
    upload_inventory(at, "mine.csv", csv.encode())
    assert _table_with(at, "_problem")
    found = _every_page(at, "upload")
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("header", "bad"), [("deployment_id", True), ("kind", True), ("Score before", False),
                                             ("Loss avoided / yr", False), ("azure_openai", True)])
def test_the_header_rule_catches_internal_names(header, bad):
    """The check itself: a snake_case or lowercase header is caught, a sentence-case one passes."""
    at = AppTest.from_string(f"import pandas as pd, streamlit as st\nst.dataframe(pd.DataFrame({{{header!r}: [1]}}))")
    assert bool(problems("probe", at.run())) is bad


def test_the_money_rule_catches_cents():
    script = ("import pandas as pd, streamlit as st\n"
              "st.dataframe(pd.DataFrame({'Loss': [1.5], 'Cost': [2.25]}), column_config={\n"
              "  'Loss': st.column_config.NumberColumn(format='dollar'),\n"
              "  'Cost': st.column_config.NumberColumn(format='dollar', step=1)})\n"
              "st.dataframe(pd.DataFrame({'Note': ['$17,307.73 a year']}))\n")
    found = problems("probe", AppTest.from_string(script).run())
    assert len(found) == 2 and "'Loss'" in found[0] and "$17,307.73" in found[1]


@pytest.mark.parametrize("message", [
    "DATABASE_URL sqlite:////proc/no-such-dir/app.sqlite: (sqlite3.OperationalError) unable to open database file",
    "DATABASE_URL postgresql+psycopg://risk:***@db.internal:5432/risk: connection refused",
    "cannot create /home/ann/.local/share/ai-vendor-risk/signing.key: Permission denied"])
def test_storage_problems_are_told_without_the_database_url_or_a_path(message):
    from dashboard.state.storage import problem_text
    text = problem_text(Exception(message))
    assert "://" not in text and "/proc" not in text and "/home" not in text and "DATABASE_URL" not in text
    assert text.split(": ")[-1] in message  # the reason stays


def test_heatmap_axes_say_what_each_level_means_and_drivers_wrap_in_full():
    from risk_models.config.labels import IMPACT_WORDS, LIKELIHOOD_WORDS, level_text
    at = AppTest.from_file(APP, default_timeout=180).run()
    matrix = next(h.proto.body for h in at.get("html") if 'class="risk-matrix"' in h.proto.body)
    for words in (*LIKELIHOOD_WORDS, *IMPACT_WORDS):
        assert words.replace(" ", "&nbsp;") in matrix or words in matrix, words
    assert "Likelihood 5 · almost certain × impact" in matrix  # a cell's hover names its levels too
    top = next(df for df in at.dataframe if "Top drivers" in df.value.columns)
    assert top.proto.row_height > 64  # Streamlit wraps text only in taller rows
    assert top.value["Top drivers"].str.contains("\n").any()  # one driver a line, none cut
    _go(at, "heatmaps")
    layout = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert [t.replace("<br>", " ") for t in layout["yaxis"]["ticktext"]] == \
        [level_text("likelihood", v) for v in range(1, 6)]
    assert [t.replace("<br>", " · ") for t in layout["xaxis"]["ticktext"]] == \
        [level_text("impact", v) for v in range(1, 6)]
    assert any(h.value.startswith("Likelihood ") and " · " in h.value for h in at.subheader)


def test_a_refused_probability_edit_is_told_above_the_table_it_was_made_in():
    at = _go(AppTest.from_file(APP, default_timeout=180).run(), "scenarios")
    ver = at.session_state["scenario_version"]
    at.session_state[f"scenario_editor_{ver}"] = {"edited_rows": {0: {"probability": 0.9}}, "added_rows": [],
                                                  "deleted_rows": []}
    at.run()
    order = list(at.main)  # depth first: the order on the page
    refused = next(i for i, e in enumerate(order) if e.type == "error" and "put back" in e.value)
    editor = next(i for i, e in enumerate(order) if e.type == "dataframe" and "Outcome" in str(
        json.loads(e.proto.columns or "{}")))
    assert refused < editor


def test_register_changes_show_money_in_whole_dollars_unless_less_than_a_dollar_changed():
    from risk_models.inventory.versions import FieldChange, RegisterDiff
    diff = RegisterDiff(added=[], removed=[], unchanged=0, changed=[
        FieldChange(deployment_id="A", column="annual_spend_usd", before="$11,782.26", after="$12,000.00"),
        FieldChange(deployment_id="B", column="annual_spend_usd", before="$100.20", after="$100.40"),
        FieldChange(deployment_id="C", column="channel", before="openai_api", after="azure_openai")])
    rows = diff.rows_for_people({"openai_api": "OpenAI API", "azure_openai": "Azure OpenAI"})
    assert [(r["Before"], r["After"]) for r in rows] == [("$11,782", "$12,000"), ("$100.20", "$100.40"),
                                                         ("OpenAI API", "Azure OpenAI")]


def test_money_tables_round_to_whole_dollars_rather_than_cutting_the_cents():
    """Streamlit cuts the decimals a column's step does not show: $69,742.60 would read $69,742 in the table
    beside a sentence saying $69,743. Money tables are rounded first; other columns are left alone."""
    import pandas as pd

    from dashboard.components.columns import money, whole_dollars
    frame = pd.DataFrame({"loss": [69742.6, 10.4, None], "score": [48.76, 1.25, 3.5]})
    shown = whole_dollars(frame, {"loss": money("Loss"), "score": {"type_config": {"format": "%.1f"}}})
    assert shown["loss"].tolist()[:2] == [69743.0, 10.0] and pd.isna(shown["loss"].iloc[2])
    assert shown["score"].tolist() == [48.76, 1.25, 3.5]
    assert frame["loss"].iloc[0] == 69742.6  # the caller's frame is not changed
