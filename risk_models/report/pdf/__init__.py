"""The PDF executive summary (reportlab, drawn natively: no browser).

Sections: title page (organisation, logo, prepared by), a one-page executive summary (headline
figures, the matrix with its legend, the three decisions asked of the committee, changes since the
comparison baseline), concentration, high/critical deployments, the what-if plan when one is
applied, scenario assumptions with a numbered references list, exit-plan summaries for critical
deployments, appendix of all deployments (header repeated on every page) and rejected rows,
methodology, and the sensitivity tornado when the report has one. Every piece of user text goes through `fonts.markup` (escaped, shaped), so it can
never become markup. Table columns are sized from the text they hold (reportlab's stringWidth), so
no word or amount is broken across lines unless a single word is wider than the page."""

from __future__ import annotations

import base64
import datetime as dt
import io

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import CondPageBreak, Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from risk_models.config.labels import report_labels
from risk_models.config.palette import usd
from risk_models.config.profile import logo_kind
from risk_models.report.changes import review_text
from risk_models.report.fonts import fonts, markup
from risk_models.report.options import with_option_details
from risk_models.report.pdf.drawings import concentration_drawing, fit_text, shortened_labels
from risk_models.report.pdf.layout import CELL_MAX, PAPER, make_styles
from risk_models.report.pdf.sections import (
    exec_page,
    probability_banner,
    section_appendix,
    section_cases,
    section_comparison,
    section_ctpp,
    section_exit_plans,
    section_high,
    section_methodology,
    section_plan,
    section_reviews,
    section_scenarios,
)
from risk_models.report.pdf.sensitivity import section_sensitivity
from risk_models.scenarios.pack import report_pack_age

__all__ = ["CELL_MAX", "probability_banner", "render_pdf"]


def _logo(data: bytes, max_w: float, max_h: float) -> tuple[Image | None, str | None]:
    """The title-page logo, or None and why (a saved profile may hold a logo from before the checks:
    it is checked again, never decoded unbounded, and a refused one is named on the page, not dropped)."""
    try:
        logo_kind(data)
        iw, ih = ImageReader(io.BytesIO(data)).getSize()
    except Exception as exc:  # a damaged image must not cost the user the report
        return None, str(exc)
    scale = min(max_w / iw, max_h / ih)
    return Image(io.BytesIO(data), width=iw * scale, height=ih * scale), None


HEADING_ROOM = 0.15  # a heading needs this share of the page below it, or it starts the next page


def headings_kept_with_content(story: list, page_height: float) -> list:
    """A conditional page break before every heading: a heading in the last 15 % of a page would stand
    alone at its foot when the block after it (a table) does not fit there (keepWithNext keeps it only
    with the next paragraph)."""
    out: list = []
    for item in story:
        if isinstance(item, Paragraph) and item.style.name in ("h1", "h2"):
            out.append(CondPageBreak(page_height * HEADING_ROOM))
        out.append(item)
    return out


def render_pdf(rep: dict, paper: str = "a4", comparison: dict | None = None) -> bytes:
    """The executive summary of a JSON report as PDF bytes; `comparison` = a storage diff to include
    (see risk_models.report.changes for which saved assessment); `rep["plan"]` = a plan_record."""
    rep = with_option_details(rep)
    styles = make_styles()
    pagesize = PAPER[paper]
    buf = io.BytesIO()
    generated = rep.get("generated_at") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    profile = rep.get("organisation_profile") or {}
    org = rep.get("organisation") or profile.get("name") or "Organisation"
    doc = SimpleDocTemplate(buf, pagesize=pagesize, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"AI vendor-risk assessment — {org}",
                            author=profile.get("prepared_by") or "ai-vendor-risk",
                            subject="AI vendor-risk executive summary")
    width = pagesize[0] - 30 * mm
    f = fonts()
    footer_org = fit_text(org, f.body, 7, width * 0.4)

    def footer(canvas, d) -> None:
        canvas.saveState()
        canvas.setFont(f.body, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(15 * mm, 9 * mm, f"AI vendor-risk assessment · generated {generated}")
        canvas.drawRightString(pagesize[0] - 15 * mm, 9 * mm, f"{footer_org} · Page {d.page}")
        canvas.restoreState()

    deps = rep["deployments"]
    sim = rep["simulation"]
    story: list = [Spacer(1, 25 * mm)]
    logo, logo_problem = _logo(base64.b64decode(profile["logo"]), 60 * mm, 25 * mm) if profile.get("logo") \
        else (None, None)
    story += [logo, Spacer(1, 8 * mm)] if logo else [Spacer(1, 20 * mm)]
    if logo_problem:
        story += [Paragraph(markup(f"Logo not shown: {logo_problem}"), styles["small"]), Spacer(1, 4 * mm)]
    story += [Paragraph("AI vendor-risk assessment", styles["title"]), Spacer(1, 6 * mm),
              Paragraph(markup(org), styles["subtitle"]), Spacer(1, 14 * mm)]
    pack_name, age = report_pack_age(rep)
    reporting = profile.get("reporting_date") or generated[:10]
    facts = [["Reporting date", str(reporting)]]
    if profile.get("prepared_by"):
        facts.append(["Prepared by", profile["prepared_by"]])
    if rep.get("review"):
        facts.append(["Review status", review_text(rep["review"])])
    facts += [["Scenario library", f"{pack_name}, as of {rep['scenario_library']['as_of']} ({age.text()})"],
              ["Horizon", f"{rep['scenario_library']['horizon_months']} months"],
              ["Deployments assessed", f"{len(deps):,} (rejected rows: {len(rep['inventory']['rejected']):,})"],
              ["Expected annual loss / VaR 95", f"{usd(sim['expected_annual_loss_usd'])} / {usd(sim['var95_usd'])}"],
              ["Inputs hash (SHA-256)", rep.get("inputs_hash", "")[:32] + "…"], ["Generated", generated]]
    if rep.get("plan"):
        facts.append(["What-if plan", f"applied ({len(rep['plan']['actions'])} action(s)): see the Plan section"])
    t = Table([[Paragraph(markup(k), styles["body"]), Paragraph(markup(v), styles["body"])] for k, v in facts],
              colWidths=[width * .4, width * .5])
    t.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [t] + ([Spacer(1, 4 * mm), Paragraph(markup("Warning: " + age.warning()), styles["body"])]
                    if age.warning() else [])
    story += [PageBreak()] + exec_page(rep, comparison, styles, width)
    story += [PageBreak(), Paragraph("Concentration", styles["h1"]),
              Paragraph("Share of annual spend per channel, cloud provider and model vendor; the bar colour is the "
                        "Herfindahl–Hirschman band (2023 US Merger Guidelines: > 1,800 highly concentrated, "
                        "1,000–1,800 moderately, < 1,000 unconcentrated).", styles["small"]),
              concentration_drawing(rep["concentration"], width, report_labels(rep))]
    shortened = shortened_labels(rep["concentration"], width, report_labels(rep))
    if shortened:
        story.append(Paragraph(markup("Names shortened in the chart, in full: " + "; ".join(shortened) + "."),
                               styles["small"]))
    if comparison:
        story += section_comparison(comparison, styles, width)
    story += section_high(rep, styles, width)
    story += section_cases(rep, styles, width)
    if rep.get("plan"):
        story += [PageBreak()] + section_plan(rep["plan"], rep, styles, width)
    story += section_scenarios(rep, styles, width)
    story += section_exit_plans(rep, styles)
    story += section_reviews(rep, styles, width)  # empty unless the caller attached reviews
    story += section_ctpp(rep, styles, width)  # empty unless the caller attached providers and contracts
    story += [PageBreak()] + section_appendix(rep, styles, width)
    story += section_methodology(rep, styles, width)
    story += section_sensitivity(rep, styles, width)  # only with assess --sensitivity
    doc.build(headings_kept_with_content(story, pagesize[1]), onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
