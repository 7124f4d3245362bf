"""The YAML libraries load, are internally consistent, and broken copies give precise errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from risk_models.config.domain import DIMENSIONS
from risk_models.config.loader import ConfigError, load_library

CONFIG = Path(__file__).resolve().parent.parent / "config"


def test_library_loads_with_required_content(lib):
    assert len(lib.questionnaire.questions) >= 12
    assert len(lib.fallbacks.options) >= 10
    assert {"azure_openai", "openai_api", "aws_bedrock", "google_vertex", "anthropic_api", "self_hosted", "other"} \
        <= set(lib.channels.channels)
    events = {e.id for e in lib.scenarios.events}
    assert {"musk_v_openai_appeal", "microsoft_openai_contract", "openai_on_aws", "competition_action"} <= events


def test_event_probabilities_sum_to_at_most_one(lib):
    for ev in lib.scenarios.events:
        assert sum(o.probability for o in ev.outcomes) <= 1.0 + 1e-9, ev.id


def test_every_source_is_dated_and_has_a_url(lib):
    sources = [s for e in lib.scenarios.events for s in e.sources] + [o.source for o in lib.fallbacks.options]
    assert sources
    for s in sources:
        assert s.date.year >= 2019 and s.url.startswith("http")


def test_impact_rules_name_known_channels_and_vendors(lib):
    for ev in lib.scenarios.events:
        for out in ev.outcomes:
            for rule in out.impacts:
                assert set(rule.match.channels) <= set(lib.channels.channels)
                assert set(rule.match.vendors) <= set(lib.models.vendors)
                assert set(rule.severity) <= set(DIMENSIONS)


def test_openai_on_aws_is_modelled_as_an_exit_path(lib):
    ev = next(e for e in lib.scenarios.events if e.id == "openai_on_aws")
    favourable = [o for o in ev.outcomes if any(v < 0 for r in o.impacts for v in r.severity.values())]
    assert favourable, "OpenAI on AWS must include a favourable outcome"


def test_questions_map_to_dora_fields(lib):
    fields = {q.dora_field for q in lib.questionnaire.questions if q.dora_field}
    assert {"B_07.01.0050", "B_07.01.0080", "B_07.01.0110", "B_06.01.0080", "B_06.01.0090"} <= fields


def _broken_copy(tmp_path: Path, filename: str, mutate) -> Path:
    d = tmp_path / "config"
    shutil.copytree(CONFIG, d)
    data = yaml.safe_load((d / filename).read_text())
    mutate(data)
    (d / filename).write_text(yaml.safe_dump(data, allow_unicode=True))
    return d


def test_probabilities_over_one_name_file_and_key(tmp_path):
    def mutate(data):
        data["events"][0]["outcomes"][0]["probability"] = 0.95
    d = _broken_copy(tmp_path, "scenarios.yaml", mutate)
    with pytest.raises(ConfigError) as exc:
        load_library(d)
    msg = str(exc.value)
    assert "scenarios.yaml" in msg and "events[0]" in msg and "sum to" in msg


def test_unknown_channel_in_rule_is_named(tmp_path):
    def mutate(data):
        data["events"][1]["outcomes"][1]["impacts"][0]["match"]["channels"] = ["azure_openia"]
    d = _broken_copy(tmp_path, "scenarios.yaml", mutate)
    with pytest.raises(ConfigError, match=r"events\[1\]\.outcomes\[1\]\.impacts\[0\]\.match: unknown channel 'azure_openia'"):
        load_library(d)


def test_source_without_date_is_rejected(tmp_path):
    def mutate(data):
        del data["events"][0]["sources"][0]["date"]
    d = _broken_copy(tmp_path, "scenarios.yaml", mutate)
    with pytest.raises(ConfigError, match=r"scenarios.yaml: events\[0\]\.sources\[0\]\.date: Field required"):
        load_library(d)


def test_non_conservative_default_is_rejected(tmp_path):
    def mutate(data):
        q = next(q for q in data["questions"] if q["id"] == "price_protection")
        q["default"] = "fixed_price"
    d = _broken_copy(tmp_path, "questionnaire.yaml", mutate)
    with pytest.raises(ConfigError, match=r"questionnaire.yaml: questions\[\d+\] \(price_protection\)\.default: .*conservative"):
        load_library(d)


def test_fallback_with_unknown_vendor_is_rejected(tmp_path):
    def mutate(data):
        data["options"][0]["target_vendor"] = "openia"
    d = _broken_copy(tmp_path, "fallbacks.yaml", mutate)
    with pytest.raises(ConfigError, match=r"fallbacks.yaml: options\[0\] \(openai_api_direct\): unknown vendor 'openia'"):
        load_library(d)


def test_invalid_yaml_and_missing_file(tmp_path):
    d = _broken_copy(tmp_path, "models.yaml", lambda data: None)
    (d / "models.yaml").write_text("rules: [unclosed")
    with pytest.raises(ConfigError, match="models.yaml: not valid YAML"):
        load_library(d)
    (d / "models.yaml").unlink()
    with pytest.raises(ConfigError, match="models.yaml: file not found"):
        load_library(d)
