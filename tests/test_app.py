"""Streamlit AppTest: every page renders on the demo organisation and the main interactions work."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_upload import upload_inventory

APP = "../dashboard/app.py"  # AppTest resolves paths relative to this test file
PAGES = ["overview", "inventory", "questionnaire", "scenarios", "cases", "heatmaps", "fallbacks", "report", "history",
         "settings"]


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, csv: str) -> AppTest:
    return upload_inventory(at, name, csv.encode())


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_demo_org(page):
    at = goto(start(), page)
    assert at.title, page


def test_overview_shows_demo_fully_assessed():
    at = start()
    assert metric(at, "Deployments (valid)") == "61"
    assert metric(at, "Expected annual loss").startswith("$")
    assert any("Demo organisation" in c.value for c in at.caption)
    counts = overview_matrix_counts(at)  # the 5x5 matrix is drawn (static HTML on the Overview)
    assert len(counts) == 25 and sum(counts.values()) == 61


def overview_matrix(at: AppTest) -> str:
    return next(h.proto.body for h in at.get("html") if 'class="risk-matrix"' in h.proto.body)


def overview_matrix_counts(at: AppTest) -> dict[tuple[int, int], int]:
    """(likelihood, impact) -> count of the Overview's static matrix."""
    cells = re.findall(r'data-cell="(\d)-(\d)" data-count="(\d+)"', overview_matrix(at))
    return {(int(lik), int(imp)): int(n) for lik, imp, n in cells}


def test_overview_matrix_shows_the_heatmaps_matrix_figures():
    """The Overview's static matrix (no plotly.js on the first page) counts what the plotly matrix of
    the Heatmaps page counts, cell for cell."""
    at = start()
    static = overview_matrix_counts(at)
    goto(at, "heatmaps")
    plotly = [int(t or 0) for t in _matrix_counts(at)]  # cells in the order lik 1..5 x imp 1..5
    assert [static[(lik, imp)] for lik in range(1, 6) for imp in range(1, 6)] == plotly


def test_upload_lists_rejected_rows_and_fixing_one_revalidates():
    at = goto(start(), "inventory")
    csv = ("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
           "U1,<script>alert(1)</script>,openai,gpt-4o,100,low,public\n"
           "U2,=HYPERLINK(\"x\"),Azur OpenAI,gpt-4o,100,low,public\n")
    upload(at, "mine.csv", csv)
    assert not at.exception
    errors = at.dataframe[0].value
    assert list(errors["Line"]) == [3] and list(errors["Column"]) == ["Provider (channel)"]  # as the template names it
    assert "did you mean 'Azure OpenAI'" in errors["Message"][0]
    inv = at.session_state["inventory"]
    assert list(inv.frame["deployment_id"]) == ["U1"] and inv.frame["name"][0] == "<script>alert(1)</script>"
    # fix the rejected row in its editor: it is re-validated and joins the valid rows
    ver = at.session_state["editor_version"]
    at.session_state[f"rejected_editor_{ver}"] = {"edited_rows": {0: {"channel": "Azure OpenAI"}},
                                                  "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    inv = at.session_state["inventory"]
    assert sorted(inv.frame["deployment_id"]) == ["U1", "U2"] and not inv.errors
    assert inv.frame.set_index("deployment_id").loc["U2", "name"] == '=HYPERLINK("x")'
    goto(at, "overview")
    assert metric(at, "Rejected rows") == "0" and metric(at, "Deployments (valid)") == "2"


def _score_of_selected(at: AppTest) -> float:
    return float(metric(at, "Score (residual)"))


def test_edit_a_cell_changes_the_score_and_undo_restores_it():
    at = goto(start(), "questionnaire")
    before = _score_of_selected(at)  # DEP-001 is selected first
    goto(at, "inventory")
    ver = at.session_state["editor_version"]
    at.session_state[f"inventory_editor_{ver}"] = {"edited_rows": {0: {"criticality": "low"}},
                                                   "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    goto(at, "questionnaire")
    after = _score_of_selected(at)
    assert after < before
    goto(at, "inventory")
    next(b for b in at.button if b.label == "Undo last edit").click().run()
    goto(at, "questionnaire")
    assert _score_of_selected(at) == before


def test_submitting_an_answer_changes_score_and_drivers():
    at = goto(start(), "questionnaire")
    before = _score_of_selected(at)
    drivers_before = at.dataframe[0].value.copy()
    at.radio(key="q_DEP-001_exit_plan_exists").set_value("tested")
    at.radio(key="q_DEP-001_substitutability").set_value("easy").run()  # saved as given: no save button
    assert not at.exception
    assert _score_of_selected(at) < before
    drivers_after = at.dataframe[0].value
    assert not drivers_after.equals(drivers_before)
    assert any("Documented and tested" in x or ": tested" in x for x in drivers_after["Driver"])
    assert at.session_state["answers"]["DEP-001"]["exit_plan_exists"] == "tested"


def _matrix_counts(at: AppTest) -> list[str]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return spec["data"][0]["text"]


def test_changing_a_probability_changes_heatmap_counts():
    at = goto(start(), "heatmaps")
    before = _matrix_counts(at)
    goto(at, "scenarios")
    ver = at.session_state["scenario_version"]
    # row 4 is "Azure OpenAI pricing or priority shifts" (order of config/scenarios.yaml)
    at.session_state[f"scenario_editor_{ver}"] = {"edited_rows": {4: {"probability": 0.0}, 1: {"probability": 0.0}},
                                                  "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert at.session_state["probabilities"] == {"msft_openai_pricing_shift": 0.0, "musk_appeal_reversed": 0.0}
    goto(at, "heatmaps")
    assert _matrix_counts(at) != before
    goto(at, "scenarios")
    next(b for b in at.button if b.label == "Reset to defaults").click().run()
    assert at.session_state["probabilities"] == {}


def test_probabilities_over_one_are_refused():
    at = goto(start(), "scenarios")
    ver = at.session_state["scenario_version"]
    at.session_state[f"scenario_editor_{ver}"] = {"edited_rows": {0: {"probability": 0.9}},
                                                  "added_rows": [], "deleted_rows": []}
    at.run()
    assert any("sum to" in e.value for e in at.error)
    assert at.session_state["probabilities"] == {}


def test_heatmap_filters_and_cell_listing():
    at = goto(start(), "heatmaps")
    at.multiselect(key="hm_channel").set_value(["self_hosted"]).run()
    assert not at.exception
    counts = [int(t) for t in _matrix_counts(at) if t]
    assert sum(counts) == 7  # the demo has 7 self-hosted deployments
    cell = at.selectbox(key="hm_cell").value
    listed = at.dataframe[0].value
    assert len(listed) == int(_matrix_counts(at)[(cell[0] - 1) * 5 + cell[1] - 1])


def test_hostile_names_are_escaped_in_hover_text():
    at = goto(start(), "inventory")
    csv = ("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
           "X1,<img src=x onerror=alert(1)>,aoai,gpt-4o,100,critical,public\n")
    upload(at, "h.csv", csv)
    goto(at, "heatmaps")
    hover = " ".join(json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["hovertext"])
    assert "&lt;img src=x onerror=alert(1)&gt;" in hover and "<img" not in hover
    goto(at, "overview")  # the static matrix's hover text (cell titles) is escaped too
    matrix = overview_matrix(at)
    assert "&lt;img src=x onerror=alert(1)&gt;" in matrix and "<img" not in matrix


def test_stress_shows_delta():
    at = goto(start(), "scenarios")
    m = next(m for m in at.metric if m.label == "Expected annual loss")
    assert m.delta.startswith("+")


def test_applying_fallbacks_lowers_residual_and_shows_exit_plan():
    at = goto(start(), "fallbacks")
    assert any("Exit plan" in m.value for m in at.markdown)
    next(b for b in at.button if b.label.startswith("Apply the top recommendation")).click().run()
    assert not at.exception
    plan = at.session_state["whatif_plan"]
    assert len(plan) >= 20
    shown = at.selectbox(key="fb_deployment").value
    dep = at.session_state["inventory"].frame["deployment_id"].iat[shown]
    assert at.multiselect(key=f"fb_choose_{dep}").value == plan[dep]
    loss = next(m for m in at.metric if m.label == "Expected annual loss")
    assert loss.delta.startswith("-")
    changes = at.dataframe[1].value
    assert (changes["Score after"] < changes["Score before"]).all()


def test_download_names():
    at = start()
    # the demo's names follow ai-vendor-risk-<org>-<date>.<ext>
    goto(at, "report")
    assert any("ai-vendor-risk-example-bank-" in c.value for c in at.caption)


def test_history_save_change_answer_save_compare_reopen_delete(tmp_path, monkeypatch):
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))
    at = goto(start(), "history")
    assert any("No saved assessments" in i.value for i in at.info)
    at.text_input[0].set_value("Q3")
    next(b for b in at.button if b.label == "Save").click().run()
    goto(at, "questionnaire")
    at.radio(key="q_DEP-001_exit_plan_exists").set_value("tested").run()  # saved as given
    goto(at, "history")
    at.text_input[0].set_value("Q4")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception
    answers = at.dataframe[2].value  # saved list, changed deployments, then answer changes
    from risk_models.config.loader import load_library
    question = load_library().questions["exit_plan_exists"].text  # shown as the question, not its id
    assert list(answers["Question"]) == [question] and list(answers["After"]) == ["tested"]
    changed = at.dataframe[1].value
    assert list(changed["Deployment"]) == ["DEP-001"]
    next(s for s in at.selectbox if s.label == "Assessment").set_value(1)
    next(b for b in at.button if b.label == "Open in the dashboard").click().run()
    # what reopening replaces is shown first; nothing is replaced until the user confirms
    shown = " ".join(m.value for m in at.markdown)
    assert "Answers: 1 deployment(s) change (DEP-001)" in shown and "What-if plan:" in shown
    assert at.session_state["answers"]["DEP-001"]["exit_plan_exists"] == "tested"
    at.button(key="hist_reopen_confirm").click().run()
    assert at.session_state["answers"]["DEP-001"]["exit_plan_exists"] == "none"
    assert "Saved assessment #1" in at.session_state["source"]
    delete = next(b for b in at.button if b.label == "Delete")
    assert delete.disabled
    at.checkbox(key="hist_sure").check().run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 1 and not at.checkbox(key="hist_sure").value


def test_markdown_in_names_is_shown_as_text():
    at = goto(start(), "inventory")
    csv = ("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
           "M1,**bold** [click](http://evil.example) <script>x</script>,aoai,gpt-4o,100,critical,public\n")
    upload(at, "m.csv", csv)
    goto(at, "questionnaire")
    heading = at.subheader[0].value
    assert "\\*\\*bold\\*\\*" in heading and "\\[click\\]" in heading and "\\<script\\>" in heading


def test_missing_column_upload_can_be_fixed_in_the_app():
    at = goto(start(), "inventory")
    csv = ("deployment_id,model,annual_spend_usd,criticality,data_sensitivity\n"
           "A,gpt-4o,10,low,public\nB,claude-sonnet-4-5,20,high,internal\n")
    upload(at, "nocol.csv", csv)
    assert not at.exception
    inv = at.session_state["inventory"]
    assert len(inv.frame) == 0 and [e.column for e in inv.errors] == ["channel"]
    ver = at.session_state["editor_version"]
    at.session_state[f"rejected_editor_{ver}"] = {"edited_rows": {0: {"channel": "AOAI"}, 1: {"channel": "Bedrock"}},
                                                  "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    inv = at.session_state["inventory"]
    assert sorted(inv.frame["channel"]) == ["aws_bedrock", "azure_openai"] and not inv.errors


def test_settings_profile_regimes_drive_regulatory_outcomes():
    """The organisation profile decides whether DORA outcomes apply, whatever the data region."""
    at = goto(start(), "settings")
    before = at.session_state["profile"]
    assert "eu_dora" in before.regimes and before.name == "Example Bank plc"
    regimes = next(m for m in at.multiselect if m.label == "Regulatory regimes")
    regimes.set_value(["us_interagency_tprm"])
    next(b for b in at.button if b.label == "Save profile").click().run()
    assert not at.exception, at.exception
    assert at.session_state["profile"].regimes == ["us_interagency_tprm"]
    goto(at, "overview")
    assert not at.exception


def test_settings_assumptions_edit_changes_losses_and_refuses_bad_values():
    at = goto(start(), "settings")
    loss_before = metric(goto(at, "overview"), "Expected annual loss")
    goto(at, "settings")
    editor_key = "assumptions_editor_0"
    assert "assumptions" not in at.session_state  # configured defaults until something is applied
    # rows 3-6: downtime cost per hour by criticality; row 6 is 'critical'
    at.session_state[editor_key] = {"edited_rows": {"6": {"Value": 40000.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.label == "Apply assumptions").click().run()
    assert not at.exception, at.exception
    applied = at.session_state["assumptions"]
    assert applied.downtime_usd_per_hour.value["critical"] == 40000
    loss_after = metric(goto(at, "overview"), "Expected annual loss")
    assert loss_after != loss_before
    # pert_high below 1 is refused with a message naming the parameter; nothing changes
    goto(at, "settings")
    editor_key = f"assumptions_editor_{at.session_state['assumptions_version']}"
    at.session_state[editor_key] = {"edited_rows": {"12": {"Value": 0.5}}, "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.label == "Apply assumptions").click().run()
    assert any("Not applied" in e.value for e in at.error)
    assert at.session_state["assumptions"].pert_high.value == 3.0


def test_heatmaps_chart_tabs_draw_their_chart_when_opened():
    at = goto(start(), "heatmaps")
    assert len(at.get("plotly_chart")) == 2  # the matrix and the first tab's chart: the others wait
    for view, marker in [("Channel × dimension", "Average dimension score"), ("Concentration", "HHI"),
                         ("Loss exceedance", "probability of exceeding")]:
        at.session_state["hm_view"] = view
        at.run()
        assert not at.exception
        assert len(at.get("plotly_chart")) == 2 and marker in at.get("plotly_chart")[1].proto.spec


def test_first_visit_explains_the_tool_in_three_steps_and_can_be_hidden():
    at = start()
    assert any("Demo organisation" in i.value and "Three steps" in i.value for i in at.info)
    links = [p.proto.label for p in at.get("page_link")]
    assert {"1. Upload your inventory", "2. Answer what matters most", "3. Export the committee pack"} <= set(links)
    at.button(key="intro_dismiss").click().run()
    assert not at.exception, at.exception
    assert not any("Three steps" in i.value for i in at.info)
    assert any("Demo organisation — sample data" in c.value for c in at.caption)
    goto(at, "heatmaps")  # stays hidden on the other pages of this visit
    assert not any("Three steps" in i.value for i in at.info)
