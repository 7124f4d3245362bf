"""Escaping user text wherever it is shown — Markdown (exports and Streamlit elements that render Markdown),
HTML (plotly titles, labels and hover text; st.html), links and the terminal. Every user- or pack-supplied
string goes through one of these before it is shown."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

WORD_JOINER = "\u2060"  # invisible; breaks a pattern a renderer would otherwise turn into a link or an icon
_AUTOLINK = re.compile(r"(?i)(?<![\w])(https?|ftp|mailto)(:)|(?<![\w])(www)(?=\.)|(@)(?=[-\w])|(:)(?=[\w+-]+:)")


def _no_autolinks(text: str) -> str:
    """Bare URLs, `www.` names, e-mail addresses and `:shortcode:` icons stay text: Streamlit's Markdown
    (GFM) links them from the text itself, after backslash escapes are resolved, so escaping cannot stop it."""
    return _AUTOLINK.sub(lambda m: m.group(0) + WORD_JOINER, text)


def md_escape(text: object) -> str:
    """User text shown as written: no links (bare URLs included), emphasis, code, tables, headings, icons or
    HTML; one line."""
    return _no_autolinks(re.sub(r"([\\`*_\[\]<>#|~$])", r"\\\1", " ".join(str(text).splitlines())))


def md_file_escape(text: object) -> str:
    """User text for a Markdown *file* (a download, not a Streamlit element): `$` and underscores
    inside words are literal in CommonMark, so they stay as written (`azure_openai`, `$15,500`);
    everything that could become a link, emphasis, code, table or HTML is still escaped."""
    s = re.sub(r"([\\`*\[\]<>#|~])", r"\\\1", " ".join(str(text).splitlines()))
    return re.sub(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])", r"\\_", s)


def html_text(text: object) -> str:
    """User text inside HTML (plotly titles, axis labels and hover text render a subset of HTML; st.html)."""
    return html.escape(str(text), quote=True)


_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def safe_url(url: object) -> str | None:
    """`url` when it is an http(s) URL with a plain host name and no user name (`https://bank@evil.example`
    shows one site and opens another), percent-encoded so it cannot end a Markdown link or an HTML attribute
    early; None otherwise (shown as text, not opened)."""
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or not _HOST.match(host):
        return None
    if "@" in parts.netloc or any(c.isspace() for c in str(url).strip()):
        return None
    rest = quote(parts.path, safe="/%-._~!$&*+,;=:@") or "/"
    query = f"?{quote(parts.query, safe='/%-._~!$&*+,;=:@?')}" if parts.query else ""
    fragment = f"#{quote(parts.fragment, safe='/%-._~!$&*+,;=:@?')}" if parts.fragment else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{rest}{query}{fragment}"


def url_domain(url: object) -> str:
    """The host a URL opens (shown next to a link so the reader sees where it goes)."""
    try:
        return urlsplit(str(url).strip()).hostname or ""
    except ValueError:
        return ""


def md_source_link(title: object, url: object) -> str:
    """A source for Markdown: its title as text and a link whose text is the domain it opens; a URL that
    is not a plain http(s) link is not linked."""
    link = safe_url(url)
    if link is None:
        return f"{md_escape(title)} (address not linked: not a plain http(s) URL)"
    return f"{md_escape(title)} ([{md_escape(url_domain(link))}]({link}))"


def terminal_text(text: object, keep_newlines: bool = False) -> str:
    """User text for the terminal: control characters (escape sequences) shown as '?'; line breaks kept
    only where asked (multi-line error messages)."""
    pattern = r"[\x00-\x09\x0b-\x1f\x7f-\x9f]" if keep_newlines else r"[\x00-\x1f\x7f-\x9f]"
    return re.sub(pattern, "?", str(text))
