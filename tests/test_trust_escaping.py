"""Issue 27 §5: text is text everywhere in the app — pack source URLs, deployment ids in chart titles, bare
URLs in names."""

from __future__ import annotations

import re

import pandas as pd
import yaml
from streamlit.testing.v1 import AppTest

from dashboard.components import charts
from risk_models.io.escape import WORD_JOINER, html_text, md_escape, md_source_link, safe_url
from tests.app_upload import upload_inventory
from tests.test_app import APP, goto, start
from tests.test_library import _shipped_raw

HOSTILE_URL = ("https://docs.example.org/a) ![b](https://evil.example/beacon.png) "
               "[log in again](https://evil.example/login")
HOSTILE_ID = '<a href="https://evil.example/x">click</a>'


def _links(markdown: str) -> list[str]:
    """The targets of the Markdown links and images in `markdown` (unescaped brackets only)."""
    return re.findall(r"(?<!\\)\]\(([^)\s]*)", markdown)


def test_source_links_open_only_their_own_http_address_and_show_its_domain():
    assert _links(md_source_link("t", HOSTILE_URL)) == []  # spaces: not one address, not linked at all
    glued = "https://docs.example.org/a)![b](https://evil.example/beacon.png)[log](https://evil.example/login"
    md = md_source_link("**Reuters** report", glued)
    assert md.startswith(r"\*\*Reuters\*\* report ([docs.example.org](https://docs.example.org/a%29")
    assert _links(md) == [safe_url(glued)]  # one link: no beacon image, no second link
    assert "![" not in md.replace(r"!\[", "")
    for bad in ("javascript:alert(1)", "data:text/html,x", "https://bank.example@evil.example/",
                "https://evil example/", "ftp://x.example/", "https:///nohost"):
        assert safe_url(bad) is None, bad
        assert _links(md_source_link("t", bad)) == []
    assert safe_url("https://learn.microsoft.com/x(y)") == "https://learn.microsoft.com/x%28y%29"


def test_bare_urls_addresses_and_icons_in_names_are_not_linked():
    for text in ("see https://evil.example/login", "www.evil.example", "mail boss@evil.example",
                 "an icon :material/warning: and :smile:"):
        shown = md_escape(text)
        assert WORD_JOINER in shown
        assert shown.replace(WORD_JOINER, "").replace("\\", "") == text  # reads as written
    for pattern, shown in ((r"https?:(?!\u2060)", md_escape("https://x.example")),
                           (r"www(?!\u2060)\.", md_escape("www.x.example")),
                           (r"@(?!\u2060)", md_escape("a@x.example"))):
        assert not re.search(pattern, shown), shown


def test_chart_titles_and_labels_are_text():
    fig = charts.loss_breakdown({HOSTILE_ID: 10.0}, f"Expected annual loss of {HOSTILE_ID}: $10")
    assert fig.layout.title.text == f"Expected annual loss of {html_text(HOSTILE_ID)}: $10"
    assert "<a" not in fig.layout.title.text and "<a" not in fig.data[0].y[0]
    heat = charts.matrix_heatmap(pd.DataFrame([[1.0]], index=[HOSTILE_ID], columns=["x"]), HOSTILE_ID, "score")
    assert "<a" not in heat.layout.title.text and "<a" not in heat.data[0].y[0]
    table = pd.DataFrame({"deployment_id": ["d"], "likelihood": [1], "impact": [1], "score": [1.0], "rating": ["low"]})
    assert "<a" not in charts.risk_matrix(table, pd.Series(["n"]), {"medium": 25, "high": 50, "critical": 75},
                                          HOSTILE_ID).layout.title.text


def test_a_hostile_deployment_id_is_not_a_live_link_in_the_fallbacks_chart():
    at = goto(start(), "inventory")
    csv = ("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
           f"\"{HOSTILE_ID.replace(chr(34), chr(34) * 2)}\",www.evil.example,openai,gpt-4o,100,high,public\n")
    upload_inventory(at, "inv.csv", csv.encode())
    goto(at, "fallbacks")
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    titled = [s for s in specs if "Expected annual loss of" in s]
    assert titled and all("&lt;a href=" in s and "<a href=" not in s for s in titled)


def test_a_packs_source_url_cannot_inject_markdown_on_the_scenarios_page():
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("views/scenarios.py").run()
    data = _shipped_raw()
    data.update(id="hostile", version="1")
    glued = "https://docs.example.org/a)![b](https://evil.example/beacon.png)[log](https://evil.example/login"
    data["events"][0]["sources"][0]["url"] = glued
    data["events"][1]["sources"][0]["url"] = HOSTILE_URL
    data["events"][0]["sources"][0]["title"] = "**bold** see https://evil.example"
    at.file_uploader(key="pack_upload_0").upload("p.yaml", yaml.safe_dump(data).encode(), "application/yaml").run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.key == "pack_confirm").click().run()
    assert not at.exception, at.exception
    sources = [m.value for m in at.markdown if "Sources:" in m.value]
    assert sources
    for md in sources:
        for target in _links(md):
            assert target.startswith("https://") and " " not in target
            assert not target.startswith("https://evil.example")
    first = next(md for md in sources if "bold" in md)
    assert r"\*\*bold\*\*" in first and "https:" + WORD_JOINER + "//evil.example" in first
    assert "docs.example.org/a%29" in first
    assert "address not linked" in next(md for md in sources if md is not first and "not linked" in md)
    table = next(d.value for d in at.dataframe if "source" in d.value.columns)
    assert safe_url(glued) in list(table["source"])
    assert not {glued, HOSTILE_URL} & set(table["source"])
