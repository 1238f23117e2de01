"""Privacy helpers (隐私保护): keyed pseudonyms for ids, display masking for phones, a phone scrubber for exports.

Two different tools for two different jobs:

- **Pseudonymisation** (假名化) replaces an identifier (a phone number, a unionid) with a keyed code such as
  ``P-3f9a-0c1d-2e4b``: HMAC-SHA256 of the value under a secret key, truncated. The same value and key always give the
  same code, so tables can still be joined on it; without the key nobody can go back to the phone number, and nobody
  can test guesses either (which a plain, unkeyed hash would allow: there are only ~10⁹ mobile numbers).
- **Masking** (脱敏显示) keeps a phone recognisable to a person: ``138****5678``. It is for display only; masked
  phones are not unique and never used to link records.

Where the key comes from, in order:

1. the ``key`` argument (e.g. from a config file your IT department manages);
2. the environment variable ``OPSKIT_PSEUDONYM_KEY``;
3. otherwise a **random per-process key**, with a one-time warning: pseudonyms are then *not stable across sessions*
   (a restarted kernel gives different codes), which is safe but cannot be joined with yesterday's export.

For the course notebooks only, :data:`DEMO_KEY` is a published, non-secret key that the notebook passes explicitly
(``Pseudonymizer.demo()``), so that stored outputs are reproducible. Never use it for real customer data.

Examples
--------
>>> from opskit.privacy import Pseudonymizer, mask_phone
>>> p = Pseudonymizer("my-secret")
>>> p("15412345678")
'P-4243-f687-5ab5'
>>> mask_phone("+86 154-1234-5678")
'154****5678'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import warnings
from typing import Any

import numpy as np
import pandas as pd

from opskit.i18n import Text

KEY_ENV = "OPSKIT_PSEUDONYM_KEY"
DEMO_KEY = "opskit-course-demo-key-NOT-SECRET"
"""Course-only key, published in this source file: gives reproducible pseudonyms in the course notebooks. Not secret,
so it protects nothing: never use it on real customer data."""

MOBILE = re.compile(r"1[3-9]\d{9}")
"""A mainland-China mobile number: 11 digits starting 13–19."""
# Any 11-digit mobile number inside text, not part of a longer digit run (order ids, timestamps).
PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Phones typed with separators, e.g. "+86 154 1234 5678" or "154-1234-5678", inside free text.
_SPACED_PHONE_IN_TEXT = re.compile(r"(?<![\d])(?:\+?86[\s-]?)?1[3-9]\d[\s-]\d{4}[\s-]\d{4}(?!\d)")
_MASKED = re.compile(r"1\d{2}\*{4}\d{4}")

_process_key: bytes | None = None
_warned = False


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


def _resolve_key(key: str | bytes | None) -> bytes:
    global _process_key, _warned
    if key is not None:
        raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if not raw:
            raise _error("假名化密钥不能为空", "the pseudonymisation key must not be empty")
        return raw
    env = os.environ.get(KEY_ENV, "")
    if env:
        return env.encode("utf-8")
    if _process_key is None:
        _process_key = secrets.token_bytes(32)
    if not _warned:
        _warned = True
        warnings.warn(
            str(Text(
                f"未设置假名化密钥 ({KEY_ENV}): 本次使用随机密钥, 假名在重启后会变化, 不能跨会话关联",
                f"no pseudonymisation key set ({KEY_ENV}): using a random key for this session; pseudonyms change "
                "after a restart and cannot be joined across sessions",
            )),
            UserWarning,
            stacklevel=3,
        )
    return _process_key


class Pseudonymizer:
    """Keyed pseudonyms: ``prefix`` + the first ``length`` hex digits of HMAC-SHA256(key, value), in groups of 4.

    The grouping keeps codes readable and guarantees no code contains 11 digits in a row (which phone scanners, such
    as the course's stored-output check, would flag).

    Parameters
    ----------
    key : str or bytes, optional
        The secret. Default: ``$OPSKIT_PSEUDONYM_KEY``, else a random per-process key (with a one-time warning).
    prefix : str, default ``"P-"``
    length : int, default 12
        Hex digits kept (12 hex digits = 48 bits: collisions are negligible below millions of ids).

    Examples
    --------
    >>> import pandas as pd
    >>> p = Pseudonymizer("my-secret")
    >>> p(pd.Series(["15412345678", None])).tolist()
    ['P-4243-f687-5ab5', None]
    """

    def __init__(self, key: str | bytes | None = None, *, prefix: str = "P-", length: int = 12) -> None:
        if not 8 <= int(length) <= 64:
            raise _error(f"length 应在 8 到 64 之间, 你的是 {length}", f"length must be 8..64, got {length}")
        self._key = _resolve_key(key)
        self.prefix = str(prefix)
        self.length = int(length)

    @classmethod
    def demo(cls, **options: Any) -> "Pseudonymizer":
        """The course-only pseudonymizer with the published :data:`DEMO_KEY` (reproducible, not secret)."""
        return cls(DEMO_KEY, **options)

    def __repr__(self) -> str:  # never show the key
        return f"Pseudonymizer(prefix={self.prefix!r}, length={self.length})"

    def one(self, value: Any) -> str | None:
        """Pseudonym of one value; ``None`` for missing or empty values."""
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return None
        text = str(value).strip()
        if not text:
            return None
        digest = hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()[: self.length]
        # Groups of 4 hex digits: a code can never contain a run of 11 digits that looks like a phone number.
        return self.prefix + "-".join(digest[i : i + 4] for i in range(0, self.length, 4))

    def __call__(self, values: Any) -> Any:
        """Pseudonymise a scalar, a list or a Series (each distinct value hashed once)."""
        if isinstance(values, pd.Series):
            codes = pd.unique(values.dropna())
            lookup = {v: self.one(v) for v in codes}
            mapped = values.map(lookup)
            return mapped.astype(object).where(mapped.notna(), None).rename(values.name)
        if isinstance(values, (list, tuple, np.ndarray, pd.Index)):
            return [self.one(v) for v in values]
        return self.one(values)


def pseudonymize(values: Any, key: str | bytes | None = None, *, prefix: str = "P-", length: int = 12) -> Any:
    """Shortcut for ``Pseudonymizer(key, prefix=prefix, length=length)(values)``.

    >>> pseudonymize("15412345678", key="my-secret")
    'P-4243-f687-5ab5'
    """
    return Pseudonymizer(key, prefix=prefix, length=length)(values)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def mask_phone(value: Any) -> Any:
    """Display mask for phone numbers: ``138****5678`` (first 3 and last 4 digits).

    Accepts a scalar or a Series. Formatting (``+86``, spaces, dashes) is removed first. Already masked values are kept;
    other non-empty values keep only their last 2 digits (``*******78``), so no full number ever shows. Missing stays
    missing.

    >>> mask_phone("154 1234 5678"), mask_phone("154****5678"), mask_phone("12345")
    ('154****5678', '154****5678', '***45')
    """
    if isinstance(value, pd.Series):
        uniques = pd.unique(value.dropna())
        lookup = {v: mask_phone(v) for v in uniques}
        mapped = value.map(lookup)
        return mapped.astype(object).where(mapped.notna(), None).rename(value.name)
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return ""
    if _MASKED.fullmatch(text.replace(" ", "")):
        return text.replace(" ", "")
    digits = _digits(text)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if not digits:
        return "*" * min(len(text), 11)
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_phones_in_text(text: str) -> str:
    """Mask every mobile number written inside free text (``…call 15412345678…`` → ``…call 154****5678…``).

    >>> mask_phones_in_text("客户 15412345678 / +86 154-1234-5678")
    '客户 154****5678 / 154****5678'
    """
    text = _SPACED_PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), str(text))
    return PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)


def redact_phones(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with every phone number masked in its text columns (or only in ``columns``).

    The safety net for exports: phone-like text anywhere (a remark, a raw field) is masked, not only in the phone
    column. Numbers stored as integers in an 11-digit phone range are masked too.

    >>> import pandas as pd
    >>> redact_phones(pd.DataFrame({"手机号": ["15412345678"], "备注": ["回电 154-1234-5678"]})).iloc[0].tolist()
    ['154****5678', '回电 154****5678']
    """
    out = frame.copy()
    targets = list(out.columns) if columns is None else list(columns)
    for column in targets:
        values = out[column]
        if pd.api.types.is_integer_dtype(values.dtype):
            if values.between(13_000_000_000, 19_999_999_999).any():
                out[column] = values.astype(str).map(mask_phones_in_text)
            continue
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            text = values.astype(object)
            present = text.notna()
            if present.any():
                masked = text[present].astype(str).map(mask_phones_in_text)
                changed = masked != text[present].astype(str)
                if changed.any():
                    out[column] = text.where(~present, masked.reindex(text.index))
    return out


def find_phones(text: str) -> list[str]:
    """Every unmasked mobile number in ``text`` (for tests and export checks)."""
    return PHONE_IN_TEXT.findall(str(text)) + _SPACED_PHONE_IN_TEXT.findall(str(text))


def assert_no_phones(obj: Any, where: str = "output") -> None:
    """Raise ``ValueError`` if ``obj`` (text, DataFrame or anything with a text form) contains a raw mobile number.

    >>> assert_no_phones("154****5678 is masked")
    """
    if isinstance(obj, pd.DataFrame):
        text = obj.to_csv(index=False)
    else:
        text = str(obj)
    found = find_phones(text)
    if found:
        shown = ", ".join(sorted({mask_phone(f) for f in found})[:5])
        raise _error(f"{where} 中含有未脱敏的手机号: {shown}", f"{where} contains unmasked phone numbers: {shown}")
