"""Providers & contracts page (AppTest) on the demo organisation."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_app import goto, start

DEMO = ROOT / "config" / "demo"


def _frame(at: AppTest, first_column: str):
    return next(d.value for d in at.dataframe if first_column in d.value.columns)


def test_providers_page_shows_providers_contracts_reviews_and_the_register(tmp_path, monkeypatch):
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))  # no saved reviews from other tests
    at = goto(start(), "providers")
    assert at.title[0].value == "Providers & contracts"
    providers = _frame(at, "provider")
    assert "Microsoft Ireland Operations Limited" in set(providers["provider"])
    msft = providers.set_index("provider").loc["Microsoft Ireland Operations Limited"]
    assert msft["contracts"] == 2 and msft["deployments"] == 24 and msft["designated_critical"]
    assert 0.5 < providers["share_of_ai_spend"].sum() < 1  # self-hosted spend is no provider's
    openai = providers.set_index("provider").loc["OpenAI Ireland Limited"]
    assert openai["fourth_party_deployments"] > 0  # the models behind Azure OpenAI
    contracts = _frame(at, "contract_ref")
    assert contracts.set_index("contract_ref").at["COH-2023-002", "status"] == "Ended"
    assert any("link to no contract" in w.value for w in at.warning)
    reviews = _frame(at, "last_reviewed")
    assert "DEP-060" in set(reviews["deployment_id"])
    # the shipped demo is incomplete: the register lists what the firm has not said, and files none of the tool's
    assert any("Validation report" in w.value and "contradictions" in w.value for w in at.warning)
    findings = _frame(at, "Message")
    assert any(k == "contradiction" and "DEP-001" in m for k, m in zip(findings["Problem"], findings["Message"],
                                                                       strict=True))
    assert any("exit_plan_exists" in m for m in findings["Message"])
    assert any(c.startswith("Suggested: ") for c in _frame(at, "Filed: Existence of an exit plan (c0080)").columns)
    assert {"draft_providers", "draft_contracts"} <= {b.key for b in at.get("download_button")}
    assert not at.exception


def test_uploading_providers_asks_before_replacing_and_reports_a_bad_lei():
    at = goto(start(), "providers")
    bad = (DEMO / "providers.csv").read_text().replace("DEMO00COHEREINC00093", "DEMO00COHEREINC00094")
    at.file_uploader(key="providers_upload").upload("providers.csv", bad.encode(), "text/csv").run()
    at.file_uploader(key="contracts_upload").upload("contracts.csv", (DEMO / "contracts.csv").read_bytes(),
                                                    "text/csv").run()
    assert any("Replaces 13 providers and 8 contracts" in i.value for i in at.info)
    at.button(key="providers_confirm").click().run()
    assert not at.exception
    errors = _frame(at, "Message")
    assert "check digits" in " ".join(errors["Message"]) and 15 in set(errors["Line"])
    assert "Cohere Inc." not in set(_frame(at, "provider")["provider"])


def test_editing_in_the_app_starts_from_the_loaded_files_and_marks_refused_cells():
    at = goto(start(), "providers")
    at.button(key="draft_edit").click().run()
    assert not at.exception
    # the demo's files are loaded: they come back as they are, and load clean (no refused cell)
    assert not any("refused" in e.value for e in at.error)
    assert any("Using these replaces 13 providers and 8 contracts with 13 providers" in i.value for i in at.info)
    # a wrong LEI check digit is refused and its cell marked
    files = at.session_state["edit_frames"]
    providers = files[0].copy()
    providers.loc[providers["provider_id"] == "COHERE", "lei"] = "DEMO00COHEREINC00094"
    at.session_state["edit_frames"] = (providers, files[1])
    at.run()
    assert any("2 cell(s) refused" in e.value for e in at.error)  # the LEI, and the contract of that provider
    errors = _frame(at, "Problem").set_index("Column")
    assert "check digits" in errors.at["LEI", "Problem"] and errors.at["LEI", "Key"] == "COHERE"
    assert errors.at["Provider ID", "Key"] == "COH-2023-002"
    # the marked copy of the edited providers is shown (its red cells come from refused_cells)
    assert sum("provider_id" in d.value.columns and "lei" in d.value.columns for d in at.dataframe
               if hasattr(d.value, "columns")) >= 1
    assert not at.exception
