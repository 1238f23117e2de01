"""Vectorised value parsers for raw export text: money, counts, dates and times, phones.

Every parser takes a Series of ``str`` and returns the parsed values plus a boolean ``bad`` mask (non-empty text that
could not be parsed), so the caller can quarantine exactly those rows and name the value. Missing ("") is not bad.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 on Windows (serial 45748 = 2025-04-01)

# Full-width ASCII (U+FF01..U+FF5E) → ASCII, the ideographic space → space. Cheap str.translate, vectorised by pandas.
_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALF[0x3000] = 0x20
_HALF[0xFFE5] = ord("¥")  # ￥ full-width yen sign
_HALF[0x2212] = ord("-")  # − minus sign
_HALF_TABLE = str.maketrans(_HALF)


def to_halfwidth(text: pd.Series) -> pd.Series:
    """Full-width digits, letters and punctuation to ASCII (``１２３`` → ``123``, ``￥`` → ``¥``), then strip.

    >>> import pandas as pd
    >>> to_halfwidth(pd.Series(["１，２９９．００", " ￥12 "])).tolist()
    ['1,299.00', '¥12']
    """
    return text.astype(str).str.translate(_HALF_TABLE).str.strip()


def _as_text(values: pd.Series) -> pd.Series:
    return to_halfwidth(values.astype(object).where(values.notna(), "").astype(str))


# --------------------------------------------------------------------------------------------------------------------
# Money and counts
# --------------------------------------------------------------------------------------------------------------------
_MONEY_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_money(values: pd.Series, *, unit: str = "yuan") -> tuple[pd.Series, pd.Series]:
    """Money text → integer **cents** (分), exact; plus the ``bad`` mask.

    Accepts ``¥``/``￥``/``元``/``RMB``/``CNY``, thousands separators, spaces, full-width digits, a leading or trailing
    minus and accounting brackets ``(459.00)``. ``unit="fen"`` reads integer fen (WeChat Pay style). Missing → <NA>.

    >>> import pandas as pd
    >>> cents, bad = parse_money(pd.Series(["￥1,299.00", "-￥459.00", "(12.5)", "abc", ""]))
    >>> cents.tolist(), bad.tolist()
    ([129900, -45900, -1250, <NA>, <NA>], [False, False, False, True, False])
    """
    text = _as_text(values)
    empty = text == ""
    core = text.str.replace(r"(?i)(¥|元|rmb|cny|\s|,|'|’)", "", regex=True)
    bracketed = core.str.fullmatch(r"\(.*\)")
    core = core.where(~bracketed, "-" + core.str.slice(1, -1))
    trailing_minus = core.str.fullmatch(r".*\d-")
    core = core.where(~trailing_minus, "-" + core.str.slice(0, -1))
    ok = core.str.fullmatch(_MONEY_NUMBER.pattern) & ~empty
    numbers = pd.to_numeric(core.where(ok, None), errors="coerce")
    if unit == "fen":
        integral = ok & (numbers.round() == numbers)
        cents = numbers.where(integral).round()
        ok = integral
    elif unit == "yuan":
        cents = (numbers * 100).round()
    else:
        raise ValueError(f"unit must be 'yuan' or 'fen', got {unit!r}")
    cents = cents.where(ok & np.isfinite(cents)).astype("Int64")
    bad = ~empty & cents.isna()
    return cents, bad


def parse_count(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole-number counts (件数) → ``Int64``; ``2件``, ``２``, ``-1`` and ``3.0`` are fine, ``1.5`` and ``abc`` are bad.

    >>> import pandas as pd
    >>> parse_count(pd.Series(["２件", "-1", "1.5", ""]))[0].tolist()
    [2, -1, <NA>, <NA>]
    """
    text = _as_text(values).str.replace(r"(件|pcs|个|\s)$", "", regex=True).str.replace(",", "", regex=False)
    empty = text == ""
    numbers = pd.to_numeric(text.where(text.str.fullmatch(r"[+-]?\d+(\.0*)?") & ~empty, None), errors="coerce")
    counts = numbers.astype("Float64").round().astype("Int64")
    bad = ~empty & counts.isna()
    return counts, bad


# --------------------------------------------------------------------------------------------------------------------
# Dates and times
# --------------------------------------------------------------------------------------------------------------------
_YMD = re.compile(
    r"^(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
    r"(?:[\sT]+(?P<hour>\d{1,2})[:时](?P<minute>\d{1,2})(?:[:分](?P<second>\d{1,2})(?:\.\d+)?秒?)?)?$"
)
_COMPACT = re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$")
DATE_FORMATS = ("iso", "slash", "chinese", "dot", "compact", "excel_serial", "unix_seconds", "unix_millis")


def _from_parts(parts: pd.DataFrame) -> pd.Series:
    columns = ["year", "month", "day", "hour", "minute", "second"]
    numbers = parts.reindex(columns=columns).apply(pd.to_numeric, errors="coerce")
    return pd.to_datetime(numbers.fillna({"hour": 0, "minute": 0, "second": 0}), errors="coerce")


def parse_datetimes(values: pd.Series, *, unix_timezone: str = "Asia/Shanghai") -> tuple[pd.Series, pd.Series, pd.Series]:
    """Date or date-time text in mixed formats → naive local ``datetime64[s]``; plus the format label and ``bad`` mask.

    Formats, told apart per value: ``2025-04-05``, ``2025/4/5``, ``2025.4.5``, ``2025年4月5日`` (each optionally with
    ``HH:MM[:SS]``), ``20250405``, Excel serial days (``45752``, with a fraction for the time), Unix seconds (10 digits)
    and milliseconds (13 digits; both UTC, converted to ``unix_timezone`` local time). Impossible dates (Feb 30) and
    day-first forms such as ``05/04/2025`` (ambiguous) are bad.

    >>> import pandas as pd
    >>> when, fmt, bad = parse_datetimes(pd.Series(["2025-04-05", "2025/4/5", "2025年4月5日", "45752", "31/12/2025"]))
    >>> when.dt.strftime("%Y-%m-%d").tolist()[:4], fmt.tolist(), bad.tolist()
    (['2025-04-05', '2025-04-05', '2025-04-05', '2025-04-05'], ['iso', 'slash', 'chinese', 'excel_serial', nan], [False, False, False, False, True])
    """
    text = _as_text(values)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[s]")
    fmt = pd.Series(pd.NA, index=text.index, dtype="str")

    ymd = text.str.extract(_YMD)
    is_ymd = ymd["year"].notna()
    if is_ymd.any():
        parsed = _from_parts(ymd[is_ymd])
        result[is_ymd] = parsed.astype("datetime64[s]")
        sep = text[is_ymd].str.slice(4, 5)
        fmt[is_ymd] = np.select([sep == "-", sep == "/", sep == "年", sep == "."], ["iso", "slash", "chinese", "dot"],
                                "iso")
    compact = text.str.extract(_COMPACT)
    is_compact = compact["year"].notna()
    if is_compact.any():
        result[is_compact] = _from_parts(compact[is_compact]).astype("datetime64[s]")
        fmt[is_compact] = "compact"
    numeric = text.str.fullmatch(r"\d+(\.\d+)?") & ~is_compact & ~is_ymd
    number = pd.to_numeric(text.where(numeric, None), errors="coerce")
    serial = numeric & number.between(1, 2_958_465) & (text.str.split(".").str[0].str.len() <= 5)
    if serial.any():
        days = number[serial]
        seconds = (days * 86_400).round().astype("int64")
        result[serial] = (EXCEL_EPOCH + pd.to_timedelta(seconds, unit="s")).astype("datetime64[s]")
        fmt[serial] = "excel_serial"
    for label, digits, unit in (("unix_seconds", (9, 10), "s"), ("unix_millis", (12, 13), "ms")):
        mask = numeric & text.str.len().between(*digits) & ~text.str.contains(".", regex=False)
        if mask.any():
            utc = pd.to_datetime(number[mask].astype("int64"), unit=unit, utc=True)
            result[mask] = utc.dt.tz_convert(unix_timezone).dt.tz_localize(None).astype("datetime64[s]")
            fmt[mask] = label
    empty = text == ""
    bad = ~empty & result.isna()
    fmt = fmt.where(~bad)
    return result, fmt, bad


def parse_time_of_day(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``HH:MM[:SS]`` (also ``14时05分``, full-width digits) → ``timedelta64``; plus the ``bad`` mask.

    >>> import pandas as pd
    >>> parse_time_of_day(pd.Series(["13:42:30", "9:05", "25:00"]))[1].tolist()
    [False, False, True]
    """
    text = _as_text(values)
    parts = text.str.extract(r"^(?P<h>\d{1,2})[:时](?P<m>\d{1,2})(?:[:分](?P<s>\d{1,2})秒?)?$")
    numbers = parts.apply(pd.to_numeric, errors="coerce")
    valid = parts["h"].notna() & numbers["h"].le(23) & numbers["m"].le(59) & numbers["s"].fillna(0).le(59)
    seconds = (numbers["h"] * 3600 + numbers["m"] * 60 + numbers["s"].fillna(0)).where(valid)
    delta = pd.to_timedelta(seconds, unit="s")
    bad = (text != "") & ~valid
    return delta, bad


# --------------------------------------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------------------------------------
PHONE_STATUSES = ("valid", "masked", "invalid", "missing")


def normalize_phones(values: pd.Series) -> pd.DataFrame:
    """Normalise and validate mainland-China mobile numbers.

    Spaces, dashes, dots, brackets and a ``+86``/``0086``/``86`` country prefix are removed; a valid mobile is 11 digits
    starting ``1[3-9]``. Masked numbers such as ``154****5678`` are recognised and kept masked: they are not unique, so
    they never link records.

    Returns
    -------
    DataFrame
        ``phone`` (11 digits or <NA>), ``phone_masked`` (display form, e.g. ``154****5678``, or <NA>) and
        ``phone_status`` (``valid``, ``masked``, ``invalid`` or ``missing``), on the input's index.

    Examples
    --------
    >>> import pandas as pd
    >>> out = normalize_phones(pd.Series(["+86 154 1234 5678", "154-1234-5678", "154****5678", "12345", ""]))
    >>> out["phone_status"].tolist()
    ['valid', 'valid', 'masked', 'invalid', 'missing']
    >>> out["phone_masked"].tolist()[:3]
    ['154****5678', '154****5678', '154****5678']
    """
    text = _as_text(values)
    compact = text.str.replace(r"[\s\-().]", "", regex=True)
    compact = compact.str.replace(r"^(\+86|0086|86(?=1\d{10}$))", "", regex=True)
    valid = compact.str.fullmatch(r"1[3-9]\d{9}")
    masked = ~valid & compact.str.fullmatch(r"1\d{2}\*{3,5}\d{4}")
    missing = text == ""
    status = np.select([valid, masked, missing], ["valid", "masked", "missing"], "invalid")
    phone = compact.where(valid).astype("str")
    shown = pd.Series(pd.NA, index=text.index, dtype="str")
    shown[valid] = compact[valid].str.slice(0, 3) + "****" + compact[valid].str.slice(-4)
    shown[masked] = compact[masked].str.slice(0, 3) + "****" + compact[masked].str.slice(-4)
    return pd.DataFrame({"phone": phone, "phone_masked": shown, "phone_status": pd.Series(status, index=text.index,
                                                                                            dtype="str")})
