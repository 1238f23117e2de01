"""Lifecycle playbook (生命周期运营打法): a strategy and a message template for each stage × value tier, filled from
customer data, with contact-frequency limits, holdout groups and privacy-safe exports.

The pipeline, on tidy DataFrames indexed by ``customer_id``::

    assign_stages ─┐
    value tiers ───┴─> customers ──customer_context──> context ──draft_messages──> messages
    messages ──apply_contact_limits(history)──> allowed ──assign_holdout──> ──export_contact_list──> CSV

The spirit of the plays (from the course): **sleeping** members are split by value first — a 1:1 message from their
shopping guide (导购) for high value, a short survey for the rest, coupons in waves; **lost** members get low-cost
batch contact with a seasonal hook, always measured against a holdout group; **new** members get the care timeline and
a second-purchase coupon; **active** members get service and new arrivals, not discounts.

Examples
--------
>>> from opskit.playbook import play_for, salutation
>>> play_for("sleeping", "high").strategy.en[:20]
'split by value first'
>>> salutation("王", "女")
('王女士', 'Ms Wang')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from opskit import schema
from opskit.i18n import Text
from opskit.lifecycle import STAGES, _date, _error, _rows

__all__ = [
    "CATEGORY_EN",
    "PLAYS",
    "Play",
    "apply_contact_limits",
    "assign_holdout",
    "customer_context",
    "draft_messages",
    "export_contact_list",
    "fill_template",
    "play_for",
    "playbook_table",
    "salutation",
    "seasonal_hook",
]

TIERS = ("high", "mid", "low")
CATEGORY_EN = {"上衣": "tops", "裤装": "trousers", "裙装": "dresses", "外套": "outerwear", "针织": "knitwear",
               "配饰": "accessories"}
_PINYIN = {  # the surnames of the course data and the most common ones, for the English salutation
    "王": "Wang", "李": "Li", "张": "Zhang", "刘": "Liu", "陈": "Chen", "杨": "Yang", "黄": "Huang", "赵": "Zhao",
    "吴": "Wu", "周": "Zhou", "徐": "Xu", "孙": "Sun", "马": "Ma", "朱": "Zhu", "胡": "Hu", "郭": "Guo", "何": "He",
    "高": "Gao", "林": "Lin", "罗": "Luo", "郑": "Zheng", "梁": "Liang", "谢": "Xie", "宋": "Song", "唐": "Tang",
    "许": "Xu", "韩": "Han", "冯": "Feng", "邓": "Deng", "曹": "Cao", "彭": "Peng", "曾": "Zeng", "肖": "Xiao",
    "田": "Tian", "董": "Dong", "袁": "Yuan", "潘": "Pan", "于": "Yu", "蒋": "Jiang", "蔡": "Cai", "余": "Yu",
    "杜": "Du", "叶": "Ye", "程": "Cheng", "苏": "Su", "魏": "Wei", "吕": "Lü", "丁": "Ding", "任": "Ren",
    "沈": "Shen", "姚": "Yao", "卢": "Lu", "姜": "Jiang", "崔": "Cui", "钟": "Zhong", "谭": "Tan", "陆": "Lu",
    "汪": "Wang", "范": "Fan", "金": "Jin", "石": "Shi", "廖": "Liao", "贾": "Jia", "夏": "Xia", "韦": "Wei",
    "方": "Fang", "白": "Bai", "邹": "Zou", "孟": "Meng", "熊": "Xiong", "秦": "Qin", "邱": "Qiu", "江": "Jiang",
    "尹": "Yin", "薛": "Xue", "闫": "Yan", "段": "Duan", "雷": "Lei", "侯": "Hou", "龙": "Long", "史": "Shi",
    "顾": "Gu", "钱": "Qian", "施": "Shi", "严": "Yan", "华": "Hua", "毛": "Mao",
}


@dataclass(frozen=True)
class Play:
    """One cell of the playbook: what to do for a stage × value tier.

    Attributes
    ----------
    strategy : Text
        The approach in one sentence.
    channel : Text
        Who contacts and how (导购 1:1 企微, 短信 SMS batch, …).
    template : Text
        The message; placeholders ``{salutation}``, ``{store}``, ``{category}``, ``{coupon}``, ``{season}``.
    coupon : float
        Coupon face value in yuan (0: no coupon).
    holdout : bool
        Keep a random holdout group uncontacted to measure the effect.
    """

    strategy: Text
    channel: Text
    template: Text
    coupon: float = 0.0
    holdout: bool = False


_GUIDE = Text("导购一对一 (企业微信)", "shopping guide 1:1 (WeCom)")
_BATCH = Text("批量短信 / 企微群发", "batch SMS / WeCom broadcast")
_SURVEY = Text("企微群发短问卷", "WeCom broadcast with a short survey")

_CARE = Text(
    "{salutation}您好, 我是{store}的导购。您选的{category}穿着还合身吗? 有任何尺码问题都可以来店调换。"
    "送您一张{coupon}元复购券, 90 天内有效, 期待再见!",
    "Hello {salutation}, this is your shopping guide at {store}. Does the {category} you chose fit well? Any size "
    "problem, come and exchange it. Here is a ¥{coupon} coupon for your next visit, valid 90 days.",
)

PLAYS: dict[tuple[str, str], Play] = {}
for _tier in TIERS:
    PLAYS[("prospect", _tier)] = Play(
        Text("首单激活: 新人礼券 + 导购企微欢迎", "first-purchase activation: welcome coupon and a guide's greeting"),
        _GUIDE,
        Text("{salutation}您好, 欢迎加入会员! 到{store}或小程序首次购物可用{coupon}元新人券, {season}已到店。",
             "Hello {salutation}, welcome to the club! A ¥{coupon} welcome coupon for your first purchase at {store} "
             "or in the mini-program; {season} is in store."),
        coupon=30.0,
    )
    PLAYS[("returned", _tier)] = Play(
        Text("欢迎回来: 按新客关怀流程回访, 巩固第二次购买", "welcome back: run the new-customer care timeline again"),
        _GUIDE,
        Text("{salutation}您好, 很高兴您又回到{store}! 这次的{category}穿着合适吗? 下次到店出示会员卡享{coupon}元优惠。",
             "Hello {salutation}, great to see you back at {store}! Does the {category} fit well? Show your member "
             "card next time for ¥{coupon} off."),
        coupon=20.0,
    )
PLAYS[("new", "high")] = Play(Text("新客关怀 + 导购一对一建立关系, 复购券", "new-customer care, a guide builds the "
                                   "relationship 1:1, second-purchase coupon"), _GUIDE, _CARE, coupon=50.0)
PLAYS[("new", "mid")] = Play(Text("新客关怀 (48 小时/3 天/7 天) + 复购券", "new-customer care (48 h / 3 d / 7 d) and "
                                  "a second-purchase coupon"), _GUIDE, _CARE, coupon=30.0)
PLAYS[("new", "low")] = Play(Text("新客关怀 + 复购券, 邀请进企微社群", "new-customer care, second-purchase coupon, "
                                  "invite to the WeCom group"), _GUIDE, _CARE, coupon=20.0)
PLAYS[("active", "high")] = Play(
    Text("VIP 服务: 新品预览、专属搭配, 不靠折扣", "VIP service: previews and personal styling, no discounts"),
    _GUIDE,
    Text("{salutation}您好, {store}{season}到了, 我按您喜欢的{category}挑了几套搭配, 给您预留试穿?",
         "Hello {salutation}, {season} has arrived at {store}; I picked a few outfits around the {category} you "
         "like. Shall I keep them for you to try?"),
)
PLAYS[("active", "mid")] = Play(
    Text("提升客单: 搭配推荐与会员积分活动", "grow the basket: outfit suggestions and member points events"),
    _SURVEY,
    Text("{salutation}您好, {season}上新, 和您的{category}很好搭。会员本月双倍积分, 欢迎来{store}看看。",
         "Hello {salutation}, {season}: new pieces that go well with your {category}. Double member points this "
         "month; come and see them at {store}."),
)
PLAYS[("active", "low")] = Play(
    Text("社群内容运营: 穿搭内容与新品, 培养习惯", "community content: styling tips and new arrivals"),
    _BATCH,
    Text("{salutation}您好, {season}穿搭指南已发到会员群, {category}新款已到{store}。",
         "Hello {salutation}, the {season} styling guide is in the members' group; new {category} are in at {store}."),
)
PLAYS[("sleeping", "high")] = Play(
    Text("先按价值拆分: 高价值由熟悉的导购一对一问候, 不先发券", "split by value first: high value gets a 1:1 message "
         "from a guide who knows them, no coupon up front"),
    _GUIDE,
    Text("{salutation}您好, 好久没在{store}见到您了。{season}的{category}新款到了, 我给您留了几件您的尺码, "
         "还有一张{coupon}元专属券, 什么时候方便来试试?",
         "Hello {salutation}, we have missed you at {store}. The {season} {category} is in; I kept a few pieces in "
         "your size and a ¥{coupon} personal coupon. When would suit you to try them?"),
    coupon=50.0,
    holdout=True,
)
PLAYS[("sleeping", "mid")] = Play(
    Text("短问卷了解原因, 再分波次发券 (第一波)", "a short survey to learn why, then coupons in waves (wave 1)"),
    _SURVEY,
    Text("{salutation}您好, 想听听您的意见: 3 个问题, 1 分钟。填完即得{coupon}元券, {store}和小程序通用。",
         "Hello {salutation}, we would like your opinion: 3 questions, 1 minute. Answer and get a ¥{coupon} coupon "
         "for {store} or the mini-program."),
    coupon=30.0,
    holdout=True,
)
PLAYS[("sleeping", "low")] = Play(
    Text("短问卷 + 小额券分波次, 批量触达", "short survey and small coupons in waves, batch contact"),
    _BATCH,
    Text("{salutation}您好, {season}上新, 回答 3 个小问题领{coupon}元券, {store}等您。",
         "Hello {salutation}, {season} is here: answer 3 quick questions for a ¥{coupon} coupon. See you at {store}."),
    coupon=20.0,
    holdout=True,
)
for _tier, _value in (("high", 30.0), ("mid", 20.0), ("low", 20.0)):
    PLAYS[("lost", _tier)] = Play(
        Text("低成本批量触达 + 季节钩子, 必须留对照组衡量", "low-cost batch contact with a seasonal hook, always "
             "measured against a holdout group"),
        _BATCH,
        Text("{salutation}您好, {season}来了! {store}为老会员准备了{coupon}元回归券, 30 天内有效。",
             "Hello {salutation}, {season} is here! {store} has a ¥{coupon} welcome-back coupon for you, valid "
             "30 days."),
        coupon=_value,
        holdout=True,
    )


def play_for(stage: str, tier: str, plays: Mapping[tuple[str, str], Play] | None = None) -> Play:
    """The play for one stage × value tier (``"high"``/``"mid"``/``"low"``)."""
    plays = PLAYS if plays is None else plays
    if (stage, tier) not in plays:
        raise _error(f"剧本中没有 阶段={stage!r} × 价值层={tier!r}", f"no play for stage={stage!r} × tier={tier!r}")
    return plays[(stage, tier)]


def playbook_table(plays: Mapping[tuple[str, str], Play] | None = None) -> pd.DataFrame:
    """The playbook as a table: one row per stage × value tier, in lifecycle order.

    >>> playbook_table().loc[("lost", "low"), "holdout"]
    np.True_
    """
    plays = PLAYS if plays is None else plays
    rows = []
    for stage in STAGES:
        for tier in TIERS:
            if (stage, tier) in plays:
                p = plays[(stage, tier)]
                rows.append({"stage": stage, "value_tier": tier, "stage_label": str(STAGES[stage]),
                             "strategy": str(p.strategy), "channel": str(p.channel), "coupon": p.coupon,
                             "holdout": p.holdout, "template_zh": p.template.zh})
    return pd.DataFrame(rows).set_index(["stage", "value_tier"])


def salutation(surname: object, gender: object) -> tuple[str, str]:
    """The salutation in Chinese and English: ``("王女士", "Ms Wang")``; 会员 / "member" without a surname."""
    if surname is None or pd.isna(surname) or not str(surname).strip():
        return "尊敬的会员", "dear member"
    name = str(surname).strip()
    female = str(gender).strip() in ("女", "F", "f", "female")
    male = str(gender).strip() in ("男", "M", "m", "male")
    zh = name + ("女士" if female else "先生" if male else "会员")
    en = ("Ms " if female else "Mr " if male else "member ") + _PINYIN.get(name, name)
    return zh, en


def seasonal_hook(when: object) -> Text:
    """The season's hook for a date: 春装上新, 夏季新品, 秋装上新, 冬装上新 (by month)."""
    month = _date(when, "when").month
    if month in (3, 4, 5):
        return Text("春装上新", "the spring collection")
    if month in (6, 7, 8):
        return Text("夏季新品", "the summer collection")
    if month in (9, 10, 11):
        return Text("秋装上新", "the autumn collection")
    return Text("冬装上新", "the winter collection")


def fill_template(template: Text, values: Mapping[str, object]) -> Text:
    """Fill a template's placeholders; ``values`` gives each placeholder as a Text or a plain value.

    >>> fill_template(Text("{salutation}您好", "Hello {salutation}"), {"salutation": Text("王女士", "Ms Wang")})
    Text('王女士您好', 'Hello Ms Wang')
    """
    zh = {k: (v.zh if isinstance(v, Text) else _plain(v)) for k, v in values.items()}
    en = {k: (v.en if isinstance(v, Text) else _plain(v)) for k, v in values.items()}
    try:
        return Text(template.zh.format(**zh), template.en.format(**en))
    except KeyError as exc:
        raise _error(f"模板缺少占位符的值 {exc}", f"no value for the template placeholder {exc}") from exc


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def customer_context(
    customers: pd.DataFrame,
    members: pd.DataFrame,
    transactions: pd.DataFrame,
    order_lines: pd.DataFrame | None = None,
    stores: pd.DataFrame | None = None,
    as_of: object = None,
) -> pd.DataFrame:
    """What a message needs about each customer: salutation, last item's category, store.

    Parameters
    ----------
    customers : DataFrame
        Indexed by customer id (e.g. :func:`opskit.lifecycle.assign_stages` output); only its index is used.
    members : DataFrame
        ``customer_id``, ``surname``, ``gender``, ``join_store_id``.
    transactions : DataFrame
        To find each customer's last sale order on or before ``as_of`` (default ``customers.attrs["as_of"]``).
    order_lines : DataFrame, optional
        ``order_id``, ``line_type``, ``category``, ``amount``: the last item's category is the category of the most
        expensive sale line of the last order. Without it, or for prospects, the category is empty.
    stores : DataFrame, optional
        ``store_id``, ``store_name``: the store's name instead of its id.

    Returns
    -------
    DataFrame indexed like ``customers``: ``salutation_zh``, ``salutation_en``, ``last_order_id``, ``category``,
    ``category_en``, ``store_id`` (of the last order, else the join store), ``store``. No phone.
    """
    missing = [c for c in ("customer_id", "surname", "gender", "join_store_id") if c not in members.columns]
    if missing:
        raise _error(f"会员表缺少列 {missing}", f"the members table lacks column(s) {missing}")
    as_of_day = customers.attrs.get("as_of") if as_of is None else _date(as_of, "as_of")
    profile = members.set_index("customer_id").reindex(customers.index)
    unknown = profile["surname"].isna() & profile["gender"].isna()
    if unknown.any():
        raise _error(f"{int(unknown.sum())} 位客户不在会员表中, 如 {_rows(customers.index[unknown.to_numpy()])}",
                     f"{int(unknown.sum())} customer(s) are not in the members table, e.g. "
                     f"{_rows(customers.index[unknown.to_numpy()])}")
    names = [salutation(s, g) for s, g in zip(profile["surname"], profile["gender"])]
    out = pd.DataFrame(index=customers.index)
    out["salutation_zh"] = pd.Series([n[0] for n in names], index=customers.index, dtype="str")
    out["salutation_en"] = pd.Series([n[1] for n in names], index=customers.index, dtype="str")
    sales = transactions[(transactions[schema.KIND] == schema.SALE) & transactions[schema.CUSTOMER_ID].notna()]
    if as_of_day is not None:
        sales = sales[sales[schema.ORDER_TIME].dt.normalize() <= as_of_day]
    sales = sales[sales[schema.CUSTOMER_ID].isin(customers.index)]
    last = sales.sort_values([schema.ORDER_TIME, schema.ORDER_ID]).groupby(schema.CUSTOMER_ID).tail(1)
    last = last.set_index(schema.CUSTOMER_ID)
    out["last_order_id"] = last[schema.ORDER_ID].reindex(customers.index).astype("str")
    store = last[schema.STORE_ID].astype("str").reindex(customers.index)
    out["store_id"] = store.fillna(profile["join_store_id"].astype("str")).astype("str")
    category = pd.Series(pd.NA, index=customers.index, dtype="str")
    if order_lines is not None:
        lines = order_lines[(order_lines["line_type"] == schema.SALE)
                            & order_lines["order_id"].isin(out["last_order_id"].dropna())]
        top = lines.sort_values(["order_id", "amount", "line_no" if "line_no" in lines else "order_id"],
                                ascending=[True, False, True]).drop_duplicates("order_id")
        by_order = top.set_index("order_id")["category"].astype("str")
        category = out["last_order_id"].map(by_order).astype("str")
    out["category"] = category
    out["category_en"] = category.map(CATEGORY_EN).astype("str")
    if stores is not None:
        names_by_id = stores.assign(store_id=stores["store_id"].astype("str")).set_index("store_id")["store_name"]
        out["store"] = out["store_id"].map(names_by_id).fillna(out["store_id"]).astype("str")
    else:
        out["store"] = out["store_id"]
    out.attrs["as_of"] = as_of_day
    return out


def draft_messages(
    customers: pd.DataFrame,
    context: pd.DataFrame,
    plays: Mapping[tuple[str, str], Play] | None = None,
    *,
    as_of: object = None,
    stage_col: str = "stage",
    tier_col: str = "value_tier",
) -> pd.DataFrame:
    """One drafted message per customer from the playbook, filled from the customer's context.

    Parameters
    ----------
    customers : DataFrame
        Indexed by customer id with a stage (``stage``) and a value tier (``value_tier``: high/mid/low).
    context : DataFrame
        Output of :func:`customer_context`.
    as_of : date-like, optional
        For the seasonal hook; default ``customers.attrs["as_of"]``.

    Returns
    -------
    DataFrame indexed by customer id: ``stage``, ``value_tier``, ``strategy``, ``channel``, ``coupon``,
    ``holdout_required``, ``message_zh``, ``message_en``. No phone: join it only at export
    (:func:`export_contact_list`).
    """
    plays = PLAYS if plays is None else plays
    for col in (stage_col, tier_col):
        if col not in customers.columns:
            raise _error(f"customers 缺少列 {col!r}", f"customers lacks column {col!r}")
    when = customers.attrs.get("as_of") if as_of is None else as_of
    if when is None:
        raise _error("需要 as_of (用于季节钩子)", "as_of is needed (for the seasonal hook)")
    season = seasonal_hook(when)
    ctx = context.reindex(customers.index)
    rows = []
    for cid, stage, tier in zip(customers.index, customers[stage_col], customers[tier_col]):
        play = play_for(stage, tier, plays)
        c = ctx.loc[cid]
        has_category = isinstance(c["category"], str) and c["category"] not in ("", "nan")
        values = {
            "salutation": Text(c["salutation_zh"], c["salutation_en"]),
            "store": Text(c["store"], c["store"]),
            "category": Text(c["category"], c["category_en"]) if has_category else Text("衣服", "clothes"),
            "coupon": play.coupon,
            "season": season,
        }
        text = fill_template(play.template, values)
        rows.append({"customer_id": cid, "stage": stage, "value_tier": tier, "strategy": str(play.strategy),
                     "channel": str(play.channel), "coupon": play.coupon, "holdout_required": play.holdout,
                     "message_zh": text.zh, "message_en": text.en})
    out = pd.DataFrame(rows, columns=["customer_id", "stage", "value_tier", "strategy", "channel", "coupon",
                                      "holdout_required", "message_zh", "message_en"]).set_index("customer_id")
    out.attrs["as_of"] = _date(when, "as_of")
    return out


def apply_contact_limits(
    candidates: pd.DataFrame,
    history: pd.DataFrame,
    as_of: object = None,
    *,
    max_per_7_days: int = 1,
    max_per_30_days: int = 4,
    customer_col: str = "customer_id",
    time_col: str = "contact_time",
) -> pd.DataFrame:
    """Mark who may be contacted on ``as_of`` without breaking the frequency limits.

    A member is excluded when sending one more message today would exceed a limit, i.e. when the contact history
    already holds ``max_per_7_days`` contacts in the last 7 days (as_of − 6 … as_of) or ``max_per_30_days`` in the
    last 30 days (as_of − 29 … as_of). Contacts after ``as_of`` are ignored.

    Returns
    -------
    ``candidates`` with ``contacts_7d``, ``contacts_30d``, ``contact_allowed`` and ``excluded_reason`` (``""``,
    ``"limit_7d"`` or ``"limit_30d"``). ``attrs["excluded"]`` counts the exclusions by reason; every candidate is
    either allowed or counted.

    Examples
    --------
    >>> cands = pd.DataFrame(index=pd.Index(["m1", "m2"], name="customer_id"))
    >>> hist = pd.DataFrame({"customer_id": ["m1"], "contact_time": pd.to_datetime(["2024-06-28"])})
    >>> apply_contact_limits(cands, hist, "2024-06-30")["contact_allowed"].tolist()
    [False, True]
    """
    if min(max_per_7_days, max_per_30_days) < 1:
        raise _error("频次上限必须 ≥ 1", "contact limits must be ≥ 1")
    missing = [c for c in (customer_col, time_col) if c not in history.columns]
    if missing:
        raise _error(f"触达记录缺少列 {missing}", f"the contact history lacks column(s) {missing}")
    when = candidates.attrs.get("as_of") if as_of is None else as_of
    if when is None:
        raise _error("需要 as_of", "as_of is needed")
    day = _date(when, "as_of")
    times = pd.to_datetime(history[time_col], errors="coerce")
    if times.isna().any():
        raise _error(f"触达记录列 {time_col!r} 的行 {_rows(history.index[times.isna()])} 无法解析为时间",
                     f"contact history column {time_col!r}: row(s) {_rows(history.index[times.isna()])} are not times")
    contact_day = times.dt.normalize()
    past = contact_day <= day
    recent7 = history.loc[past & (contact_day > day - pd.Timedelta(days=7)), customer_col].value_counts()
    recent30 = history.loc[past & (contact_day > day - pd.Timedelta(days=30)), customer_col].value_counts()
    out = candidates.copy()
    out["contacts_7d"] = recent7.reindex(out.index, fill_value=0).astype("int64").to_numpy()
    out["contacts_30d"] = recent30.reindex(out.index, fill_value=0).astype("int64").to_numpy()
    reason = np.select([out["contacts_7d"] >= max_per_7_days, out["contacts_30d"] >= max_per_30_days],
                       ["limit_7d", "limit_30d"], default="")
    out["excluded_reason"] = pd.Series(reason, index=out.index, dtype="str")
    out["contact_allowed"] = out["excluded_reason"] == ""
    out.attrs.update(as_of=day, excluded={"limit_7d": int((reason == "limit_7d").sum()),
                                          "limit_30d": int((reason == "limit_30d").sum())},
                     allowed=int(out["contact_allowed"].sum()), candidates=int(len(out)))
    return out


def assign_holdout(customers: pd.DataFrame, share: float = 0.1, *, seed: int = 2025, by: str | None = "stage"
                   ) -> pd.Series:
    """A random holdout (对照组) that is not contacted, so the effect can be measured.

    Exactly round(share × n) members of each ``by`` group (e.g. each stage) are held out, drawn with a fixed
    ``seed`` from the members sorted by id: the same input gives the same groups.

    Returns
    -------
    Series indexed like ``customers``: ``"treatment"`` or ``"holdout"``.

    Examples
    --------
    >>> c = pd.DataFrame({"stage": ["lost"] * 10}, index=[f"m{i}" for i in range(10)])
    >>> assign_holdout(c, 0.2).value_counts().to_dict()
    {'treatment': 8, 'holdout': 2}
    """
    if not 0 < share < 1:
        raise _error(f"对照组比例 share 必须在 (0, 1), 得到 {share}", f"share must be in (0, 1), got {share}")
    rng = np.random.default_rng(seed)
    group = pd.Series("treatment", index=customers.index, dtype="str", name="group")
    keys = customers[by] if by is not None else pd.Series("all", index=customers.index)
    for _, ids in sorted(keys.groupby(keys, sort=True).groups.items()):
        ordered = np.sort(np.asarray(ids, dtype=object))
        k = int(round(share * len(ordered)))
        chosen = rng.choice(len(ordered), size=k, replace=False) if k else []
        group.loc[ordered[chosen]] = "holdout"
    return group


def export_contact_list(
    messages: pd.DataFrame,
    members: pd.DataFrame,
    path: str | Path | None = None,
    *,
    phone: str = "mask",
    key: str | bytes | None = None,
) -> pd.DataFrame:
    """The contact list for staff: the messages with a **masked** (``154****5678``) or **pseudonymised** phone only.

    The raw phone never leaves this function: it is masked or pseudonymised, every text column is scrubbed of
    phone-like numbers, and the result is checked with :func:`opskit.privacy.assert_no_phones` before it is
    returned or written (CSV, UTF-8 with BOM so Excel shows the Chinese).

    Parameters
    ----------
    messages : DataFrame
        Indexed by customer id (e.g. :func:`draft_messages`, after :func:`apply_contact_limits`: only rows with
        ``contact_allowed`` are exported when that column exists).
    members : DataFrame
        ``customer_id`` and ``phone``.
    phone : {"mask", "pseudonym"}
        ``"mask"`` for a guide who recognises the number; ``"pseudonym"`` (keyed, :mod:`opskit.privacy`) for a
        list that goes to a system which looks the number up itself.
    key : str, optional
        The pseudonymisation key (see :class:`opskit.privacy.Pseudonymizer`).

    Returns
    -------
    DataFrame with ``customer_id`` first and ``phone_masked`` or ``phone_pseudonym``; ``attrs["excluded_by_limits"]``
    counts the rows left out by the contact limits.
    """
    from opskit.privacy import Pseudonymizer, assert_no_phones, mask_phone, redact_phones

    if phone not in ("mask", "pseudonym"):
        raise _error(f"phone={phone!r} 无效, 可选 'mask' 或 'pseudonym'",
                     f"invalid phone={phone!r}; choose 'mask' or 'pseudonym'")
    if "phone" not in members.columns or "customer_id" not in members.columns:
        raise _error("会员表需要 customer_id 和 phone 列", "the members table needs customer_id and phone columns")
    out = messages.copy()
    excluded = 0
    if "contact_allowed" in out.columns:
        excluded = int((~out["contact_allowed"].astype(bool)).sum())
        out = out[out["contact_allowed"].astype(bool)]
    raw = members.set_index("customer_id")["phone"].reindex(out.index)
    out = out.reset_index()
    if phone == "mask":
        out.insert(1, "phone_masked", mask_phone(pd.Series(raw.to_numpy(), dtype="object")).astype("str"))
    else:
        pseudo = Pseudonymizer(key) if key is not None else Pseudonymizer()
        out.insert(1, "phone_pseudonym", pseudo(pd.Series(raw.to_numpy(), dtype="object")).astype("str"))
    out = redact_phones(out, [c for c in out.columns if out[c].dtype == object or pd.api.types.is_string_dtype(out[c])])
    assert_no_phones(out, "contact list / 触达名单")
    out.attrs["excluded_by_limits"] = excluded
    if path is not None:
        out.to_csv(path, index=False, encoding="utf-8-sig")
    return out
