"""Reading raw exports: encoding detection, CSV/xlsx, and header mapping onto the canonical order fields.

Encodings are tried as a strict decode chain ``utf-8-sig`` → ``gb18030`` (a superset of GBK and GB2312); only when both
fail does charset-normalizer guess. A given ``encoding`` is used as is (and must decode the file strictly).
The file is only ever read, never written.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from opskit.i18n import Text

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
_UNSUPPORTED = {
    ".xls": "Excel 97-2003 (.xls)",
    ".numbers": "Apple Numbers (.numbers)",
    ".et": "WPS 表格 (.et)",
    ".ods": "OpenDocument (.ods)",
    ".xlsb": "Excel binary (.xlsb)",
}
_MAGIC = {
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"%PDF": "PDF",
    b"\xd0\xcf\x11\xe0": "Excel 97-2003 / OLE",
    b"\x1f\x8b": "gzip",
    b"7z\xbc\xaf": "7z",
    b"Rar!": "RAR",
}


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


# --------------------------------------------------------------------------------------------------------------------
# Canonical fields and their aliases
# --------------------------------------------------------------------------------------------------------------------
FIELDS: dict[str, Text] = {
    "order_id": Text("订单号", "order id"),
    "order_time": Text("下单时间 (日期+时间)", "order date and time"),
    "order_date": Text("消费日期", "order date"),
    "time_of_day": Text("消费时间 (时:分:秒)", "time of day"),
    "member_card": Text("会员卡号", "member card number"),
    "phone": Text("手机号", "mobile phone"),
    "phone_masked": Text("脱敏手机号", "masked phone"),
    "unionid": Text("微信 unionid (跨应用同一人)", "WeChat unionid (one per person)"),
    "openid": Text("微信 openid (每个应用不同)", "WeChat openid (per app)"),
    "shop_uid": Text("商城用户ID", "online shop's own customer id"),
    "store_id": Text("门店编号", "store id"),
    "store_name": Text("门店名称", "store name"),
    "channel": Text("渠道", "channel"),
    "units": Text("件数", "units"),
    "amount": Text("实收金额 (元)", "paid amount (yuan)"),
    "amount_fen": Text("实收金额 (分)", "paid amount (fen, 1/100 yuan)"),
    "status": Text("交易状态 (支付/退款)", "status (paid/refunded)"),
    "remark": Text("备注", "remark"),
}

# Built-in aliases (compared after normalising case, width, spaces, '_' '-' and bracketed units).
ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": ("订单号", "订单编号", "单号", "小票号", "流水号", "交易单号", "order_id", "order_no", "orderid",
                 "order number", "order", "ticket_no", "receipt_no"),
    "order_time": ("下单时间", "交易时间", "支付时间", "消费日期时间", "创建时间", "成交时间", "event_time",
                   "created_at", "order_time", "datetime", "timestamp", "paid_at", "create_time", "pay_time"),
    "order_date": ("消费日期", "日期", "下单日期", "交易日期", "销售日期", "order_date", "date", "sale_date"),
    "time_of_day": ("消费时间", "时间", "交易时刻", "time", "sale_time"),
    "member_card": ("会员卡号", "卡号", "会员号", "会员编号", "会员卡", "member_card", "card_no", "member_id",
                    "card", "vip_no", "customer_id"),
    "phone": ("手机号", "手机号码", "手机", "电话", "联系电话", "mobile", "phone", "cellphone", "tel", "mobile_no",
              "phone_number"),
    "phone_masked": ("脱敏手机号", "手机号(脱敏)", "phone_masked", "masked_phone", "mobile_masked"),
    "unionid": ("unionid", "union_id", "微信unionid"),
    "openid": ("openid", "open_id", "微信openid"),
    "shop_uid": ("shop_uid", "商城用户id", "用户id", "user_id", "uid", "buyer_id", "买家id"),
    "store_id": ("门店编号", "门店代码", "店铺编号", "店号", "store_code", "store_id", "shop_code", "storeid"),
    "store_name": ("门店", "门店名称", "店铺", "店铺名称", "店名", "store", "store_name", "shop_name"),
    "channel": ("渠道", "销售渠道", "channel", "sales_channel"),
    "units": ("件数", "数量", "销售数量", "qty", "units", "quantity", "pieces"),
    "amount": ("实收金额", "实付金额", "实收", "实付", "成交金额", "金额", "支付金额", "paid_amount", "amount",
               "paid", "net_amount", "payment"),
    "amount_fen": ("amount_fen", "金额(分)", "实付金额(分)", "fee_fen", "total_fee"),
    "status": ("状态", "交易状态", "订单状态", "类型", "交易类型", "status", "event", "type", "order_status"),
    "remark": ("备注", "说明", "remark", "note", "notes", "memo", "comment"),
}
# One of these groups must be present, each a set of alternatives.
REQUIRED: tuple[tuple[str, ...], ...] = (("order_id",), ("order_time", "order_date"), ("amount", "amount_fen"))


def normalise_header(text: str) -> str:
    """Header text for matching: NFKC (full-width → half-width), lower case, no spaces, ``_``, ``-`` or ``.``; a
    trailing unit in brackets such as ``(元)`` is dropped unless the unit changes the meaning (``(分)``, ``(脱敏)``).

    >>> normalise_header(" 实收金额（元） "), normalise_header("Order_No")
    ('实收金额', 'orderno')
    """
    text = unicodedata.normalize("NFKC", str(text)).strip().lstrip("\ufeff").lower()
    text = re.sub(r"[\s_\-.]", "", text)
    text = re.sub(r"\((元|rmb|cny|¥|yuan)\)$", "", text)
    return text


def _alias_lookup(extra: Mapping[str, str] | None) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, names in ALIASES.items():
        for name in names:
            lookup.setdefault(normalise_header(name), canonical)
    for name, canonical in (extra or {}).items():
        if canonical not in FIELDS:
            raise _error(
                f"映射 {name!r} → {canonical!r}: 未知字段; 可选: {', '.join(FIELDS)}",
                f"mapping {name!r} → {canonical!r}: unknown field; choose one of: {', '.join(FIELDS)}",
            )
        lookup[normalise_header(name)] = canonical
    return lookup


def suggest_fields(header: str, n: int = 3) -> list[str]:
    """Close matches of ``header`` in the alias table, as ``"alias → field"`` strings (difflib)."""
    lookup = _alias_lookup(None)
    matches = difflib.get_close_matches(normalise_header(header), list(lookup), n=n, cutoff=0.5)
    originals = {normalise_header(a): a for names in ALIASES.values() for a in names}
    return [f"{originals[m]} → {lookup[m]}" for m in matches]


def map_headers(headers: list[str], mapping: Mapping[str, str] | None = None, *, source: str = "file") -> dict[str, str]:
    """Map a file's headers onto canonical fields: ``{header: field}`` for the headers recognised.

    ``mapping`` adds or overrides aliases (``{"their header": "amount"}``). Unrecognised headers are ignored (they stay
    in the raw rows); two headers for one field, or a missing required field, raise ``ValueError`` naming the file,
    the headers found and close matches from the alias table.

    >>> map_headers(["订单号", "消费日期", "实收金额", "备注"], source="pos.csv")
    {'订单号': 'order_id', '消费日期': 'order_date', '实收金额': 'amount', '备注': 'remark'}
    """
    lookup = _alias_lookup(mapping)
    found: dict[str, str] = {}
    by_field: dict[str, str] = {}
    for header in headers:
        canonical = lookup.get(normalise_header(header))
        if canonical is None:
            continue
        if canonical in by_field:
            raise _error(
                f"{source}: 列 {by_field[canonical]!r} 和 {header!r} 都对应字段 {canonical} ({FIELDS[canonical].zh}); "
                f"请用 mapping 参数指定用哪一列",
                f"{source}: columns {by_field[canonical]!r} and {header!r} both map to {canonical} "
                f"({FIELDS[canonical].en}); pass mapping= to say which one to use",
            )
        by_field[canonical] = header
        found[header] = canonical
    missing = [group for group in REQUIRED if not any(f in by_field for f in group)]
    if missing:
        need = " / ".join(" 或 ".join(f"{f} ({FIELDS[f].zh})" for f in group) for group in missing)
        need_en = " / ".join(" or ".join(f"{f} ({FIELDS[f].en})" for f in group) for group in missing)
        unmatched = [h for h in headers if h not in found]
        hints = [f"{h!r}: {', '.join(s)}" for h in unmatched if (s := suggest_fields(h))]
        hint_zh = ("; 相近的别名: " + "; ".join(hints)) if hints else ""
        hint_en = ("; close aliases: " + "; ".join(hints)) if hints else ""
        raise _error(
            f"{source}: 缺少必需的列 {need}。文件中的列: {', '.join(map(repr, headers))}{hint_zh}。"
            f"可用 mapping={{'你的列名': '字段'}} 指定",
            f"{source}: missing required column {need_en}. Columns found: {', '.join(map(repr, headers))}{hint_en}. "
            f"Pass mapping={{'your header': 'field'}} to map it",
        )
    return found


# --------------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class RawExport:
    """One export as read: all values as text, plus how it was read.

    Attributes
    ----------
    frame : DataFrame
        The file's own columns, every value a ``str`` ("" for empty cells), index 0..n-1.
    source : str
        The file name (no folders, so reports are the same on every machine).
    encoding : str
        ``"utf-8-sig"``, ``"gb18030"``, a charset-normalizer guess, or ``"xlsx"``.
    first_row : int
        The spreadsheet row number of ``frame``'s first row (2: the header is row 1), for error messages.
    """

    frame: pd.DataFrame
    source: str
    encoding: str
    first_row: int = 2
    notes: dict = field(default_factory=dict)

    def row_numbers(self) -> pd.Series:
        return pd.Series(range(self.first_row, self.first_row + len(self.frame)), index=self.frame.index, dtype="int64")


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _UNSUPPORTED:
        raise _error(
            f"{path.name}: 不支持 {_UNSUPPORTED[suffix]} 文件。请在 Excel/WPS/Numbers 中另存为 .xlsx 或 CSV (UTF-8) 后再读取",
            f"{path.name}: {_UNSUPPORTED[suffix]} files are not supported. Save as .xlsx or CSV (UTF-8) in "
            "Excel/WPS/Numbers and read that file",
        )
    return suffix


def _not_a_table(path: Path, kind: str) -> ValueError:
    return _error(
        f"{path.name}: 这不是表格文件 (看起来是 {kind})。支持: CSV/TXT (逗号或制表符分隔) 和 .xlsx",
        f"{path.name}: this is not a table (it looks like {kind}). Supported: CSV/TXT (comma or tab separated) "
        "and .xlsx",
    )


def decode_bytes(data: bytes, encoding: str | None = None, *, source: str = "file") -> tuple[str, str]:
    """Decode ``data`` strictly: the given ``encoding``, else ``utf-8-sig`` → ``gb18030`` → charset-normalizer.

    Returns ``(text, encoding used)``. Raises ``ValueError`` for an unknown encoding name, an encoding that does not
    decode the bytes, or bytes no candidate decodes.

    >>> decode_bytes("订单号".encode("gbk"))
    ('订单号', 'gb18030')
    """
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise _error(
                f"{source}: 未知编码 {encoding!r}; 常用: utf-8, utf-8-sig, gbk, gb18030; 或不指定以自动检测",
                f"{source}: unknown encoding {encoding!r}; common ones: utf-8, utf-8-sig, gbk, gb18030; or leave it "
                "out to detect it",
            ) from None
        try:
            text = data.decode(codec.name)
        except UnicodeDecodeError as exc:
            raise _error(
                f"{source}: 无法按 {encoding} 解码 (第 {exc.start} 字节); 换一种编码或不指定以自动检测",
                f"{source}: cannot decode as {encoding} (byte {exc.start}); try another encoding or leave it out to "
                "detect it",
            ) from None
        return text.lstrip("\ufeff"), encoding
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate == "utf-8-sig" and not data.startswith(codecs.BOM_UTF8):
            candidate = "utf-8"
        return text, candidate
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise _error(
            f"{source}: 无法识别文件编码 (不是 UTF-8, 也不是 GBK/GB18030); 请用 encoding= 指定, 或另存为 UTF-8 CSV",
            f"{source}: cannot detect the file's encoding (neither UTF-8 nor GBK/GB18030); pass encoding= or save it "
            "as UTF-8 CSV",
        )
    return str(best).lstrip("\ufeff"), best.encoding


def _looks_binary(text: str) -> bool:
    sample = text[:20_000]
    if "\x00" in sample:
        return True
    controls = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\t\r\n")
    return controls > max(2, len(sample) // 200)


def _sniff_delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _cell_text(value: object) -> str:
    """xlsx cell → text: integers without ``.0`` (phones, ids), dates as ISO, empty as ``""``."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _read_xlsx(path: Path, data: bytes, sheet: str | int | None) -> pd.DataFrame:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise _error(f"{path.name}: 不是有效的 .xlsx 文件 ({type(exc).__name__})",
                     f"{path.name}: not a valid .xlsx file ({type(exc).__name__})") from None
    try:
        names = book.sheetnames
        if sheet is None:
            chosen = names[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise _error(f"{path.name}: 没有第 {sheet} 个工作表; 共有: {names}",
                             f"{path.name}: no sheet number {sheet}; sheets: {names}")
            chosen = names[sheet]
        elif sheet in names:
            chosen = sheet
        else:
            raise _error(f"{path.name}: 没有工作表 {sheet!r}; 共有: {names}", f"{path.name}: no sheet {sheet!r}; sheets: {names}")
        rows = [[_cell_text(v) for v in row] for row in book[chosen].iter_rows(values_only=True)]
    finally:
        book.close()
    rows = [r for r in rows if any(v != "" for v in r)] if rows else []
    if not rows:
        raise _error(f"{path.name}: 工作表 {chosen!r} 是空的", f"{path.name}: sheet {chosen!r} is empty")
    width = max(len(r) for r in rows)
    header = [h.strip() for h in rows[0]] + [""] * (width - len(rows[0]))
    while header and header[-1] == "" and all(len(r) < len(header) or r[len(header) - 1] == "" for r in rows[1:]):
        header.pop()
    body = [(r + [""] * (width - len(r)))[: len(header)] for r in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype=str) if body else pd.DataFrame(columns=header, dtype=str)


def read_export(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None) -> RawExport:
    """Read one raw export (CSV/TXT in any common encoding, or .xlsx) as text, without changing the file.

    Parameters
    ----------
    path : str or Path
    encoding : str, optional
        Force an encoding (CSV only). Default: detect (``utf-8-sig`` → ``gb18030`` → charset-normalizer).
    sheet : str or int, optional
        The .xlsx sheet (name or 0-based number); default the first.

    Returns
    -------
    RawExport
        ``.frame`` holds every value as ``str`` (empty cells as ``""``), header names stripped.

    Raises
    ------
    ValueError
        Empty file, not a table (an image, a binary), an unsupported format (.xls, .numbers: save as .xlsx or CSV),
        an unknown or wrong encoding.

    Examples
    --------
    >>> from opskit.datasets import messy_path
    >>> raw = read_export(messy_path("pos_export.csv"))
    >>> raw.encoding, raw.frame.columns[0]
    ('gb18030', '订单号')
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(str(Text(f"找不到文件 {path}", f"file not found: {path}")))
    suffix = _check_suffix(path)
    data = path.read_bytes()
    if not data.strip().lstrip(codecs.BOM_UTF8).strip():
        raise _error(f"{path.name}: 文件是空的", f"{path.name}: the file is empty")
    if data.startswith(b"PK\x03\x04"):
        if suffix not in (".xlsx",) and b"[Content_Types].xml" not in data[:4096] and b"xl/" not in data[:65536]:
            raise _not_a_table(path, "ZIP")
        if suffix == ".numbers" or (b"Index/Document.iwa" in data[:65536]):
            raise _error(f"{path.name}: 这是 Numbers 文件; 请另存为 .xlsx 或 CSV",
                         f"{path.name}: this is a Numbers file; save as .xlsx or CSV")
        frame = _read_xlsx(path, data, sheet)
        return RawExport(frame, path.name, "xlsx")
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            if kind.startswith("Excel"):
                raise _error(f"{path.name}: 这是旧版 Excel (.xls) 文件; 请另存为 .xlsx 或 CSV 后再读取",
                             f"{path.name}: this is an old Excel (.xls) file; save as .xlsx or CSV and read that")
            raise _not_a_table(path, kind)
    if suffix == ".xlsx":
        raise _error(f"{path.name}: 扩展名是 .xlsx, 但内容不是 Excel 工作簿", f"{path.name}: named .xlsx but not an Excel workbook")
    if b"\x00" in data[:20_000]:
        raise _not_a_table(path, Text("二进制数据", "binary data").render())
    text, used = decode_bytes(data, encoding, source=path.name)
    if _looks_binary(text):
        raise _not_a_table(path, Text("二进制数据", "binary data").render())
    delimiter = "\t" if suffix == ".tsv" else _sniff_delimiter(text)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_filter=False,
                            skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _error(f"{path.name}: 无法按表格解析: {exc}", f"{path.name}: cannot parse as a table: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] < 2:
        raise _error(
            f"{path.name}: 只找到 1 列 ({frame.columns[0]!r}); 这不像是导出的订单表 (分隔符应为逗号或制表符)",
            f"{path.name}: only one column found ({frame.columns[0]!r}); this does not look like an order export "
            "(use comma or tab separators)",
        )
    unnamed = [c for c in frame.columns if c.startswith("Unnamed:")]
    if unnamed and all((frame[c] == "").all() for c in unnamed):  # trailing separators
        frame = frame.drop(columns=unnamed)
    return RawExport(frame.reset_index(drop=True), path.name, used)
