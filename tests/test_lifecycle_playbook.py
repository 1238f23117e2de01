"""opskit.playbook: plays, templates filled from customer data, contact limits, holdouts, privacy-safe exports."""

from __future__ import annotations

import pandas as pd
import pytest

from opskit import lifecycle as L
from opskit import playbook as P
from opskit.i18n import set_language
from opskit.privacy import find_phones

AS_OF = pd.Timestamp("2025-03-01")


@pytest.fixture(autouse=True)
def both_languages():
    set_language("both")


@pytest.fixture
def shop():
    members = pd.DataFrame({
        "customer_id": ["m1", "m2", "m3", "m4"],
        "join_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2025-02-01"]),
        "join_store_id": ["S01", "S02", "S01", "S02"],
        "gender": ["女", "男", "女", "女"],
        "surname": ["王", "李", "欧阳", "张"],
        "phone": ["15412345678", "15487654321", "15400001111", "15499998888"],
    })
    tx = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"],
        "order_time": pd.to_datetime(["2024-10-20 11:00", "2024-01-15 16:00", "2025-02-25 10:00", "2024-12-01 12:00"]),
        "customer_id": pd.Series(["m1", "m2", "m3", "m3"], dtype="str"),
        "store_id": ["S02", "S02", "S01", "S01"],
        "channel": "pos", "kind": "sale", "units": 2, "amount": [800.0, 200.0, 300.0, 150.0],
    })
    lines = pd.DataFrame({
        "order_id": ["o1", "o1", "o2", "o3", "o4"], "line_no": [1, 2, 1, 1, 1],
        "line_type": "sale", "category": ["配饰", "外套", "裤装", "裙装", "上衣"],
        "amount": [100.0, 700.0, 200.0, 300.0, 150.0],
    })
    stores = pd.DataFrame({"store_id": ["S01", "S02"], "store_name": ["上海徐汇店", "上海静安店"]})
    return members, tx, lines, stores


def test_every_stage_and_tier_has_a_bilingual_play_with_the_seeds_spirit():
    table = P.playbook_table()
    assert len(table) == len(L.STAGES) * 3
    assert table["holdout"].loc["lost"].all() and table["holdout"].loc["sleeping"].all()
    high, mid = P.play_for("sleeping", "high"), P.play_for("sleeping", "mid")
    assert "1:1" in high.strategy.en and "survey" in mid.strategy.en and "waves" in mid.strategy.en
    assert "seasonal" in P.play_for("lost", "low").strategy.en and "{season}" in P.play_for("lost", "low").template.zh
    for play in P.PLAYS.values():
        assert play.template.zh.count("{salutation}") == 1 and play.template.en.count("{salutation}") == 1
    with pytest.raises(ValueError, match="no play"):
        P.play_for("sleeping", "vip")


def test_salutation_from_surname_and_gender():
    assert P.salutation("王", "女") == ("王女士", "Ms Wang")
    assert P.salutation("李", "男") == ("李先生", "Mr Li")
    assert P.salutation(None, "女") == ("尊敬的会员", "dear member")


def test_messages_are_filled_from_customer_data(shop):
    members, tx, lines, stores = shop
    stages = L.assign_stages(tx, members, AS_OF)
    assert stages["stage"].to_dict() == {"m1": "sleeping", "m2": "lost", "m3": "active", "m4": "prospect"}
    customers = stages[["stage"]].assign(value_tier=["high", "low", "mid", "low"])
    customers.attrs = stages.attrs
    ctx = P.customer_context(customers, members, tx, lines, stores)
    assert ctx.loc["m1", "category"] == "外套"  # the most expensive line of the last order
    assert ctx.loc["m3", "category"] == "裙装" and ctx.loc["m3", "store"] == "上海徐汇店"
    assert ctx.loc["m4", "store"] == "上海静安店" and pd.isna(ctx.loc["m4", "category"])  # prospect: join store
    msgs = P.draft_messages(customers, ctx)
    m1 = msgs.loc["m1"]
    assert m1["message_zh"].startswith("王女士您好") and "外套" in m1["message_zh"] and "50元" in m1["message_zh"]
    assert "上海静安店" in m1["message_zh"] and "春装上新" in m1["message_zh"]
    assert "Ms Wang" in m1["message_en"] and "outerwear" in m1["message_en"]
    assert msgs.loc["m2", "message_zh"].startswith("李先生您好") and msgs.loc["m2", "holdout_required"]
    assert msgs.loc["m3", "message_zh"].startswith("欧阳女士")
    assert "{" not in "".join(msgs["message_zh"]) + "".join(msgs["message_en"])
    assert not find_phones(msgs.to_csv())


def test_contact_limits_exclude_and_count():
    cands = pd.DataFrame({"stage": "lost"}, index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    history = pd.DataFrame({
        "customer_id": ["a", "b", "b", "b", "b", "c", "c", "c", "c", "d"],
        "contact_time": pd.to_datetime([
            "2025-02-23",                                          # a: 6 days ago → inside the 7-day window
            "2025-01-31", "2025-02-05", "2025-02-10", "2025-02-20",  # b: 4 in the 30-day window (01-31 is day 30)
            "2025-01-30", "2025-02-05", "2025-02-10", "2025-02-20",  # c: only 3 in the window (01-30 is 30 days ago)
            "2025-03-02",                                          # d: after the as-of date: ignored
        ]),
    })
    out = P.apply_contact_limits(cands, history, AS_OF)
    assert out["excluded_reason"].to_dict() == {"a": "limit_7d", "b": "limit_30d", "c": "", "d": ""}
    assert out.attrs["excluded"] == {"limit_7d": 1, "limit_30d": 1} and out.attrs["allowed"] == 2
    assert out.loc["c", "contacts_30d"] == 3
    on_the_7th_day = P.apply_contact_limits(cands, history.iloc[[0]], "2025-03-02")
    assert on_the_7th_day.loc["a", "contact_allowed"]  # 7 days after the last contact: allowed again


def test_holdout_is_exact_per_stage_and_reproducible():
    cands = pd.DataFrame({"stage": ["lost"] * 20 + ["sleeping"] * 10}, index=[f"m{i:02d}" for i in range(30)])
    groups = P.assign_holdout(cands, 0.2, seed=7)
    assert (groups == "holdout").groupby(cands["stage"]).sum().to_dict() == {"lost": 4, "sleeping": 2}
    assert groups.equals(P.assign_holdout(cands.iloc[::-1], 0.2, seed=7).reindex(cands.index))
    with pytest.raises(ValueError, match="share"):
        P.assign_holdout(cands, 1.5)


@pytest.mark.parametrize("mode", ["mask", "pseudonym"])
def test_no_raw_phone_in_any_export(shop, tmp_path, mode):
    members, tx, lines, stores = shop
    stages = L.assign_stages(tx, members, AS_OF)
    customers = stages[["stage"]].assign(value_tier="low")
    customers.attrs = stages.attrs
    msgs = P.draft_messages(customers, P.customer_context(customers, members, tx, lines, stores))
    msgs.loc["m2", "message_zh"] += " 有事请拨 154-8765-4321"  # a phone slipped into free text
    limited = P.apply_contact_limits(msgs, pd.DataFrame({"customer_id": ["m3"],
                                                         "contact_time": [AS_OF]}), AS_OF)
    path = tmp_path / "list.csv"
    out = P.export_contact_list(limited, members, path, phone=mode, key="test-key")
    text = path.read_text(encoding="utf-8-sig")
    raw = set(members["phone"])
    assert not any(p in text for p in raw) and not find_phones(text)
    assert not any(p in out.to_csv() for p in raw)
    assert "m3" not in set(out["customer_id"]) and out.attrs["excluded_by_limits"] == 1
    column = "phone_masked" if mode == "mask" else "phone_pseudonym"
    assert list(out.columns[:2]) == ["customer_id", column] and "phone" not in out.columns
    if mode == "mask":
        assert out.set_index("customer_id").loc["m1", "phone_masked"] == "154****5678"
    else:
        assert out[column].str.startswith("P-").all()


def test_export_rejects_unknown_phone_mode(shop):
    members = shop[0]
    with pytest.raises(ValueError, match="mask"):
        P.export_contact_list(pd.DataFrame(index=["m1"]), members, phone="raw")
