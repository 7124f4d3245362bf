"""Plotly figures (presentation only; they draw numbers computed by risk_models). Aggregation
happens before plotting, so 20,000 deployments still draw 25 heatmap cells, not 20,000 points.
Colours: a luminance-ordered orange-red scale, readable with colour-vision deficiencies."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from risk_models.config.labels import human, level_text
from risk_models.config.palette import BAND_COLOURS, RATING_COLOURS, ink
from risk_models.engine.assessment import heatmap_cells
from risk_models.io.escape import html_text

SCALE = "OrRd"
HOVER_NAMES = 5  # a short hover box: the full list is the table next to the matrix
HOVER_NAME_CHARS = 40
LEVELS = [1, 2, 3, 4, 5]


def _esc(text: object) -> str:
    # plotly renders a subset of HTML (links included) in titles, tick labels and hover text: user text stays text
    return html_text(text)


def _matrix_cells(table: pd.DataFrame, names: pd.Series, bounds: dict[str, float]) -> list[dict]:
    """The 25 cells of the 5x5 matrix (likelihood, impact, count, rating colour, the first names), from
    the engine's cells (the ones the reports draw), so the app's matrices and the PDF show the same figures."""
    name_of = dict(zip(table["deployment_id"].astype(str), names.astype(str), strict=True))
    cells = []
    # likelihood 1..5 upwards: the order the plotly trace's points (and a click's point index) follow
    for c in sorted(heatmap_cells(table, bounds), key=lambda c: (c["likelihood"], c["impact"])):
        shown = [x if len(x) <= HOVER_NAME_CHARS else x[:HOVER_NAME_CHARS - 1] + "…"
                 for x in (name_of[str(d)] for d in c["deployment_ids"][:HOVER_NAMES])]
        cells.append({"likelihood": c["likelihood"], "impact": c["impact"], "n": c["count"], "names": shown,
                      "colour": RATING_COLOURS[c["rating"]]})
    return cells


def _hover_lines(cell: dict) -> list[str]:
    """Hover text as lines of plain text (callers escape them for their medium)."""
    n = cell["n"]
    more = [f"… and {n - HOVER_NAMES} more"] if n > HOVER_NAMES else []
    return [f"Likelihood {level_text('likelihood', cell['likelihood'])} × impact {level_text('impact', cell['impact'])}: "
            f"{n} deployment(s)", *cell["names"], *more]


def risk_matrix(table: pd.DataFrame, names: pd.Series, bounds: dict[str, float], title: str = "") -> go.Figure:
    """5x5 likelihood x impact with counts; hover lists deployment names. Drawn as square
    markers so a click selects a cell."""
    cells = _matrix_cells(table, names, bounds)
    xs = [c["impact"] for c in cells]
    ys = [c["likelihood"] for c in cells]
    colours = [c["colour"] for c in cells]
    text = [str(c["n"]) if c["n"] else "" for c in cells]
    hover = [_esc(lines[0]) + "<br>" + "<br>".join(_esc(x) for x in lines[1:]) for lines in map(_hover_lines, cells)]
    # cells are shapes in data coordinates (they scale with the chart at any window width); the
    # invisible markers on top carry the counts, the hover text and the click that selects a cell
    shapes = [{"type": "rect", "layer": "below", "x0": x - 0.48, "x1": x + 0.48, "y0": y - 0.48, "y1": y + 0.48,
               "fillcolor": c, "line": {"width": 0}} for x, y, c in zip(xs, ys, colours, strict=True)]
    fig = go.Figure(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=text, hovertext=hover, hoverinfo="text",
        marker={"symbol": "square", "size": 40, "color": colours, "opacity": 0},
        textfont={"size": 18, "color": [ink(c) for c in colours]},
        showlegend=False, hoverlabel={"font": {"size": 11}, "align": "left"},
    ))
    for rating, colour in RATING_COLOURS.items():  # legend: which rating each colour stands for
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=rating, hoverinfo="skip",
                                 marker={"symbol": "square", "size": 14, "color": colour}))
    fig.update_layout(
        title=_esc(title), height=480, margin={"l": 20, "r": 20, "t": 40 if title else 10, "b": 50}, showlegend=True,
        legend={"orientation": "h", "x": 0, "y": -0.16, "title": {"text": "Rating"}, "itemclick": False,
                "itemdoubleclick": False},
        hovermode="closest", hoverdistance=20,
        # square cells: the shorter side decides, the axes hug the matrix ("domain", not a longer range)
        # each level with its meaning ("4 · likely"), on two lines under the cells so five fit side by side
        xaxis={"title": "Impact", "tickvals": LEVELS, "ticktext": [level_text("impact", v).replace(" · ", "<br>")
                                                                  for v in LEVELS], "tickangle": 0,
               "range": [0.5, 5.5], "showgrid": False, "zeroline": False, "constrain": "domain", "automargin": True},
        # "5 · almost<br>certain": a narrow label column leaves the matrix its width in a narrow window
        yaxis={"title": "Likelihood", "tickvals": LEVELS,
               "ticktext": [level_text("likelihood", v).replace("almost ", "almost<br>") for v in LEVELS],
               "range": [0.5, 5.5], "showgrid": False, "zeroline": False, "scaleanchor": "x", "constrain": "domain",
               "automargin": True},
        # transparent: the matrix sits on the theme's background (light or dark)
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", shapes=shapes,
    )
    return fig


def risk_matrix_html(table: pd.DataFrame, names: pd.Series, bounds: dict[str, float]) -> str:
    """The same 5x5 matrix as risk_matrix, as plain HTML for st.html: the Overview draws at once
    instead of waiting for the browser to load plotly.js (4.7 MB of JavaScript, 2-4 s of CPU on
    this machine). Counts, colours, legend and hover text (the cell's title) match risk_matrix; no
    click-to-select (the Heatmaps page has it). Transparent background, labels in the theme's colour."""
    cells = {(c["likelihood"], c["impact"]): c for c in _matrix_cells(table, names, bounds)}
    grid = []
    for lik in range(5, 0, -1):  # likelihood 5 on top, as on the plotly matrix
        n, words = level_text("likelihood", lik).split(" · ")
        grid.append(f'<div style="display:flex;align-items:center;justify-content:flex-end;padding-right:6px;'
                    f'text-align:right;line-height:1.1;font-size:12px">{n}&nbsp;·&nbsp;{words}</div>')
        for imp in range(1, 6):
            c = cells[(lik, imp)]
            title = html_text("\n".join(_hover_lines(c)))
            grid.append(f'<div class="risk-matrix-cell" data-cell="{lik}-{imp}" data-count="{c["n"]}" title="{title}" '
                        f'style="background:{c["colour"]};color:{ink(c["colour"])};aspect-ratio:1;display:flex;'
                        f'align-items:center;justify-content:center;font-size:18px;border-radius:2px">'
                        f'{c["n"] or ""}</div>')
    grid.append("<div></div>")
    grid += [f'<div style="text-align:center">{imp}</div>' for imp in range(1, 6)]
    # the impact levels' words in the axis title, which wraps: under cells of a 1024-px window's half column
    # "negligible" would not fit
    impact = " · ".join(level_text("impact", imp).replace(" · ", "&nbsp;") for imp in range(1, 6))
    legend = "".join(f'<span style="display:inline-flex;align-items:center;margin-right:12px">'
                     f'<span style="width:14px;height:14px;background:{colour};display:inline-block;margin-right:4px">'
                     f'</span>{rating}</span>' for rating, colour in RATING_COLOURS.items())
    return ('<div class="risk-matrix" style="max-width:520px;font-size:14px">'
            '<div style="display:flex;align-items:center">'
            '<div style="writing-mode:vertical-rl;transform:rotate(180deg);text-align:center">Likelihood</div>'
            '<div style="flex:1;display:grid;grid-template-columns:minmax(4em,max-content) repeat(5,minmax(0,1fr));gap:4px">'
            + "".join(grid) + '</div></div>'
            f'<div style="text-align:center;margin:4px 0 8px 4em">Impact: {impact}</div>'
            f'<div class="risk-matrix-legend">Rating: {legend}</div></div>')


def preload_figure() -> go.Figure:
    """An empty figure the Overview draws hidden, to have the browser load plotly.js early."""
    return go.Figure(layout={"height": 10, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}})


def matrix_heatmap(matrix: pd.DataFrame, title: str, value_label: str, fmt: str = ".1f",
                   row_names: list[str] | None = None) -> go.Figure:
    """A heatmap of `matrix`; `row_names`: the rows' full names for the hover when the axis shows them cut."""
    full = [_esc(n) for n in (row_names or matrix.index)]
    fig = go.Figure(go.Heatmap(
        z=matrix.to_numpy(), x=[_esc(c) for c in matrix.columns], y=[_esc(i) for i in matrix.index],
        customdata=[[name] * matrix.shape[1] for name in full],
        colorscale=SCALE, colorbar={"title": value_label}, texttemplate=f"%{{z:{fmt}}}",
        hovertemplate=f"%{{customdata}} · %{{x}}<br>{value_label}: %{{z:{fmt}}}<extra></extra>",
    ))
    fig.update_layout(title=_esc(title), height=max(320, 60 + 34 * len(matrix.index)), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis={"tickangle": -30})
    return fig


def concentration_bars(conc: dict, weight: str = "spend", labels: dict | None = None) -> go.Figure:
    """Shares per key for each axis (human names), titled with HHI and band."""
    from plotly.subplots import make_subplots

    axes = list(conc)
    titles = [f"{human('axis', a)}<br>HHI {conc[a][weight]['hhi']:,.0f} ({conc[a][weight]['band']})" for a in axes]
    fig = make_subplots(rows=1, cols=len(axes), subplot_titles=titles, horizontal_spacing=0.12)
    for i, a in enumerate(axes, start=1):
        shares = pd.Series(conc[a][weight]["shares"]).sort_values()
        fig.add_trace(go.Bar(x=shares.to_numpy(), y=[_esc(human(a, k, labels)) for k in shares.index], orientation="h",
                             marker_color=BAND_COLOURS[conc[a][weight]["band"]],
                             hovertemplate="%{y}: %{x:.1f}%<extra></extra>"), row=1, col=i)
        fig.update_xaxes(title_text="share %", range=[0, 100], row=1, col=i)
    fig.update_layout(height=360, showlegend=False, margin={"l": 10, "r": 10, "t": 70, "b": 10})
    return fig


def loss_exceedance(lec: list[dict], marks: dict[str, float], compare: list[dict] | None = None) -> go.Figure:
    fig = go.Figure()
    if compare is not None:
        fig.add_trace(go.Scatter(x=[p["loss_usd"] for p in compare], y=[p["probability"] for p in compare],
                                 name="before", line={"dash": "dot", "color": "#888"}))
    fig.add_trace(go.Scatter(x=[p["loss_usd"] for p in lec], y=[p["probability"] for p in lec],
                             name="current" if compare is None else "after", line={"color": "#d7301f", "width": 3},
                             hovertemplate="P(annual loss > $%{x:,.0f}) = %{y:.1%}<extra></extra>"))
    for label, x in marks.items():
        fig.add_vline(x=x, line_dash="dash", line_color="#555", annotation_text=label)
    fig.update_layout(height=360, xaxis_title="annual loss (USD)", yaxis_title="probability of exceeding",
                      yaxis_tickformat=".0%", margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def loss_breakdown(parts: dict[str, float], title: str) -> go.Figure:
    """One deployment's expected annual loss by component (horizontal bars, largest on top)."""
    items = sorted(parts.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[_esc(k) for k, _ in items], orientation="h",
                           marker_color="#d7301f", text=[f"${v:,.0f}" for _, v in items], textposition="auto",
                           hovertemplate="%{y}: $%{x:,.0f} a year<extra></extra>"))
    fig.update_layout(title=_esc(title), height=230, xaxis_title="expected annual loss (USD)", xaxis_tickformat="$,.0f",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
