"""Row accounting for a cleaning run: :class:`CleaningReport`.

For every input file: rows in = rows kept + rows merged as duplicates + rows quarantined. Each merged row names the
row it duplicates; each quarantined row names its reason, the column and the value, and keeps its raw text (phones
masked). Exports (CSV, JSON, HTML) pass through :func:`opskit.privacy.redact_phones`.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from opskit.i18n import Text

KEPT, MERGED, QUARANTINED = "kept", "merged", "quarantined"
OUTCOMES = {
    KEPT: Text("保留", "kept"),
    MERGED: Text("合并 (重复)", "merged (duplicate)"),
    QUARANTINED: Text("隔离", "quarantined"),
}

REASONS: dict[str, Text] = {
    # merged
    "duplicate": Text("重复行", "duplicate row"),
    "double_upload": Text("重复上传 (连续一段重复行)", "double upload (a block of repeated rows)"),
    # quarantined: cannot be read
    "missing_order_id": Text("缺少订单号", "missing order id"),
    "missing_date": Text("缺少日期", "missing date"),
    "bad_date": Text("无法识别的日期", "unreadable date"),
    "bad_time": Text("无法识别的时间", "unreadable time"),
    "missing_amount": Text("缺少金额", "missing amount"),
    "bad_amount": Text("无法识别的金额", "unreadable amount"),
    "bad_units": Text("无法识别的件数", "unreadable units"),
    "unknown_status": Text("未知的交易状态", "unknown status"),
    "unknown_channel": Text("未知渠道", "unknown channel"),
    # quarantined: by rule
    "test_order": Text("测试单", "test order"),
    # quarantined: impossible values
    "future_date": Text("日期在截止日之后", "date after the as-of date"),
    "too_old": Text("日期早于最早允许日期", "date before the earliest allowed date"),
    "sign_mismatch": Text("件数与金额正负不一致", "units and amount have opposite signs"),
    "zero_units": Text("件数为 0", "zero units"),
    "too_large": Text("金额或件数超出合理范围", "amount or units beyond the plausible range"),
    "unknown_store": Text("未知门店", "unknown store"),
}


def reason_label(code: str) -> str:
    """The bilingual label of a reason code (in the current language)."""
    return str(REASONS.get(code, Text(code, code)))


def _text_table(frame: pd.DataFrame) -> str:
    """A plain, deterministic fixed-width table (no index)."""
    columns = [str(c) for c in frame.columns]
    cells = [[str(v) for v in row] for row in frame.astype(object).itertuples(index=False)]

    def width(text: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)

    widths = [max([width(c)] + [width(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - width(v)) for v, w in zip(values, widths)).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])


class CleaningReport:
    """What happened to every input row, per file.

    Attributes
    ----------
    summary : DataFrame
        One row per file: ``file``, ``encoding``, ``rows_in``, ``kept``, ``merged``, ``quarantined`` and ``balanced``
        (``rows_in == kept + merged + quarantined``), plus a ``total`` row.
    reasons : DataFrame
        ``file``, ``outcome``, ``reason`` (code), ``label`` and ``rows``: the count behind each merge or quarantine.
    quarantine : DataFrame
        The quarantined rows: ``file``, ``row`` (spreadsheet row number: the header is row 1), ``reason``, ``label``,
        ``column``, ``value``, ``order_id`` and ``raw`` (the whole input row as text, phones masked).
    merged : DataFrame
        The merged duplicate rows: ``file``, ``row``, ``reason``, ``duplicate_of`` (the row kept), ``order_id``.
    notes : DataFrame
        Per file, how it was read: header mapping, date formats and phone statuses found.
    conflicts : DataFrame
        Identity conflicts (see :class:`opskit.collect.Identity`).

    Examples
    --------
    >>> from opskit.collect import collect_exports  # doctest: +SKIP
    >>> result = collect_exports({"pos_export.csv": "pos"})  # doctest: +SKIP
    >>> result.report  # doctest: +SKIP
    """

    def __init__(self, summary: pd.DataFrame, outcomes: pd.DataFrame, notes: pd.DataFrame,
                 conflicts: pd.DataFrame | None = None) -> None:
        from opskit.privacy import redact_phones

        self._files = summary.reset_index(drop=True)
        outcomes = redact_phones(outcomes.reset_index(drop=True))
        self.notes = redact_phones(notes.reset_index(drop=True))
        self.conflicts = pd.DataFrame() if conflicts is None else conflicts.reset_index(drop=True)
        quarantine = outcomes[outcomes["outcome"] == QUARANTINED]
        self.quarantine = quarantine[["file", "row", "reason", "column", "value", "order_id", "raw"]].reset_index(
            drop=True)
        self.quarantine.insert(3, "label", self.quarantine["reason"].map(reason_label).astype("str"))
        merged = outcomes[outcomes["outcome"] == MERGED]
        self.merged = merged[["file", "row", "reason", "duplicate_of", "order_id"]].reset_index(drop=True)
        counts = outcomes.groupby(["file", "outcome", "reason"], sort=False).size().rename("rows").reset_index()
        order = {f: i for i, f in enumerate(self._files["file"])}
        counts = counts.assign(_f=counts["file"].map(order), _o=counts["outcome"].map({MERGED: 0, QUARANTINED: 1}))
        counts = counts.sort_values(["_f", "_o", "rows", "reason"], ascending=[True, True, False, True])
        counts.insert(3, "label", counts["reason"].map(reason_label).astype("str"))
        self.reasons = counts.drop(columns=["_f", "_o"]).reset_index(drop=True).astype({"rows": "int64"})

    # ---- the accounting ---------------------------------------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        files = self._files.copy()
        total = {"file": "total", "encoding": "", **{c: int(files[c].sum()) for c in ("rows_in", "kept", "merged",
                                                                                       "quarantined")}}
        table = pd.concat([files, pd.DataFrame([total])], ignore_index=True)
        balanced = table["rows_in"] == table["kept"] + table["merged"] + table["quarantined"]
        table["balanced"] = balanced.map({True: "✓", False: "✗"}).astype("str")
        return table.astype({c: "int64" for c in ("rows_in", "kept", "merged", "quarantined")})

    def is_balanced(self) -> bool:
        """True when, for every file, rows in = kept + merged + quarantined (and the detail tables agree)."""
        files = self._files
        if not (files["rows_in"] == files["kept"] + files["merged"] + files["quarantined"]).all():
            return False
        per_file = self.reasons.pivot_table(index="file", columns="outcome", values="rows", aggfunc="sum",
                                            fill_value=0)
        for outcome, table in ((MERGED, self.merged), (QUARANTINED, self.quarantine)):
            detail = table.groupby("file").size()
            declared = files.set_index("file")[outcome]
            by_reason = per_file[outcome] if outcome in per_file else pd.Series(dtype="int64")
            for name, count in declared.items():
                if int(detail.get(name, 0)) != int(count) or int(by_reason.get(name, 0)) != int(count):
                    return False
        return True

    def check(self) -> None:
        """Raise ``AssertionError`` naming the file if any file's rows do not add up."""
        table = self.summary
        bad = table[table["balanced"] != "✓"]
        if not bad.empty or not self.is_balanced():
            raise AssertionError(str(Text(f"行数对不上: {bad['file'].tolist()}", f"rows do not add up: "
                                                                                 f"{bad['file'].tolist()}")))

    # ---- display ----------------------------------------------------------------------------------------------------
    def _header(self) -> Text:
        return Text("清洗报告: 每个文件 输入行 = 保留 + 合并 + 隔离", "Cleaning report: per file, rows in = kept + "
                                                                     "merged + quarantined")

    def __repr__(self) -> str:
        parts = [self._header().render(), _text_table(self.summary), ""]
        if not self.reasons.empty:
            parts += [str(Text("原因", "Reasons")), _text_table(self.reasons[["file", "outcome", "label", "rows"]]), ""]
        if not self.conflicts.empty:
            parts.append(str(Text(f"身份冲突: {len(self.conflicts)} 条 (见 .conflicts)",
                                  f"identity conflicts: {len(self.conflicts)} (see .conflicts)")))
        parts.append(str(Text("明细: .quarantine, .merged; 导出: .to_csv(), .to_json()",
                              "details: .quarantine, .merged; export: .to_csv(), .to_json()")))
        return "\n".join(parts).rstrip()

    def _repr_html_(self) -> str:
        style = "border-collapse:collapse;margin:4px 0"
        parts = [f"<div><strong>{html.escape(self._header().render())}</strong>",
                 self.summary.to_html(index=False, border=0, escape=True).replace("<table", f'<table style="{style}"',
                                                                                   1)]
        if not self.reasons.empty:
            parts.append(f"<strong>{html.escape(str(Text('原因', 'Reasons')))}</strong>")
            parts.append(self.reasons[["file", "outcome", "label", "rows"]].to_html(index=False, border=0))
        if not self.conflicts.empty:
            parts.append(html.escape(str(Text(f"身份冲突: {len(self.conflicts)} 条 (见 .conflicts)",
                                              f"identity conflicts: {len(self.conflicts)} (see .conflicts)"))))
        parts.append("</div>")
        from opskit.privacy import mask_phones_in_text

        return mask_phones_in_text("\n".join(parts))

    # ---- export -----------------------------------------------------------------------------------------------------
    _TABLES = ("summary", "reasons", "quarantine", "merged", "notes", "conflicts")

    def table(self, name: str) -> pd.DataFrame:
        """One of the report's tables by name: summary, reasons, quarantine, merged, notes, conflicts."""
        if name not in self._TABLES:
            raise ValueError(str(Text(f"未知表 {name!r}; 可选: {', '.join(self._TABLES)}",
                                      f"unknown table {name!r}; choose one of: {', '.join(self._TABLES)}")))
        from opskit.privacy import redact_phones

        return redact_phones(getattr(self, name))

    def to_csv(self, path: str | Path, table: str = "summary") -> Path:
        """Write one table as UTF-8-with-BOM CSV (opens cleanly in Excel); phones masked. Returns the path."""
        path = Path(path)
        self.table(table).to_csv(path, index=False, encoding="utf-8-sig")
        return path

    def to_dict(self) -> dict:
        """Every table as lists of records (JSON-ready; phones masked)."""
        out = {}
        for name in self._TABLES:
            frame = self.table(name)
            out[name] = json.loads(frame.to_json(orient="records", force_ascii=False))
        out["balanced"] = self.is_balanced()
        return out

    def to_json(self, path: str | Path | None = None) -> str:
        """The whole report as JSON text (written to ``path`` if given, UTF-8)."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text
