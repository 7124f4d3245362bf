"""Export kind -> bytes, the one mapping the CLI and the app share. Each renderer is imported only
when asked for: reportlab and openpyxl are slow to import, and most commands and pages need neither."""

from __future__ import annotations


def render_export(kind: str, rep: dict, paper: str = "a4", comparison: dict | None = None) -> bytes:
    """The report `rep` as `kind` (pdf, xlsx, csv, csv-ids or md); `paper` and `comparison` are for the PDF. The JSON
    report has one writer for every front end: report.json_report.write_report / json_bytes."""
    if kind == "pdf":
        from risk_models.report.pdf import render_pdf
        return render_pdf(rep, paper, comparison)
    if kind == "xlsx":
        from risk_models.report.xlsx import render_xlsx
        return render_xlsx(rep)
    if kind == "md":
        from risk_models.report.markdown import render_markdown
        return render_markdown(rep).encode("utf-8")
    if kind in ("csv", "csv-ids"):  # csv: for people (labels); csv-ids: the machine form (ids, raw values)
        from risk_models.report.tabular import deployments_csv
        return deployments_csv(rep, ids=kind == "csv-ids")
    raise ValueError(f"unknown export kind {kind!r}")
