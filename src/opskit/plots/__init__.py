"""Presentation layer: charts that take tidy DataFrames and return matplotlib Axes.

Importing this package applies :func:`opskit.plots.style.use_course_style` (a Chinese-capable font list), so every
chart shows its bilingual labels on Windows, macOS and Linux alike.
"""

from opskit.plots.style import use_course_style

use_course_style()

__all__ = ["use_course_style"]
