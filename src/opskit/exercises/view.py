"""How exercise feedback looks: a small coloured HTML block in Jupyter, plain text elsewhere.

Every block also carries a deterministic ``text/plain`` form (no memory addresses, no timestamps), which is what nbval
compares and what a terminal or a headless run shows, e.g. ``✓ q1: 正确! / Correct!``.

Examples
--------
>>> from opskit.i18n import Text
>>> Feedback("correct", "q1", Text("正确!", "Correct!")).plain("both")
'✓ q1: 正确! / Correct!'
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from opskit.i18n import Text, get_language

# kind -> (symbol, text colour, background colour)
STYLES: dict[str, tuple[str, str, str]] = {
    "correct": ("✓", "#1b5e20", "#e8f5e9"),
    "incorrect": ("✗", "#b71c1c", "#ffebee"),
    "hint": ("💡", "#0d47a1", "#e3f2fd"),
    "not_attempted": ("○", "#424242", "#f5f5f5"),
    "solution": ("📖", "#263238", "#eceff1"),
}


@dataclass(frozen=True)
class Feedback:
    """One block of feedback: a kind (see ``STYLES``), the problem label, a message, optional code and footer."""

    kind: str
    label: str
    message: Text
    code: str | None = None
    footer: Text | None = None

    def plain(self, language: str | None = None) -> str:
        """The ``text/plain`` form: one line per part, in the current (or given) language."""
        symbol = STYLES[self.kind][0]
        lines = [f"{symbol} {self.label}: {self.message.render(language)}"]
        if self.code is not None:
            lines.append(self.code)
        if self.footer is not None:
            lines.append(self.footer.render(language))
        return "\n".join(lines)

    def html(self, language: str | None = None) -> str:
        """The ``text/html`` form: a left-bordered coloured block; English on its own muted line when bilingual."""
        symbol, colour, background = STYLES[self.kind]
        parts = [f"<b>{html.escape(symbol)} {html.escape(self.label)}:</b> {_html_text(self.message, language)}"]
        if self.code is not None:
            parts.append(
                '<pre style="margin:6px 0 0 0;padding:6px;background:#fff;border:1px solid #cfd8dc;'
                f'white-space:pre-wrap">{html.escape(self.code)}</pre>'
            )
        if self.footer is not None:
            parts.append(f'<div style="margin-top:4px;font-size:90%">{_html_text(self.footer, language)}</div>')
        return (
            f'<div class="opskit-feedback opskit-{self.kind}" style="border-left:4px solid {colour};'
            f'background:{background};color:{colour};padding:6px 10px;margin:4px 0;line-height:1.5">'
            + "".join(parts)
            + "</div>"
        )


def _html_text(text: Text, language: str | None) -> str:
    lang = get_language() if language is None else language
    if lang == "both" and text.zh != text.en:
        return f'{html.escape(text.zh)}<br><span style="opacity:0.75">{html.escape(text.en)}</span>'
    return html.escape(text.render(lang))


def show(feedback: Feedback) -> None:
    """Display ``feedback``: rich HTML plus text/plain under IPython, plain ``print`` otherwise. Never raises."""
    plain = feedback.plain()
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:  # IPython missing or broken: a plain print still works
        shell = None
    if shell is None:
        print(plain)
        return
    try:
        from IPython.display import display

        display({"text/plain": plain, "text/html": feedback.html()}, raw=True)
    except Exception:
        print(plain)
