"""Bilingual (zh/en) text for every user-facing label and message.

The course is taught in Chinese workplaces with English-language notebooks, so by default a message shows both:
Chinese first, English alongside. ``set_language("zh")`` or ``set_language("en")`` shows one language only.

Examples
--------
>>> from opskit.i18n import Text, set_language
>>> msg = Text("正确!", "Correct!")
>>> set_language("en"); str(msg)
'Correct!'
>>> set_language("both"); str(msg)
'正确! / Correct!'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

Language = Literal["zh", "en", "both"]
LANGUAGES: tuple[str, ...] = ("zh", "en", "both")

_current: Language = "both"


def _validate(language: str) -> Language:
    lang = str(language).strip().lower().replace("_", "-")
    if lang in ("zh-cn", "zh-hans", "cn", "chinese", "中文"):
        lang = "zh"
    if lang in ("english",):
        lang = "en"
    if lang in ("zh+en", "bilingual", "双语"):
        lang = "both"
    if lang not in LANGUAGES:
        raise ValueError(
            f"未知语言 {language!r}; 可选: zh, en, both / unknown language {language!r}; choose zh, en or both"
        )
    return lang  # type: ignore[return-value]


def set_language(language: str) -> None:
    """Choose the language of labels and messages: ``"zh"``, ``"en"`` or ``"both"`` (the default)."""
    global _current
    _current = _validate(language)


def get_language() -> Language:
    """The language currently in use."""
    return _current


@dataclass(frozen=True)
class Text:
    """A message in Chinese and English. ``str()`` renders it in the current language."""

    zh: str
    en: str

    def render(self, language: str | None = None, sep: str = " / ") -> str:
        lang = _current if language is None else _validate(language)
        if lang == "zh":
            return self.zh
        if lang == "en":
            return self.en
        if self.zh == self.en:
            return self.zh
        return f"{self.zh}{sep}{self.en}"

    def format(self, **values: object) -> "Text":
        """Fill ``{placeholders}`` in both languages."""
        return Text(self.zh.format(**values), self.en.format(**values))

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Text({self.zh!r}, {self.en!r})"


def label(zh: str, en: str, language: str | None = None) -> str:
    """A short bilingual label, e.g. for a chart axis: ``label("客单价", "ATV")`` -> ``"客单价 ATV"``."""
    return Text(zh, en).render(language, sep=" ")


# Initial language from the environment, so a trainer can set it once for a classroom.
if os.environ.get("OPSKIT_LANGUAGE"):
    try:
        set_language(os.environ["OPSKIT_LANGUAGE"])
    except ValueError:
        pass
