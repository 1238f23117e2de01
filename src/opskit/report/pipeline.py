"""``build_report``: inputs → method → ``report.html`` and the CSV work lists in a new folder.

Files written (UTF-8 with BOM for the CSVs, so Excel opens Chinese text correctly):

- ``report.html``: the self-contained report (no network);
- ``follow_up.csv``: the 90-day care contacts due today or later; ``activation.csv``: members > 90 days without a
  purchase, ranked by value;
- ``cleaning_summary.csv`` and ``quarantine.csv``: the row accounting and the quarantined rows (phones masked).

Privacy: the lists carry customer ids, never phones. A customer id that *is* a mobile number (some POS systems use
the phone as the card number) is replaced by a keyed pseudonym (:class:`opskit.privacy.Pseudonymizer`, key from
``$OPSKIT_PSEUDONYM_KEY``), and every file is checked with :func:`opskit.privacy.assert_no_phones` before the run
reports success.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from opskit import schema
from opskit.i18n import Text
from opskit.report.method import Analysis, ExportSpec, Inputs, load_exports, load_footfall_file, load_targets_file, \
    run_method, validate_transactions

REPORT_FILES = ("report.html", "follow_up.csv", "activation.csv", "cleaning_summary.csv", "quarantine.csv")


class OutputExistsError(FileExistsError):
    """The output folder exists and ``force`` was not given."""


@dataclass
class ReportResult:
    """What :func:`build_report` wrote: the folder, the files, the analysis and the cleaning report."""

    folder: Path
    files: list[Path]
    analysis: Analysis
    report: object
    notes: list[Text] = field(default_factory=list)

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.files)
        return str(Text(f"报告已写入 {self.folder}: {names}", f"report written to {self.folder}: {names}"))


def demo_inputs(store: str | None = None) -> Inputs:
    """The course dataset as report inputs: transactions (validated like a standard export), members, stores,
    footfall and targets; with ``store``, one store's view: its transactions (every channel), the members who
    joined there, its footfall and targets.

    >>> inputs = demo_inputs("S03")  # doctest: +SKIP
    """
    import opskit.datasets as ds

    tx, members, stores = ds.load_transactions(), ds.load_members(), ds.load_stores()
    footfall, targets = ds.load_footfall(), ds.load_targets()
    source = str(Text("课程演示数据", "course demo data"))
    if store is not None:
        known = stores["store_id"].astype(str).tolist()
        if store not in known:
            raise ValueError(str(Text(f"未知门店 {store!r}; 可选: {', '.join(known)}",
                                      f"unknown store {store!r}; choose one of: {', '.join(known)}")))
        tx = tx[tx["store_id"] == store]
        members = members[members["join_store_id"] == store]
        stores = stores[stores["store_id"] == store]
        footfall = footfall[footfall["store_id"] == store]
        targets = targets[targets["store_id"] == store]
        source = f"{source} · {store}"
    transactions, report = validate_transactions(tx, f"orders.csv + order_lines.csv ({store or 'all stores'})")
    return Inputs(transactions, report, members=members.reset_index(drop=True), stores=stores.reset_index(drop=True),
                  footfall=footfall.reset_index(drop=True), targets=targets.reset_index(drop=True), source=source)


def _prepare_folder(out: Path, force: bool) -> None:
    if out.exists():
        if not out.is_dir():
            raise OutputExistsError(str(Text(f"输出路径 {out} 已存在且不是文件夹", f"output path {out} exists and is "
                                                                             "not a folder")))
        if not force:
            raise OutputExistsError(str(Text(
                f"输出文件夹 {out} 已存在; 换一个文件夹, 或加 --force 覆盖其中的报告文件",
                f"output folder {out} already exists; choose another folder, or pass --force to overwrite the "
                "report files in it")))


def build_report(exports=None, *, out: str | Path, footfall: str | Path | None = None,
                 targets: str | Path | None = None, as_of: object = None, force: bool = False,
                 progress: bool = True) -> ReportResult:
    """Run the whole method on a store's exports (default: the course demo data) and write the report folder.

    Parameters
    ----------
    exports : list of path or ExportSpec, optional
        CSV/xlsx exports; ``"file.csv:pos"`` gives the channel of an export without a channel column. Default: the
        demo dataset (with its footfall, targets, members and stores).
    out : path
        A new folder for the report. An existing folder is never written into unless ``force=True``.
    footfall, targets : path, optional
        Daily footfall (``date, store_id, visitors[, passers_by, staff_hours]``) and monthly targets
        (``store_id, month, sales_target``): with footfall the report adds the store compass.
    as_of : date, optional
        The snapshot date; default the last member purchase.
    force : bool
        Overwrite the report files in an existing folder.
    progress : bool
        Show a progress bar on stderr (tqdm).

    Returns
    -------
    ReportResult

    Raises
    ------
    OutputExistsError
        ``out`` exists and ``force`` is False (checked before any work).
    ValueError
        Unreadable input, no usable rows, only returns, no member purchase (bilingual message naming the file).
    """
    from tqdm.auto import tqdm

    out = Path(out)
    _prepare_folder(out, force)
    steps = ["read", "rfm", "clv", "lifecycle", "compass", "render", "write"]
    bar = tqdm(total=len(steps), file=sys.stderr, disable=not progress, unit="step", leave=False,
               bar_format="{desc:<40} {bar} {n_fmt}/{total_fmt} [{elapsed}]")

    def step(message: str) -> None:
        bar.set_description_str(message[:40])
        if bar.n < bar.total - 1:
            bar.update(1)

    try:
        bar.set_description_str(str(Text("读取与清洗", "reading and cleaning")))
        if exports:
            inputs = load_exports(exports, as_of=as_of, progress=lambda m: bar.set_description_str(m[:40]))
            if footfall is not None:
                inputs.footfall = load_footfall_file(footfall)
            if targets is not None:
                inputs.targets = load_targets_file(targets)
        else:
            inputs = demo_inputs()
            if footfall is not None:
                inputs.footfall = load_footfall_file(footfall)
            if targets is not None:
                inputs.targets = load_targets_file(targets)
        if targets is not None and inputs.footfall is None:
            inputs.notes.append(Text("只给了目标、没有客流: 不计算罗盘", "targets given without footfall: no compass"))
        analysis = run_method(inputs, as_of=as_of, progress=step)
        step(str(Text("生成报告", "rendering the report")))
        from opskit.report.render import render_html

        page = render_html(analysis, inputs.report, source=inputs.source)
        step(str(Text("写入文件", "writing files")))
        files = _write(out, page, analysis, inputs.report)
        bar.update(bar.total - bar.n)
    finally:
        bar.close()
    return ReportResult(out, files, analysis, inputs.report, analysis.notes)


def _check_no_phones(frame: pd.DataFrame, where: str) -> None:
    """:func:`opskit.privacy.assert_no_phones` on every distinct text value and the header of ``frame`` (a phone in
    any cell shows in its column's distinct values), and no integer in the mobile-number range."""
    from opskit.privacy import assert_no_phones

    assert_no_phones(" ".join(map(str, frame.columns)), where=where)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_integer_dtype(values.dtype):
            if values.between(13_000_000_000, 19_999_999_999).any():
                raise ValueError(str(Text(f"{where}: 列 {column} 含有手机号样式的数字",
                                          f"{where}: column {column} holds phone-like numbers")))
        elif not pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_datetime64_any_dtype(values):
            assert_no_phones("\n".join(map(str, pd.unique(values.astype("object")))), where=where)


def _write(out: Path, page: str, analysis: Analysis, report) -> list[Path]:
    from opskit.privacy import assert_no_phones

    assert_no_phones(page, where="report.html")
    out.mkdir(parents=True, exist_ok=True)
    files = []
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    files.append(html_path)
    fu = analysis.follow_up.copy()
    for c in ("purchase_date", "due_date"):
        fu[c] = fu[c].dt.strftime("%Y-%m-%d")
    act = analysis.activation.reset_index()
    act = act[[c for c in act.columns if c != "value_tier_label"]]  # the code column says it; keeps 1M rows lean
    act = act.assign(value=act["value"].round(2))  # rounded here: a float_format costs seconds at 1M rows
    for name, frame in (("follow_up.csv", fu), ("activation.csv", act)):
        _check_no_phones(frame, name)  # before writing: no file leaves with a raw phone number
        path = out / name
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        files.append(path)
    for name, table in (("cleaning_summary.csv", "summary"), ("quarantine.csv", "quarantine")):
        _check_no_phones(report.table(table), name)
        files.append(report.to_csv(out / name, table))
    return files
