"""``opskit report``: the whole method on a store's own exports, as one self-contained HTML report and work lists.

- :mod:`opskit.report.method`: read and clean (fast for the standard layout, :mod:`opskit.collect` otherwise), RFM,
  CLV, lifecycle, work lists, the compass with footfall, plain findings; and :func:`sample_size_per_group` for the
  A/B test that proves a campaign's result.
- :mod:`opskit.report.render`: the HTML (Jinja2, autoescaped; charts embedded as base64 PNG, no network).
- :func:`build_report`: both, writing ``report.html`` and the CSV work lists into a new folder.

Examples
--------
>>> from opskit.report import build_report          # doctest: +SKIP
>>> result = build_report(out="my-report")  # the demo data  # doctest: +SKIP
>>> sorted(p.name for p in result.files)             # doctest: +SKIP
"""

from opskit.report.method import (
    Analysis,
    ExportSpec,
    Inputs,
    is_standard_export,
    load_exports,
    minimum_detectable_uplift,
    read_standard_export,
    run_method,
    sample_size_per_group,
    validate_transactions,
)
from opskit.report.pipeline import ReportResult, build_report, demo_inputs

__all__ = [
    "Analysis",
    "ExportSpec",
    "Inputs",
    "ReportResult",
    "build_report",
    "demo_inputs",
    "is_standard_export",
    "load_exports",
    "minimum_detectable_uplift",
    "read_standard_export",
    "run_method",
    "sample_size_per_group",
    "validate_transactions",
]
