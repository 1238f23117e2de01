"""opskit.privacy: keyed pseudonyms, key sources, display masks and the phone scrubber."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import opskit.privacy as privacy
from opskit.privacy import (
    DEMO_KEY,
    KEY_ENV,
    PHONE_IN_TEXT,
    Pseudonymizer,
    assert_no_phones,
    mask_phone,
    mask_phones_in_text,
    pseudonymize,
    redact_phones,
)


def test_pseudonyms_are_keyed_stable_and_prefixed():
    a, b = Pseudonymizer("key-a"), Pseudonymizer("key-b")
    assert a("15412345678") == Pseudonymizer("key-a")("15412345678")
    assert a("15412345678") != b("15412345678")
    assert a("15412345678") != a("15412345679")
    code = a("15412345678")
    assert code.startswith("P-") and len(code.replace("-", "")) == 1 + 12
    assert Pseudonymizer("k", prefix="C-", length=16)("x").count("-") == 4
    assert a(pd.Series(["15412345678", None, ""])).tolist() == [code, None, None]
    assert "key-a" not in repr(a)


def test_pseudonyms_never_look_like_phone_numbers():
    p = Pseudonymizer("scan")
    codes = p(pd.Series([f"154{i:08d}" for i in range(20_000)]))
    assert not codes.str.contains(PHONE_IN_TEXT.pattern[len("(?<!\\d)"):-len("(?!\\d)")], regex=True).any()


def test_key_from_environment(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "from-env")
    assert pseudonymize("x") == Pseudonymizer("from-env")("x")


def test_random_key_warns_once_and_demo_key_is_explicit(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setattr(privacy, "_warned", False)
    monkeypatch.setattr(privacy, "_process_key", None)
    with pytest.warns(UserWarning, match="not be joined across sessions|cannot be joined"):
        first = Pseudonymizer()("x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Pseudonymizer()("x") == first  # same process, same key, no second warning
    assert Pseudonymizer.demo()("x") == Pseudonymizer(DEMO_KEY)("x") != first
    with pytest.raises(ValueError, match="empty"):
        Pseudonymizer("")


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("138****5678") == "138****5678"
    assert mask_phone("12345") == "***45"
    assert mask_phone(None) is None
    masked = mask_phone(pd.Series(["15412345678", None], name="phone"))
    assert masked.tolist() == ["154****5678", None] and masked.name == "phone"


def test_redact_and_assert_no_phones():
    frame = pd.DataFrame({"phone": ["15412345678"], "note": ["call +86 154 1234 5678 today"], "n": [15412345678],
                          "order": ["O00063567"]})
    with pytest.raises(ValueError, match=r"154\*\*\*\*5678"):
        assert_no_phones(frame)
    clean = redact_phones(frame)
    assert_no_phones(clean)
    assert clean.iloc[0].tolist() == ["154****5678", "call 154****5678 today", "154****5678", "O00063567"]
    assert mask_phones_in_text("单号 O123456789012 时间 1743437429") == "单号 O123456789012 时间 1743437429"
