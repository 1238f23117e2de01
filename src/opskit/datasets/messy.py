"""Messy channel exports for lesson 01, made from the canonical transactions of one scope.

Scope: every sale and return event (rows of the canonical transactions) with ``order_time`` in 2025-04-01 ..
2025-06-30 (Q2 2025), all stores, split by channel: ``pos`` -> ``pos_export.csv`` (GBK, Chinese headers),
``mini_program`` -> ``online_shop_export.csv`` (UTF-8 with BOM), ``wecom_group`` -> ``wechat_export.csv`` (UTF-8).
The injected defects are counted in ``defects.json``. A correct cleaning recovers the scope exactly.

Examples
--------
>>> from opskit.datasets.simulate import simulate_chain
>>> from opskit.datasets.chain import transactions_from
>>> t = simulate_chain(seed=3, n_members=400)
>>> files, defects = make_messy_exports(t, transactions_from(t["orders"], t["order_lines"]), seed=3)
>>> sorted(files)
['online_shop_export.csv', 'pos_export.csv', 'wechat_export.csv']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCOPE_START = pd.Timestamp("2025-04-01")
SCOPE_END = pd.Timestamp("2025-07-01")  # exclusive
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (serial 45748 = 2025-04-01)
TEST_STORE = "测试门店"
TEST_ORDER_RULE = (
    "测试单: 备注含“测试”或“test”(不分大小写), 或 门店 = “测试门店”, 或 实收金额 = ￥0.01 / "
    "test order: 备注 contains 测试 or test (any case), or 门店 is 测试门店, or 实收金额 is exactly ￥0.01"
)
POS_COLUMNS = ["订单号", "会员卡号", "手机号", "消费日期", "消费时间", "门店", "件数", "实收金额", "备注"]
ONLINE_COLUMNS = ["order_no", "shop_uid", "mobile", "event_time", "store_code", "qty", "paid_amount", "status"]
WECHAT_COLUMNS = ["order_id", "openid", "unionid", "member_card", "phone_masked", "created_at", "units",
                  "amount_fen", "event"]
_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


def scope_transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    """The canonical rows the messy exports are made from (and that a correct cleaning must give back)."""
    t = transactions["order_time"]
    return transactions[(t >= SCOPE_START) & (t < SCOPE_END)].reset_index(drop=True)


def _yuan_text(cents: np.ndarray) -> list[str]:
    """Cents -> POS style money text: ``￥1,299.00`` and ``-￥459.00`` (GBK has no U+00A5, so the full-width ￥)."""
    return [f"{'-' if c < 0 else ''}￥{abs(c) // 100:,}.{abs(c) % 100:02d}" for c in cents.tolist()]


def _random_ids(rng: np.random.Generator, n: int, prefix: str, length: int) -> np.ndarray:
    chars = _ID_ALPHABET[rng.integers(0, len(_ID_ALPHABET), size=(n, length))]
    return np.array([prefix + "".join(row) for row in chars])


def _cents(amount: pd.Series) -> np.ndarray:
    return np.round(amount.to_numpy(dtype="float64") * 100).astype(np.int64)


def make_messy_exports(tables: dict[str, pd.DataFrame], transactions: pd.DataFrame, seed: int):
    """Build the three messy exports (as text frames) and the defect manifest.

    Returns
    -------
    files : dict of str to DataFrame
        All-string frames, in the row order they are written.
    defects : dict
        Scope definition and, per file, each defect kind with its count.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 101]))
    members = tables["members"]
    stores = tables["stores"]
    scope = scope_transactions(transactions)
    phone_of = dict(zip(members["customer_id"], members["phone"]))
    name_of = dict(zip(stores["store_id"], stores["store_name"]))

    pos, pos_defects = _pos_export(rng, scope[scope["channel"] == "pos"], phone_of, name_of, members)
    online, online_defects = _online_export(rng, scope[scope["channel"] == "mini_program"], phone_of)
    wechat, wechat_defects = _wechat_export(rng, scope[scope["channel"] == "wecom_group"], phone_of)
    defects = {
        "scope": {
            "definition": (
                "所有门店 2025-04-01 00:00:00 至 2025-06-30 23:59:59 的全部销售与退货事件 (标准交易表的行), 按渠道分文件 / "
                "every sale and return event (rows of the canonical transactions) with order_time in "
                "[2025-04-01, 2025-07-01), all stores; pos -> pos_export.csv, mini_program -> "
                "online_shop_export.csv, wecom_group -> wechat_export.csv"
            ),
            "start": "2025-04-01 00:00:00",
            "end_exclusive": "2025-07-01 00:00:00",
            "canonical_rows": int(len(scope)),
            "canonical_rows_by_channel": {c: int((scope["channel"] == c).sum()) for c in ("pos", "mini_program",
                                                                                          "wecom_group")},
            "canonical_amount": round(float(_cents(scope["amount"]).sum()) / 100, 2),
        },
        "test_order_rule": TEST_ORDER_RULE,
        "identity_keys": {
            "pos_export.csv": "会员卡号 = members.customer_id; 卡号为空时用 手机号 = members.phone",
            "online_shop_export.csv": "mobile (normalised to 11 digits) = members.phone; shop_uid is the shop's own id",
            "wechat_export.csv": "member_card = members.customer_id on bound rows; unionid links the unbound rows of "
                                 "the same person; phone_masked alone is ambiguous; no store column: online orders belong to the member's "
                                 "home store (members.join_store_id)",
        },
        "files": {
            "pos_export.csv": pos_defects,
            "online_shop_export.csv": online_defects,
            "wechat_export.csv": wechat_defects,
        },
    }
    return {"pos_export.csv": pos, "online_shop_export.csv": online, "wechat_export.csv": wechat}, defects


def _pos_export(rng, tx: pd.DataFrame, phone_of, name_of, members: pd.DataFrame):
    tx = tx.sort_values(["store_id", "order_time", "order_id", "kind"], ignore_index=True)
    n = len(tx)
    is_member = tx["customer_id"].notna().to_numpy()
    mode = rng.random(n)  # < 0.8: card and phone; < 0.9: card only; else phone only
    card = np.where(is_member & (mode < 0.9), tx["customer_id"].fillna("").to_numpy(), "")
    phone_full = np.array([phone_of.get(c, "") for c in tx["customer_id"].fillna("")], dtype=object)
    phone = np.where(is_member & ((mode < 0.8) | (mode >= 0.9)), phone_full, "")
    date = tx["order_time"].dt.normalize()
    fmt = rng.choice(4, size=n, p=[0.5, 0.2, 0.15, 0.15])
    iso = date.dt.strftime("%Y-%m-%d").to_numpy()
    slash = (date.dt.year.astype(str) + "/" + date.dt.month.astype(str) + "/" + date.dt.day.astype(str)).to_numpy()
    zh = (date.dt.year.astype(str) + "年" + date.dt.month.astype(str) + "月" + date.dt.day.astype(str) + "日").to_numpy()
    serial = ((date - EXCEL_EPOCH).dt.days).astype(str).to_numpy()
    date_text = np.select([fmt == 0, fmt == 1, fmt == 2], [iso, slash, zh], serial)
    is_return = (tx["kind"] == "return").to_numpy()
    frame = pd.DataFrame(
        {
            "订单号": tx["order_id"].to_numpy(),
            "会员卡号": card,
            "手机号": phone,
            "消费日期": date_text,
            "消费时间": tx["order_time"].dt.strftime("%H:%M:%S").to_numpy(),
            "门店": tx["store_id"].astype(str).map(name_of).to_numpy(),
            "件数": tx["units"].astype(str).to_numpy(),
            "实收金额": _yuan_text(_cents(tx["amount"])),
            "备注": np.where(is_return, "退货", ""),
        }
    )
    # Identity conflicts: a cashier typed another member's phone next to a scanned card (the card is right).
    conflicts = []
    both = np.flatnonzero((frame["会员卡号"] != "").to_numpy() & (frame["手机号"] != "").to_numpy())
    picks = rng.choice(both, size=min(2, len(both) // 2), replace=False)
    for row in np.sort(picks):
        owner = frame.at[row, "会员卡号"]
        others = members["customer_id"].to_numpy()
        other = others[rng.integers(0, len(others))]
        if other == owner:
            other = others[(np.flatnonzero(others == owner)[0] + 1) % len(others)]
        frame.at[row, "手机号"] = phone_of[other]
        conflicts.append({"row_order_id": frame.at[row, "订单号"], "phone": phone_of[other],
                          "cards": sorted([str(owner), str(other)]),
                          "resolution": "会员卡号优先 (卡是扫码的, 手机号是手输的) / the scanned card wins"})

    # Test orders, inserted at random places.
    test_kinds = ["备注测试"] * 4 + ["备注test"] * 3 + ["测试门店"] * 3 + ["金额0.01"] * 2
    n_test = len(test_kinds)
    test_ids = [f"O9{v:07d}" for v in np.sort(rng.choice(9_000_000, size=n_test, replace=False))]
    test_days = SCOPE_START + pd.to_timedelta(rng.integers(0, (SCOPE_END - SCOPE_START).days, n_test), unit="D")
    real_names = list(name_of.values())
    cards = members["customer_id"].to_numpy()
    tests = []
    for i, kind in enumerate(test_kinds):
        member = cards[rng.integers(0, len(cards))] if rng.random() < 0.5 else ""
        tests.append({
            "订单号": test_ids[i],
            "会员卡号": member,
            "手机号": phone_of[member] if member else "",
            "消费日期": test_days[i].strftime("%Y-%m-%d"),
            "消费时间": f"{int(rng.integers(9, 22)):02d}:{int(rng.integers(0, 60)):02d}:{int(rng.integers(0, 60)):02d}",
            "门店": TEST_STORE if kind == "测试门店" else real_names[int(rng.integers(0, len(real_names)))],
            "件数": "1",
            "实收金额": "￥0.01" if kind == "金额0.01" else _yuan_text(np.array([int(rng.integers(100, 99_900))]))[0],
            "备注": {"备注测试": "测试", "备注test": ["test", "TEST单", "Test order"][i % 3]}.get(kind, ""),
        })
    positions = np.sort(rng.choice(len(frame) + 1, size=n_test, replace=False))
    pieces, last = [], 0
    for pos_, test in zip(positions, tests):
        pieces.append(frame.iloc[last:pos_])
        pieces.append(pd.DataFrame([test]))
        last = pos_
    pieces.append(frame.iloc[last:])
    frame = pd.concat(pieces, ignore_index=True)

    # Double upload: one store's two days of rows appear twice in a row.
    ids_by_row = frame["订单号"].to_numpy()
    row_is_real = ~np.isin(ids_by_row, test_ids)
    start = int(rng.integers(0, max(len(frame) - 200, 1)))
    while not row_is_real[start]:
        start += 1
    block_len = int(rng.integers(25, 45))
    block = frame.iloc[start : start + block_len]
    n_test_in_block = int((~row_is_real[start : start + block_len]).sum())
    frame = pd.concat([frame.iloc[: start + block_len], block, frame.iloc[start + block_len :]], ignore_index=True)

    counts = {c: int(v) for c, v in zip(["iso", "slash", "chinese", "excel_serial"], np.bincount(fmt, minlength=4))}
    defects = {
        "encoding": "gbk",
        "data_rows": int(len(frame)),
        "canonical_rows": int(n),
        "defects": {
            "double_upload_block": {"rows": block_len, "first_order_id": str(block["订单号"].iloc[0]),
                                    "test_orders_inside": n_test_in_block},
            "test_orders": {k: test_kinds.count(k) for k in dict.fromkeys(test_kinds)},
            "date_formats": counts,
            "money_text": "￥1,299.00 / -￥459.00 (full-width ￥, thousands separators)",
            "returns": {"rows": int(is_return.sum()), "marker": "负金额与负件数, 备注 = 退货"},
            "walk_in_rows_without_ids": int((~is_member).sum()),
            "card_only_rows": int((is_member & (mode >= 0.8) & (mode < 0.9)).sum()),
            "phone_only_rows": int((is_member & (mode >= 0.9)).sum()),
            "store_as_name": "门店 holds the store name (stores.csv store_name), not the id",
            "identity_conflicts": conflicts,
        },
    }
    return frame, defects


def _format_phone(rng, phones: np.ndarray) -> tuple[np.ndarray, dict]:
    styles = rng.choice(5, size=len(phones), p=[0.3, 0.2, 0.2, 0.2, 0.1])
    out = []
    for phone, style in zip(phones.tolist(), styles.tolist()):
        a, b, c = phone[:3], phone[3:7], phone[7:]
        out.append([phone, f"+86 {a} {b} {c}", f"{a}-{b}-{c}", f"{a} {b} {c}", f" +86{phone} "][style])
    names = ["11_digits", "+86 with spaces", "dashes", "spaces", "+86 with padding spaces"]
    return np.array(out, dtype=object), {names[k]: int(v) for k, v in enumerate(np.bincount(styles, minlength=5))}


def _online_export(rng, tx: pd.DataFrame, phone_of):
    tx = tx.sort_values(["order_time", "order_id", "kind"], ignore_index=True)
    customers = np.unique(tx["customer_id"].to_numpy(dtype=object))
    uid_numbers = rng.choice(900_000_000, size=len(customers), replace=False) + 100_000_000
    uid_of = dict(zip(customers, [f"U{v}" for v in uid_numbers]))
    cid = tx["customer_id"].to_numpy(dtype=object)
    phones, phone_styles = _format_phone(rng, np.array([phone_of[c] for c in cid], dtype=object))
    refund = (tx["kind"] == "return").to_numpy()
    cents = np.abs(_cents(tx["amount"]))
    frame = pd.DataFrame(
        {
            "order_no": tx["order_id"].to_numpy(),
            "shop_uid": [uid_of[c] for c in cid],
            "mobile": phones,
            "event_time": tx["order_time"].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(),
            "store_code": tx["store_id"].astype(str).to_numpy(),
            "qty": np.abs(tx["units"].to_numpy()).astype(str),
            "paid_amount": [f"{c // 100}.{c % 100:02d}" for c in cents.tolist()],
            "status": np.where(refund, "refunded", "paid"),
        }
    )
    # A webhook retry wrote a few rows twice (each right after its original).
    dup_rows = np.sort(rng.choice(len(frame), size=min(6, len(frame)), replace=False))
    order = np.sort(np.concatenate([np.arange(len(frame)), dup_rows]), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    defects = {
        "encoding": "utf-8-sig",
        "data_rows": int(len(frame)),
        "canonical_rows": int(len(tx)),
        "defects": {
            "duplicate_rows": int(len(dup_rows)),
            "phone_formats": phone_styles,
            "refunds_positive_with_status": {"rows": int(refund.sum()),
                                             "rule": "status == refunded: qty and paid_amount are positive; negate"},
            "own_customer_ids": "shop_uid is the shop's id; link through mobile -> members.phone",
        },
    }
    return frame, defects


def _wechat_export(rng, tx: pd.DataFrame, phone_of):
    tx = tx.sort_values(["order_time", "order_id", "kind"], ignore_index=True)
    cid = tx["customer_id"].to_numpy(dtype=object)
    customers = np.unique(cid)
    openids = _random_ids(rng, len(customers), "oWx", 25)
    unionids = _random_ids(rng, len(customers), "oUn", 25)
    index = {c: i for i, c in enumerate(customers)}
    who = np.array([index[c] for c in cid], dtype=np.int64)
    first_row = np.zeros(len(tx), dtype=bool)
    _, first = np.unique(who, return_index=True)
    first_row[first] = True
    bound = first_row | (rng.random(len(tx)) < 0.4)
    masked = [phone_of[c][:3] + "****" + phone_of[c][-4:] for c in cid]
    epoch = ((tx["order_time"] - pd.Timedelta(hours=8)) - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    refund = (tx["kind"] == "return").to_numpy()
    frame = pd.DataFrame(
        {
            "order_id": tx["order_id"].to_numpy(),
            "openid": openids[who],
            "unionid": unionids[who],
            "member_card": np.where(bound, cid, ""),
            "phone_masked": masked,
            "created_at": epoch.astype("int64").astype(str).to_numpy(),
            "units": tx["units"].astype(str).to_numpy(),
            "amount_fen": _cents(tx["amount"]).astype(str),
            "event": np.where(refund, "refund", "pay"),
        }
    )
    suffix = pd.Series([m[-4:] for m in masked])
    defects = {
        "encoding": "utf-8",
        "data_rows": int(len(frame)),
        "canonical_rows": int(len(tx)),
        "defects": {
            "unbound_rows_without_card": int((~bound).sum()),
            "masked_phones": "154****1234: only the first 3 and last 4 digits survive; not a unique key",
            "created_at": "Unix seconds (UTC); convert to Asia/Shanghai local time",
            "amount_fen": "amounts in fen (分, 1/100 yuan), negative for refunds",
            "people": int(len(customers)),
            "masked_suffix_shared_by_several_people": int(
                pd.Series(cid).groupby(suffix.to_numpy()).nunique().gt(1).sum()
            ),
        },
    }
    return frame, defects
