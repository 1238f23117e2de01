"""The messy lesson-01 exports: a straightforward reference cleaning recovers the canonical scope exactly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import opskit.datasets as ds
from opskit.datasets.messy import scope_transactions


@pytest.fixture(scope="module")
def defects():
    return json.loads(ds.messy_path("defects.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def members():
    return ds.load_members()


def _read(name: str, encoding: str) -> pd.DataFrame:
    return pd.read_csv(ds.messy_path(name), encoding=encoding, dtype=str, keep_default_na=False)


def _yuan_cents(text: pd.Series) -> np.ndarray:
    clean = text.str.replace("￥", "", regex=False).str.replace(",", "", regex=False)
    return np.round(clean.astype(float).to_numpy() * 100).astype(np.int64)


def _parse_pos_date(text: pd.Series) -> pd.Series:
    serial = text.str.fullmatch(r"\d{5}")
    unified = text.str.replace("年", "-").str.replace("月", "-").str.replace("日", "").str.replace("/", "-")
    parsed = pd.to_datetime(unified.where(~serial, "1900-01-01"), format="%Y-%m-%d")
    from_serial = pd.Timestamp("1899-12-30") + pd.to_timedelta(text.where(serial, "0").astype(int), unit="D")
    return parsed.where(~serial, from_serial)


def test_test_order_rule(defects):
    pos = _read("pos_export.csv", "gbk")
    rule = (pos["备注"].str.contains("测试|test", case=False) | (pos["门店"] == "测试门店")
            | (pos["实收金额"] == "￥0.01"))
    inside_block = defects["files"]["pos_export.csv"]["defects"]["double_upload_block"]["test_orders_inside"]
    assert rule.sum() == sum(defects["files"]["pos_export.csv"]["defects"]["test_orders"].values()) + inside_block
    assert pos.loc[rule, "订单号"].str.startswith("O9").all()


def clean_pos(members: pd.DataFrame, stores: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    raw = _read("pos_export.csv", "gbk")
    pos = raw.drop_duplicates()
    test = (pos["备注"].str.contains("测试|test", case=False) | (pos["门店"] == "测试门店")
            | (pos["实收金额"] == "￥0.01"))
    pos = pos[~test]
    by_phone = dict(zip(members["phone"], members["customer_id"]))
    customer = pos["会员卡号"].where(pos["会员卡号"] != "", pos["手机号"].map(by_phone))
    customer = customer.where(customer != "")
    cents = _yuan_cents(pos["实收金额"])
    out = pd.DataFrame({
        "order_id": pos["订单号"],
        "order_time": _parse_pos_date(pos["消费日期"]) + pd.to_timedelta(pos["消费时间"]),
        "customer_id": customer,
        "store_id": pos["门店"].map(dict(zip(stores["store_name"], stores["store_id"].astype(str)))),
        "channel": "pos",
        "kind": np.where(cents < 0, "return", "sale"),
        "units": pos["件数"].astype(int),
        "cents": cents,
    })
    return out, {"duplicates": len(raw) - len(raw.drop_duplicates()), "test": int(test.sum())}


def clean_online(members: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    raw = _read("online_shop_export.csv", "utf-8-sig")
    on = raw.drop_duplicates()
    digits = on["mobile"].str.replace(r"\D", "", regex=True).str[-11:]
    sign = np.where(on["status"] == "refunded", -1, 1)
    out = pd.DataFrame({
        "order_id": on["order_no"],
        "order_time": pd.to_datetime(on["event_time"], format="%Y-%m-%d %H:%M:%S"),
        "customer_id": digits.map(dict(zip(members["phone"], members["customer_id"]))),
        "store_id": on["store_code"],
        "channel": "mini_program",
        "kind": np.where(sign < 0, "return", "sale"),
        "units": on["qty"].astype(int) * sign,
        "cents": np.round(on["paid_amount"].astype(float).to_numpy() * 100).astype(np.int64) * sign,
    })
    return out, len(raw) - len(on)


def clean_wechat() -> pd.DataFrame:
    we = _read("wechat_export.csv", "utf-8")
    bound = we[we["member_card"] != ""]
    assert (bound.groupby("unionid")["member_card"].nunique() == 1).all()  # one person, one card
    card_of = bound.groupby("unionid")["member_card"].first()
    created = pd.to_datetime(we["created_at"].astype("int64"), unit="s", utc=True)
    return pd.DataFrame({
        "order_id": we["order_id"],
        "order_time": created.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None),
        "customer_id": we["member_card"].where(we["member_card"] != "", we["unionid"].map(card_of)),
        "store_id": None,  # the WeCom export has no store: take it from the member's home store
        "channel": "wecom_group",
        "kind": np.where(we["event"] == "refund", "return", "sale"),
        "units": we["units"].astype(int),
        "cents": we["amount_fen"].astype("int64"),
    })


def test_reference_cleaning_recovers_the_canonical_scope_exactly(defects, members):
    stores = ds.load_stores()
    pos, pos_counts = clean_pos(members, stores)
    online, online_dups = clean_online(members)
    wechat = clean_wechat()
    home = members.set_index("customer_id")["join_store_id"].astype(str)
    wechat["store_id"] = wechat["customer_id"].map(home)
    cleaned = pd.concat([pos, online, wechat], ignore_index=True)
    cleaned["order_time"] = cleaned["order_time"].astype("datetime64[s]")
    cleaned = cleaned.sort_values(["order_time", "order_id", "kind"], ignore_index=True)

    truth = scope_transactions(ds.load_transactions())
    expected = pd.DataFrame({
        "order_id": truth["order_id"].astype(str),
        "order_time": truth["order_time"].astype("datetime64[s]"),
        "customer_id": truth["customer_id"],
        "store_id": truth["store_id"].astype(str),
        "channel": truth["channel"].astype(str),
        "kind": truth["kind"].astype(str),
        "units": truth["units"],
        "cents": np.round(truth["amount"].to_numpy() * 100).astype(np.int64),
    }).sort_values(["order_time", "order_id", "kind"], ignore_index=True)

    assert len(cleaned) == len(expected) == defects["scope"]["canonical_rows"]
    for column in expected.columns:
        got, want = cleaned[column], expected[column]
        if column == "customer_id":
            got, want = got.fillna("<walk-in>"), want.fillna("<walk-in>")
        mismatch = np.flatnonzero(got.to_numpy() != want.to_numpy())
        assert len(mismatch) == 0, f"{column}: first mismatch at {mismatch[:3]}: {got.iloc[mismatch[:3]].tolist()} " \
                                   f"vs {want.iloc[mismatch[:3]].tolist()}"
    assert expected["cents"].sum() / 100 == pytest.approx(defects["scope"]["canonical_amount"], abs=0.001)
    # The defect manifest counts what the cleaning removed.
    pos_defects = defects["files"]["pos_export.csv"]["defects"]
    assert pos_counts["duplicates"] == pos_defects["double_upload_block"]["rows"]
    assert pos_counts["test"] == sum(pos_defects["test_orders"].values())
    assert online_dups == defects["files"]["online_shop_export.csv"]["defects"]["duplicate_rows"]


def test_identity_conflicts_are_real_and_recorded(defects, members):
    conflicts = defects["files"]["pos_export.csv"]["defects"]["identity_conflicts"]
    assert len(conflicts) >= 1
    pos = _read("pos_export.csv", "gbk")
    owner_of_phone = dict(zip(members["phone"], members["customer_id"]))
    for conflict in conflicts:
        row = pos[pos["订单号"] == conflict["row_order_id"]].iloc[0]
        assert row["手机号"] == conflict["phone"]
        assert owner_of_phone[row["手机号"]] != row["会员卡号"]  # the phone belongs to another card
        assert sorted([row["会员卡号"], owner_of_phone[row["手机号"]]]) == conflict["cards"]


def test_exports_use_their_documented_formats(defects):
    pos = _read("pos_export.csv", "gbk")
    assert list(pos.columns) == ["订单号", "会员卡号", "手机号", "消费日期", "消费时间", "门店", "件数", "实收金额", "备注"]
    formats = defects["files"]["pos_export.csv"]["defects"]["date_formats"]
    assert all(v > 0 for v in formats.values())
    assert pos["消费日期"].str.fullmatch(r"\d{5}").any() and pos["消费日期"].str.contains("年").any()
    assert pos["实收金额"].str.contains(",").any() and pos["实收金额"].str.startswith("-￥").any()
    online = _read("online_shop_export.csv", "utf-8-sig")
    assert online["mobile"].str.startswith("+86").any() and online["mobile"].str.contains("-").any()
    assert (online["mobile"] != online["mobile"].str.strip()).any()
    we = _read("wechat_export.csv", "utf-8")
    assert we["phone_masked"].str.fullmatch(r"154\*{4}\d{4}").all()
    assert (we["member_card"] == "").any() and (we["member_card"] != "").any()
    assert defects["files"]["wechat_export.csv"]["defects"]["masked_suffix_shared_by_several_people"] > 0
