"""opskit.collect: reading exports in any encoding, value parsing, cleaning rules, identity links and row accounting."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pandas as pd
import pytest

import opskit.datasets as ds
from opskit.collect import (
    Source,
    TestOrderRule,
    collect_exports,
    decode_bytes,
    link_identities,
    map_headers,
    normalize_phones,
    parse_count,
    parse_datetimes,
    parse_money,
    read_export,
    reconcile,
)
from opskit.datasets.messy import scope_transactions
from opskit.privacy import PHONE_IN_TEXT, Pseudonymizer

MESSY = {"pos_export.csv": "pos", "online_shop_export.csv": "mini_program", "wechat_export.csv": "wecom_group"}
POS_HEADER = "订单号,会员卡号,手机号,消费日期,消费时间,门店,件数,实收金额,备注\n"


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def members():
    return ds.load_members()


@pytest.fixture(scope="module")
def stores():
    return ds.load_stores()


@pytest.fixture(scope="module")
def result(members, stores):
    paths = {ds.messy_path(name): channel for name, channel in MESSY.items()}
    before = {p: _sha(p) for p in paths}
    out = collect_exports(paths, members=members, stores=stores, as_of="2025-06-30",
                          pseudonymizer=Pseudonymizer("test-key"))
    assert {p: _sha(p) for p in paths} == before, "reading must not modify the exports"
    return out


@pytest.fixture(scope="module")
def defects():
    return json.loads(ds.messy_path("defects.json").read_text(encoding="utf-8"))


def _write(tmp_path, name: str, text: str, encoding: str = "utf-8") -> "os.PathLike":
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _pos_file(tmp_path, rows: list[str], name: str = "pos.csv", encoding: str = "gbk"):
    return _write(tmp_path, name, POS_HEADER + "".join(r + "\n" for r in rows), encoding)


# --------------------------------------------------------------------------------------------------------------------
# The messy course exports: the full pipeline recovers the canonical scope exactly
# --------------------------------------------------------------------------------------------------------------------
def test_messy_exports_reproduce_the_canonical_transactions_exactly(result, defects):
    truth = scope_transactions(ds.load_transactions())
    table = reconcile(result.transactions, truth)
    assert (table["ok"] == "✓").all(), table.to_string()
    assert len(result.transactions) == defects["scope"]["canonical_rows"]
    assert result.transactions["amount"].sum() == pytest.approx(defects["scope"]["canonical_amount"], abs=0.005)
    assert list(result.transactions.columns) == list(ds.load_transactions().columns)
    assert dict(result.transactions.dtypes.astype(str)) == dict(ds.load_transactions().dtypes.astype(str))


def test_reconcile_notices_a_difference(result):
    truth = scope_transactions(ds.load_transactions())
    changed = result.transactions.copy()
    changed.loc[5, "amount"] += 0.01
    table = reconcile(changed, truth).set_index("column")
    assert table.loc["amount", "ok"] == "✗" and table.loc["amount", "matched"] == len(truth) - 1
    assert table.loc["order_id", "ok"] == "✓"
    short = reconcile(result.transactions.iloc[:-1], truth).set_index("column")
    assert short.loc["rows", "ok"] == "✗"


def test_every_file_balances_and_counts_match_the_defect_manifest(result, defects):
    report = result.report
    summary = report.summary.set_index("file")
    for name in MESSY:
        line = summary.loc[name]
        assert line["rows_in"] == defects["files"][name]["data_rows"]
        assert line["rows_in"] == line["kept"] + line["merged"] + line["quarantined"], name
        assert line["kept"] == defects["files"][name]["canonical_rows"]
        assert line["balanced"] == "✓"
    assert report.is_balanced()
    report.check()
    pos = defects["files"]["pos_export.csv"]["defects"]
    reasons = report.reasons.set_index(["file", "reason"])["rows"]
    assert reasons[("pos_export.csv", "double_upload")] == pos["double_upload_block"]["rows"]
    assert reasons[("pos_export.csv", "test_order")] == sum(pos["test_orders"].values())
    assert reasons[("online_shop_export.csv", "duplicate")] == \
        defects["files"]["online_shop_export.csv"]["defects"]["duplicate_rows"]
    first_dup = report.merged[report.merged["reason"] == "double_upload"]["order_id"].iloc[0]
    assert first_dup == pos["double_upload_block"]["first_order_id"]


def test_merged_rows_point_at_an_identical_kept_row(result):
    merged = result.report.merged
    raw = read_export(ds.messy_path("pos_export.csv")).frame
    pos = merged[merged["file"] == "pos_export.csv"]
    for row, original in zip(pos["row"].head(5), pos["duplicate_of"].head(5)):
        assert row > original
        assert raw.iloc[row - 2].tolist() == raw.iloc[original - 2].tolist()


def test_identity_conflicts_are_reported_with_the_card_kept(result, defects):
    conflicts = result.identity.conflicts
    expected = defects["files"]["pos_export.csv"]["defects"]["identity_conflicts"]
    assert sorted(conflicts["cards"]) == sorted(" | ".join(c["cards"]) for c in expected)
    for conflict in expected:
        line = conflicts[conflicts["cards"] == " | ".join(conflict["cards"])].iloc[0]
        row = result.lineage[(result.lineage["order_id"] == conflict["row_order_id"])].iloc[0]
        assert row["member_card"] == row["customer_id"]  # the scanned card wins for that row
        assert line["kept_with"] != row["customer_id"]  # the phone stays with its owner
        assert line["source"] == "pos_export.csv" and line["row"] == row["row"]
    assert not PHONE_IN_TEXT.search(conflicts.to_csv())


def test_identity_map_says_which_keys_matched(result):
    keys = result.identity.keys
    assert set(keys["key_type"]) == {"member_card", "phone", "unionid", "openid", "shop_uid"}
    online = keys[keys["key_type"] == "shop_uid"]
    assert online["matched_via"].str.startswith("phone ").all()  # the shop's own id is linked through the phone
    phones = keys[keys["key_type"] == "phone"]
    assert phones["key"].str.fullmatch(r"154\*{4}\d{4} · P-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}").all()
    assert not PHONE_IN_TEXT.search(keys.to_csv())
    # every customer of the result has at most one member card
    cards = keys[keys["key_type"] == "member_card"].groupby("customer_id").size()
    assert cards.max() == 1


def test_outputs_and_exports_hold_no_raw_phone(result, tmp_path):
    report = result.report
    texts = [report.to_json(), report._repr_html_(), repr(report), result.lineage.to_csv(),
             result.identity.keys.to_csv(), result.identity.conflicts.to_csv()]
    for table in ("summary", "reasons", "quarantine", "merged", "notes", "conflicts"):
        path = report.to_csv(tmp_path / f"{table}.csv", table=table)
        texts.append(path.read_text(encoding="utf-8-sig"))
    report.to_json(tmp_path / "report.json")
    texts.append((tmp_path / "report.json").read_text(encoding="utf-8"))
    for text in texts:
        assert not PHONE_IN_TEXT.search(text), PHONE_IN_TEXT.search(text)
    assert json.loads(report.to_json())["balanced"] is True
    quarantine = pd.read_csv(tmp_path / "quarantine.csv", encoding="utf-8-sig", dtype=str)
    assert len(quarantine) == 12 and quarantine["raw"].str.contains("154\\*\\*\\*\\*", regex=True).any()


def test_text_repr_is_deterministic_and_html_shows_the_table(result, members, stores):
    again = collect_exports({ds.messy_path(n): c for n, c in MESSY.items()}, members=members, stores=stores,
                            as_of="2025-06-30")
    assert repr(again.report) == repr(result.report)
    assert "0x" not in repr(result.report)
    html = result.report._repr_html_()
    assert "<table" in html and "pos_export.csv" in html and "✓" in html


# --------------------------------------------------------------------------------------------------------------------
# Reading: encodings and formats
# --------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"),
                                                ("gb18030", "gb18030")])
def test_reads_common_encodings(tmp_path, encoding, expected):
    path = _pos_file(tmp_path, ["O1,M000001,,2025-04-05,10:00:00,上海徐汇店,1,\"￥1,299.00\","], encoding=encoding)
    raw = read_export(path)
    assert raw.encoding == expected
    assert raw.frame.columns[0] == "订单号" and raw.frame.iloc[0]["门店"] == "上海徐汇店"


def test_charset_normalizer_fallback_and_given_encoding(tmp_path):
    text = "order_id,date,amount,note\n" + "O1,2025-04-05,12.00,café crème brûlée\n" * 3
    path = _write(tmp_path, "latin.csv", text, "cp1252")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("gb18030")
    raw = read_export(path)  # neither UTF-8 nor GB18030: charset-normalizer guesses a single-byte Latin code page
    assert raw.encoding not in ("utf-8", "utf-8-sig", "gb18030")
    assert raw.frame["note"].iloc[0].startswith("café cr") and raw.frame.shape == (3, 4)
    given = read_export(path, encoding="cp1252")
    assert given.encoding == "cp1252" and given.frame["note"].iloc[0] == "café crème brûlée"


def test_unknown_or_wrong_encoding_is_a_clear_error(tmp_path):
    path = _pos_file(tmp_path, ["O1,,,2025-04-05,10:00:00,上海徐汇店,1,￥12.00,"])
    before = _sha(path)
    with pytest.raises(ValueError, match="klingon"):
        read_export(path, encoding="klingon")
    with pytest.raises(ValueError, match="utf-8"):
        read_export(path, encoding="utf-8")
    assert _sha(path) == before


def test_xlsx_is_read_with_numbers_and_dates_as_text(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["订单号", "手机号", "消费日期", "实收金额", "件数"])
    sheet.append(["O1", 15412345678, pd.Timestamp("2025-04-05 10:30:00").to_pydatetime(), 1299.5, 2])
    path = tmp_path / "export.xlsx"
    book.save(path)
    raw = read_export(path)
    assert raw.encoding == "xlsx"
    assert raw.frame.iloc[0].tolist() == ["O1", "15412345678", "2025-04-05 10:30:00", "1299.5", "2"]
    out = collect_exports([Source(path, "pos")], as_of="2025-06-30")
    assert out.transactions["amount"].tolist() == [1299.5]
    assert out.transactions["order_time"].iloc[0] == pd.Timestamp("2025-04-05 10:30:00")


# --------------------------------------------------------------------------------------------------------------------
# Bad input: each a clear error (or a quarantine naming row and value), the file never modified
# --------------------------------------------------------------------------------------------------------------------
def test_missing_required_column_names_file_headers_and_suggestions(tmp_path):
    path = _write(tmp_path, "shop.csv", "订单号,消费日起,实收金额\nO1,2025-04-05,12.00\n")
    before = _sha(path)
    with pytest.raises(ValueError) as info:
        collect_exports({path: "pos"})
    message = str(info.value)
    assert "shop.csv" in message and "消费日起" in message and "order_date" in message
    assert "消费日期 → order_date" in message  # difflib suggestion from the alias table
    assert _sha(path) == before


def test_user_mapping_extends_the_alias_table(tmp_path):
    path = _write(tmp_path, "shop.csv", "单据,营业日,收款\nO1,2025-04-05,12.00\n")
    out = collect_exports([Source(path, "pos", mapping={"单据": "order_id", "营业日": "order_date",
                                                        "收款": "amount"})], as_of="2025-06-30")
    assert out.transactions["order_id"].tolist() == ["O1"]
    with pytest.raises(ValueError, match="unknown field"):
        map_headers(["单据"], {"单据": "orderid"})


def test_two_headers_for_one_field_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="实收金额.*实付金额|both map to amount"):
        map_headers(["订单号", "日期", "实收金额", "实付金额"], source="x.csv")


def test_empty_file(tmp_path):
    for content in (b"", b"\xef\xbb\xbf", b"\n  \n"):
        path = tmp_path / "empty.csv"
        path.write_bytes(content)
        with pytest.raises(ValueError, match="empty"):
            read_export(path)
        assert path.read_bytes() == content


def test_not_a_table(tmp_path):
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    binary = tmp_path / "random.csv"
    binary.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    for path, kind in ((png, "PNG"), (binary, "not a table")):
        before = _sha(path)
        with pytest.raises(ValueError, match=kind):
            read_export(path)
        assert _sha(path) == before


@pytest.mark.parametrize("name, content", [("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
                                           ("sheet.numbers", b"PK\x03\x04" + b"\x00" * 100),
                                           ("renamed.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)])
def test_xls_and_numbers_say_save_as_xlsx_or_csv(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"(?i)save as \.xlsx or CSV"):
        read_export(path)
    assert path.read_bytes() == content


def test_junk_amount_is_quarantined_with_row_and_value(tmp_path):
    path = _pos_file(tmp_path, [
        "O1,,,2025-04-05,10:00:00,上海徐汇店,1,￥100.00,",
        "O2,,,2025-04-05,11:00:00,上海徐汇店,1,约一百元,",
        "O3,,,2025-04-05,12:00:00,上海徐汇店,1,,",
    ])
    before = _sha(path)
    out = collect_exports({path: "pos"}, stores=ds.load_stores(), as_of="2025-06-30")
    quarantine = out.report.quarantine.set_index("order_id")
    assert quarantine.loc["O2", "reason"] == "bad_amount"
    assert quarantine.loc["O2", "row"] == 3 and quarantine.loc["O2", "column"] == "实收金额"
    assert quarantine.loc["O2", "value"] == "约一百元"
    assert quarantine.loc["O3", "reason"] == "missing_amount"
    assert out.transactions["order_id"].tolist() == ["O1"]
    out.report.check()
    assert _sha(path) == before


def test_mixed_date_formats_in_one_column(tmp_path):
    path = _pos_file(tmp_path, [
        "O1,,,2025-04-05,10:00:00,上海徐汇店,1,￥1.00,",
        "O2,,,2025/4/5,10:00:00,上海徐汇店,1,￥1.00,",
        "O3,,,2025年4月5日,10:00:00,上海徐汇店,1,￥1.00,",
        "O4,,,45752,10:00:00,上海徐汇店,1,￥1.00,",
        "O5,,,２０２５-０４-０５,10:00:00,上海徐汇店,1,￥1.00,",
        "O6,,,05/04/2025,10:00:00,上海徐汇店,1,￥1.00,",
        "O7,,,2025-02-30,10:00:00,上海徐汇店,1,￥1.00,",
    ])
    out = collect_exports({path: "pos"}, as_of="2025-06-30")
    assert out.transactions["order_id"].tolist() == ["O1", "O2", "O3", "O4", "O5"]
    assert (out.transactions["order_time"] == pd.Timestamp("2025-04-05 10:00:00")).all()
    bad = out.report.quarantine.set_index("order_id")
    assert bad.loc["O6", "reason"] == "bad_date" and bad.loc["O6", "value"] == "05/04/2025"
    assert bad.loc["O7", "reason"] == "bad_date" and bad.loc["O7", "row"] == 8


def test_future_dates_impossible_values_and_test_orders(tmp_path):
    path = _pos_file(tmp_path, [
        "O1,,,2025-04-05,10:00:00,上海徐汇店,1,￥100.00,",
        "O2,,,2025-07-02,10:00:00,上海徐汇店,1,￥100.00,",     # after as_of
        "O3,,,1900-01-05,10:00:00,上海徐汇店,1,￥100.00,",     # implausibly old
        "O4,,,2025-04-05,10:00:00,上海徐汇店,-1,￥100.00,",    # opposite signs, no return marker
        "O5,,,2025-04-05,10:00:00,上海徐汇店,0,￥100.00,",     # zero units
        "O6,,,2025-04-05,10:00:00,火星店,1,￥100.00,",         # unknown store
        "O7,,,2025-04-05,10:00:00,上海徐汇店,1,￥0.01,",       # test amount
        "O8,,,2025-04-05,10:00:00,上海徐汇店,1,￥10.00,Test",  # test remark
        "O9,,,2025-04-05,10:00:00,上海徐汇店,-1,-￥50.00,退货",
        "O10,,,2025-04-05,10:00:00,上海徐汇店,1,￥5000000.00,",  # beyond the plausible range
        "O11,,,2025-04-05,25:00:00,上海徐汇店,1,￥5.00,",
    ])
    out = collect_exports({path: "pos"}, stores=ds.load_stores(), as_of="2025-06-30")
    reasons = out.report.quarantine.set_index("order_id")["reason"].to_dict()
    assert reasons == {"O2": "future_date", "O3": "too_old", "O4": "sign_mismatch", "O5": "zero_units",
                       "O6": "unknown_store", "O7": "test_order", "O8": "test_order", "O10": "too_large",
                       "O11": "bad_time"}
    kept = out.transactions.set_index("order_id")
    assert kept.loc["O9", "kind"] == "return" and kept.loc["O9", "amount"] == -50.0 and kept.loc["O9", "units"] == -1
    # the rule is configurable: without the amount part, O7 is an ordinary sale
    relaxed = collect_exports({path: "pos"}, stores=ds.load_stores(), as_of="2025-06-30",
                              test_rule=TestOrderRule(amounts=()))
    assert "O7" in set(relaxed.transactions["order_id"])


def test_same_event_in_another_format_is_merged_not_kept_twice(tmp_path):
    path = _pos_file(tmp_path, [
        "O1,M000001,,2025-04-05,10:00:00,上海徐汇店,1,￥100.00,",
        "O1,M000001,,45752,10:00:00,上海徐汇店,1,100,",
        "O2,M000001,,2025-04-05,10:00:00,上海徐汇店,1,￥100.00,",
    ])
    out = collect_exports({path: "pos"}, as_of="2025-06-30")
    assert out.transactions["order_id"].tolist() == ["O1", "O2"]
    merged = out.report.merged
    assert merged[["row", "reason", "duplicate_of"]].values.tolist() == [[3, "duplicate", 2]]


def test_online_refunds_are_negated_and_wechat_fen_converted(tmp_path):
    online = _write(tmp_path, "shop.csv", "order_no,mobile,event_time,store_code,qty,paid_amount,status\n"
                    "O1, +86 154 1234 5678 ,2025-04-05 10:00:00,S01,2,300.00,paid\n"
                    "O1,154-1234-5678,2025-04-06 10:00:00,S01,1,100.00,refunded\n"
                    "O2,154****5678,2025-04-06 10:00:00,S01,1,100.00,cancelled\n")
    we = _write(tmp_path, "we.csv", "order_id,unionid,member_card,created_at,units,amount_fen,event\n"
                "W1,u1,M000009,1743818400,1,18396,pay\nW2,u1,,1743904800,-1,-5000,refund\n")
    out = collect_exports({online: "mini_program", we: "wecom_group"}, as_of="2025-06-30")
    tx = out.transactions.set_index(["order_id", "kind"])
    assert tx.loc[("O1", "return"), "amount"] == -100.0 and tx.loc[("O1", "return"), "units"] == -1
    assert tx.loc[("W1", "sale"), "amount"] == 183.96
    assert tx.loc[("W1", "sale"), "order_time"] == pd.Timestamp("2025-04-05 10:00:00")  # UTC+8
    assert tx.loc[("W2", "return"), "customer_id"] == "M000009"  # linked through the unionid
    assert tx.loc[("O1", "sale"), "customer_id"] == tx.loc[("O1", "return"), "customer_id"]
    assert tx.loc[("O1", "sale"), "customer_id"].startswith("G")  # a phone without a card: a guest id
    q = out.report.quarantine
    assert q[["order_id", "reason", "value"]].values.tolist() == [["O2", "unknown_status", "cancelled"]]


# --------------------------------------------------------------------------------------------------------------------
# Parsers and identity, unit level
# --------------------------------------------------------------------------------------------------------------------
def test_parse_money_variants():
    cents, bad = parse_money(pd.Series(["￥1,299.00", "-￥459.00", "¥ 12", "１２３．４５", "(5.00)", "3元", "x1", "1.2.3"]))
    assert cents.tolist()[:6] == [129900, -45900, 1200, 12345, -500, 300]
    assert bad.tolist() == [False] * 6 + [True, True]


def test_parse_count_and_dates():
    counts, bad = parse_count(pd.Series(["1", "２", "-3", "1.5", "x"]))
    assert counts.tolist()[:3] == [1, 2, -3] and bad.tolist() == [False, False, False, True, True]
    when, fmt, bad = parse_datetimes(pd.Series(["1743818400", "1743818400000", "20250405", "2025.4.5 9:05"]))
    assert when.tolist() == [pd.Timestamp("2025-04-05 10:00"), pd.Timestamp("2025-04-05 10:00"),
                             pd.Timestamp("2025-04-05"), pd.Timestamp("2025-04-05 09:05")]
    assert fmt.tolist() == ["unix_seconds", "unix_millis", "compact", "dot"] and not bad.any()


def test_normalize_phones():
    out = normalize_phones(pd.Series(["+86 154 1234 5678", "0086-154-1234-5678", "8615412345678", "154****5678",
                                      "12345678901", "1541234567", "", "１５４１２３４５６７８"]))
    assert out["phone_status"].tolist() == ["valid", "valid", "valid", "masked", "invalid", "invalid", "missing",
                                            "valid"]
    assert out["phone"].dropna().unique().tolist() == ["15412345678"]
    assert out["phone_masked"].tolist()[3] == "154****5678"


def test_link_identities_transitive_and_conflicts():
    records = pd.DataFrame({
        "member_card": ["M1", None, None, "M2", None],
        "phone": ["15400000001", "15400000001", None, "15400000001", "15400000009"],
        "unionid": [None, "u1", "u1", None, None],
        "source": "x.csv", "row": [2, 3, 4, 5, 6],
    })
    linked = link_identities(records)
    assert linked.customer_id.tolist() == ["M1", "M1", "M1", "M2", "G000001"]
    assert linked.conflicts[["cards", "kept_with", "row"]].values.tolist() == [["M1 | M2", "M1", 5]]
    keys = linked.for_customer("M1").set_index("key_type")
    assert keys.loc["unionid", "matched_via"].startswith("phone 154****0001")
    assert keys.loc["unionid", "evidence"] == "x.csv:3"


def test_majority_wins_over_a_single_mistyped_row():
    # Without member data: the phone appears with M1 three times and once (mistyped) with M2.
    records = pd.DataFrame({"member_card": ["M2", "M1", "M1", "M1", None],
                            "phone": ["15400000001"] * 5})
    linked = link_identities(records)
    assert linked.customer_id.tolist() == ["M2", "M1", "M1", "M1", "M1"]
    assert linked.conflicts["kept_with"].tolist() == ["M1"]


def test_decode_bytes_prefers_the_strict_chain():
    assert decode_bytes("门店".encode("utf-8")) == ("门店", "utf-8")
    assert decode_bytes("门店".encode("gb18030")) == ("门店", "gb18030")


def test_a_large_export_is_collected_whole(tmp_path):
    # Correctness at size (speed belongs in benchmarks/): 50k rows in, 50k transactions out, report balanced.
    n = 50_000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "订单号": [f"O{i:08d}" for i in range(n)],
        "会员卡号": np.where(rng.random(n) < 0.5, [f"M{i % 9000:06d}" for i in range(n)], ""),
        "手机号": "",
        "消费日期": "2025-04-05",
        "消费时间": "10:00:00",
        "门店": "上海徐汇店",
        "件数": "1",
        "实收金额": "￥1,299.00",
        "备注": "",
    })
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    out = collect_exports({path: "pos"}, stores=ds.load_stores(), as_of="2025-06-30")
    assert len(out.transactions) == n
    out.report.check()
