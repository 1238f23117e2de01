"""The course's chart style: fonts that can draw Chinese labels on every learner's machine."""

from __future__ import annotations

import warnings

# First found wins: Linux (Noto CJK, WenQuanYi), Windows (Microsoft YaHei, SimHei), macOS (PingFang, Heiti, Songti).
CJK_FONTS = [
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Songti SC",
    "Arial Unicode MS",
]


def use_course_style() -> None:
    """Use a sans-serif font list that covers Chinese, and keep the minus sign drawable in CJK fonts.

    On a machine with no Chinese font at all, labels show as boxes: the environment check in notebook 00 says
    so. The "Glyph … missing from font" warning is silenced so that stored notebook outputs do not depend on
    which fonts a machine has.
    """
    import matplotlib as mpl

    fallback = [f for f in mpl.rcParams["font.sans-serif"] if f not in CJK_FONTS]
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["font.sans-serif"] = [*CJK_FONTS, "DejaVu Sans", *fallback]
    mpl.rcParams["axes.unicode_minus"] = False
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from (current )?font", category=UserWarning)
    warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support", category=UserWarning)


def chinese_font_available() -> str | None:
    """Name of the first Chinese-capable font matplotlib can find, or None."""
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)
