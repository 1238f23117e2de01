"""Customer data collection (客户数据管理): read raw channel exports, clean them, link identities, count every row.

One trustworthy customer database underpins everything after it: tiering, lifecycle, the store compass. This package
is the data-in layer: pure functions that return DataFrames and a :class:`CleaningReport`.

- :func:`read_export` reads CSV in any common encoding (UTF-8, UTF-8 with BOM, GBK/GB18030; detected or given) and
  .xlsx, every value as text; :func:`map_headers` maps Chinese/English headers onto :data:`FIELDS` through
  :data:`ALIASES` (extend it with ``mapping=``).
- :func:`parse_money`, :func:`parse_count`, :func:`parse_datetimes`, :func:`parse_time_of_day` and
  :func:`normalize_phones` parse values vectorised, each returning a ``bad`` mask for the rows they cannot read.
- :func:`collect_exports` runs the whole pipeline (see :mod:`opskit.collect.pipeline` for the rules and their order)
  and returns the canonical transactions, the identity map (:func:`link_identities`) and the report.
- :func:`reconcile` compares the result with a reference frame, column by column.

Examples
--------
>>> from opskit.collect import collect_exports
>>> from opskit.datasets import messy_path, load_members, load_stores
>>> result = collect_exports(
...     {messy_path("pos_export.csv"): "pos", messy_path("online_shop_export.csv"): "mini_program",
...      messy_path("wechat_export.csv"): "wecom_group"},
...     members=load_members(), stores=load_stores(), as_of="2025-06-30")
>>> len(result.transactions)
7765
"""

from opskit.collect.identity import KEY_TYPES, Identity, link_identities
from opskit.collect.parse import (
    normalize_phones,
    parse_count,
    parse_datetimes,
    parse_money,
    parse_time_of_day,
    to_halfwidth,
)
from opskit.collect.pipeline import (
    CollectResult,
    Source,
    TestOrderRule,
    clean_export,
    collect_exports,
    reconcile,
)
from opskit.collect.read import ALIASES, FIELDS, REQUIRED, RawExport, decode_bytes, map_headers, read_export
from opskit.collect.report import REASONS, CleaningReport

__all__ = [
    "ALIASES",
    "FIELDS",
    "KEY_TYPES",
    "REASONS",
    "REQUIRED",
    "CleaningReport",
    "CollectResult",
    "Identity",
    "RawExport",
    "Source",
    "TestOrderRule",
    "clean_export",
    "collect_exports",
    "decode_bytes",
    "link_identities",
    "map_headers",
    "normalize_phones",
    "parse_count",
    "parse_datetimes",
    "parse_money",
    "parse_time_of_day",
    "read_export",
    "reconcile",
    "to_halfwidth",
]
