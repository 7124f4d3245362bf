"""Fonts and text shaping for the PDF: DejaVu Sans (Latin, Greek, Cyrillic, Arabic letters) for
the body, WenQuanYi Zen Hei (TrueType, embeddable) wrapped around CJK runs, Symbola around emoji, Arabic reshaped and put
in visual order (reportlab does neither). Fonts are found at run time in the Debian locations; when
missing we fall back to Helvetica and say so in the PDF."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from arabic_reshaper import reshape
from bidi import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
# Monochrome TrueType emoji (Debian fonts-symbola); Noto Color Emoji is CBDT bitmaps reportlab cannot embed.
SYMBOLA = Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf")
EMOJI_RUN = re.compile("([\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\U000E0020-\U000E007F]+)")
EMOJI_FALLBACK = "[emoji]"
CJK_RUN = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+)")
ARABIC_RUN = re.compile(r"([\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]"
                        r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff\s\d.,،]*)")


@dataclass(frozen=True)
class Fonts:
    body: str
    bold: str
    cjk: str | None
    emoji: str | None
    note: str  # what is missing, shown in the PDF's methodology notes ("" when complete)


@lru_cache(maxsize=1)
def fonts() -> Fonts:
    missing = []
    body, bold = "Helvetica", "Helvetica-Bold"
    if (DEJAVU / "DejaVuSans.ttf").exists():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(DEJAVU / "DejaVuSans.ttf")))
        bold_file = DEJAVU / "DejaVuSans-Bold.ttf"
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold_file if bold_file.exists() else
                                                              DEJAVU / "DejaVuSans.ttf")))
        body, bold = "DejaVuSans", "DejaVuSans-Bold"
    else:
        missing.append("DejaVu Sans (Debian package fonts-dejavu-core): non-Latin text may not render")
    cjk = None
    if WQY.exists():
        pdfmetrics.registerFont(TTFont("WQYZenHei", str(WQY), subfontIndex=0))
        cjk = "WQYZenHei"
    else:
        missing.append("WenQuanYi Zen Hei (Debian package fonts-wqy-zenhei): Chinese/Japanese/Korean text "
                       "may not render")
    emoji = None
    if SYMBOLA.exists():
        pdfmetrics.registerFont(TTFont("Symbola", str(SYMBOLA)))
        emoji = "Symbola"
    else:
        missing.append(f"Symbola (Debian package fonts-symbola): emoji are shown as {EMOJI_FALLBACK}")
    return Fonts(body, bold, cjk, emoji, "; ".join(missing))


def _shape_arabic(text: str) -> str:
    """Reshape + visual order. Short runs are kept on one line (no-break spaces): wrapping a
    run already in visual order would put its words on lines in the wrong order."""
    def shaped(m: re.Match) -> str:
        run = get_display(reshape(m.group(1)))
        return run.replace(" ", "\u00a0") if len(run) <= 40 else run
    return ARABIC_RUN.sub(shaped, text)


def markup(text: object) -> str:
    """User text -> safe reportlab Paragraph markup: escaped, Arabic shaped, CJK in a CJK font,
    emoji in a monochrome emoji font (or a readable [emoji] when that font is missing)."""
    s = _shape_arabic(str(text))
    f = fonts()
    out = []
    for j, chunk in enumerate(EMOJI_RUN.split(s)):
        if j % 2:
            visible = chunk.replace("\ufe0f", "").replace("\u200d", "")  # selectors/joiners have no glyph of their own
            out.append(f'<font name="{f.emoji}">{escape(visible)}</font>' if f.emoji else EMOJI_FALLBACK)
            continue
        for k, part in enumerate(CJK_RUN.split(chunk)):
            if k % 2 and f.cjk:
                out.append(f'<font name="{f.cjk}">{escape(part)}</font>')
            else:
                out.append(escape(part))
    return "".join(out)
