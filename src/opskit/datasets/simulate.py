"""The simulated clothing chain: members who follow BG/NBD + Gamma-Gamma, stores, orders, lines, footfall, campaign.

Everything is drawn with ``numpy.random.default_rng`` streams spawned from one seed, vectorised, and sorted before it
is returned, so the same seed always gives the same frames (and, through :mod:`opskit.datasets.build`, byte-identical
files). Money is kept in integer cents (分) internally so that order lines add up to the order exactly.

The story: a chain of 8 stores in East China launched its membership programme (会员体系) on 2023-01-01. Members sign
up at their first purchase (about 10% sign up without buying: prospects, 潜客). Non-members keep walking in.

Examples
--------
>>> from opskit.datasets.simulate import simulate_chain
>>> tables = simulate_chain(seed=7, n_members=300)
>>> sorted(tables)[:3]
['campaign', 'campaign_truth', 'footfall']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from opskit.i18n import Text

# --- calendar -------------------------------------------------------------------------------------------------------
START = pd.Timestamp("2023-01-01")
CALIBRATION_END = pd.Timestamp("2024-12-31")
HOLDOUT_START = pd.Timestamp("2025-01-01")
END = pd.Timestamp("2025-06-30")
N_DAYS = int((END - START).days) + 1  # day indices 0 .. N_DAYS-1
CALIBRATION_DAYS = int((CALIBRATION_END - START).days) + 1

CHANNEL_CODES = ("pos", "mini_program", "wecom_group")  # same order as opskit.schema.CHANNELS
GENDERS = ("女", "男")
TIERS = ("普卡", "银卡", "金卡")
# Trailing-12-month net spend (yuan) at the data end date that earns each tier.
TIER_THRESHOLDS = {"银卡": 1000, "金卡": 3000}

# --- stores ---------------------------------------------------------------------------------------------------------
# traffic: relative visitors per day; conversion: true share of visitors who buy; entry: share of passers-by who enter.
_STORES = [
    # id, name, city, format, area_m2, staff, opened, traffic, conversion, entry_rate
    ("S01", "上海徐汇店", "上海", "mall", 420, 9, "2019-09-01", 1.25, 0.32, 0.13),
    ("S02", "上海静安店", "上海", "street", 260, 6, "2020-04-18", 0.95, 0.30, 0.08),
    ("S03", "杭州湖滨店", "杭州", "street", 300, 7, "2018-10-01", 1.05, 0.31, 0.09),
    ("S04", "南京新街口店", "南京", "mall", 400, 9, "2021-05-01", 1.20, 0.18, 0.12),
    ("S05", "苏州观前店", "苏州", "street", 220, 5, "2020-11-01", 0.80, 0.33, 0.08),
    ("S06", "宁波天一店", "宁波", "mall", 300, 7, "2022-03-26", 0.90, 0.29, 0.12),
    ("S07", "合肥万达店", "合肥", "mall", 280, 6, "2021-09-30", 0.85, 0.30, 0.11),
    ("S08", "无锡恒隆店", "无锡", "mall", 320, 7, "2024-05-18", 0.95, 0.31, 0.12),
]
WEAK_STORE = "S04"  # trainer-only: low conversion (成交率); never mentioned in learner-facing text
WEAK_FACTOR = "conversion"

# --- products -------------------------------------------------------------------------------------------------------
# category, sku prefix, list price points (yuan), typical price (for splitting an order's value across lines)
_CATEGORIES = [
    ("上衣", "TP", (99, 129, 159, 199, 259, 299, 359, 399, 499, 599, 699, 899), 250.0),
    ("裤装", "PT", (159, 199, 259, 299, 359, 399, 459, 499, 599, 699, 899, 1099), 350.0),
    ("裙装", "DR", (199, 259, 299, 399, 499, 599, 699, 799, 999, 1299, 1599, 1999), 550.0),
    ("外套", "OW", (399, 499, 599, 699, 899, 1099, 1299, 1599, 1999, 2499, 2999, 3999, 4999), 1200.0),
    ("针织", "KN", (199, 259, 299, 399, 499, 599, 699, 899, 1099, 1299, 1599), 500.0),
    ("配饰", "AC", (29, 49, 69, 99, 129, 159, 199, 259, 299, 399), 100.0),
]
CATEGORIES = tuple(c[0] for c in _CATEGORIES)
SKUS_PER_PRICE = 6
# Seasonal category mix: rows are months Jan..Dec, columns follow CATEGORIES.
_SEASON_MIX = np.array(
    [
        [20, 18, 4, 28, 22, 8],
        [22, 18, 6, 24, 20, 10],
        [28, 20, 12, 16, 14, 10],
        [32, 20, 18, 10, 10, 10],
        [34, 20, 26, 4, 6, 10],
        [36, 18, 30, 2, 4, 10],
        [36, 18, 30, 2, 4, 10],
        [34, 20, 26, 4, 6, 10],
        [30, 22, 18, 10, 10, 10],
        [24, 22, 10, 18, 18, 8],
        [20, 20, 6, 26, 20, 8],
        [18, 18, 4, 30, 22, 8],
    ],
    dtype=float,
)

# --- promotions -----------------------------------------------------------------------------------------------------
# (promo, first day, last day, min discount, max discount)
_PROMOS = [
    ("年货节", "2023-01-03", "2023-01-20"),
    ("换季清仓", "2023-02-20", "2023-03-12"),
    ("618", "2023-06-01", "2023-06-18"),
    ("换季清仓", "2023-07-10", "2023-08-10"),
    ("双11", "2023-11-01", "2023-11-11"),
    ("年货节", "2024-01-20", "2024-02-08"),
    ("换季清仓", "2024-02-26", "2024-03-17"),
    ("618", "2024-06-01", "2024-06-18"),
    ("换季清仓", "2024-07-10", "2024-08-10"),
    ("双11", "2024-11-01", "2024-11-11"),
    ("年货节", "2025-01-08", "2025-01-26"),
    ("换季清仓", "2025-02-17", "2025-03-09"),
    ("618", "2025-06-01", "2025-06-18"),
]
PROMO_DISCOUNT = {"": (0.0, 0.12), "年货节": (0.15, 0.25), "换季清仓": (0.30, 0.50), "618": (0.20, 0.30),
                  "双11": (0.25, 0.35), "唤醒券": (0.0, 0.12)}
PROMOS = ("年货节", "换季清仓", "618", "双11", "唤醒券")
_PROMO_LIFT = 1.5  # walk-in traffic during promotions

# --- campaign -------------------------------------------------------------------------------------------------------
CAMPAIGN_ID = "C2503-REACT"
CAMPAIGN_SEND = pd.Timestamp("2025-03-03")
CAMPAIGN_WINDOW_END = pd.Timestamp("2025-04-01")  # 30-day window, both ends included
CAMPAIGN_SLEEP_DAYS = (91, 180)  # days since last purchase at the send date
CAMPAIGN_TREATED_SHARE = 0.8
CAMPAIGN_COUPON = 50.0  # yuan per treated member
CAMPAIGN_COUPON_RESPONSE = 0.045  # extra chance that a treated member makes a coupon purchase in the window

_SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.2), ("赵", 2.1),
    ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.5), ("马", 1.3), ("朱", 1.2), ("胡", 1.2), ("郭", 1.1),
    ("何", 1.0), ("高", 1.0), ("林", 0.9), ("罗", 0.9), ("郑", 0.8), ("梁", 0.7), ("谢", 0.7), ("宋", 0.6),
    ("唐", 0.6), ("许", 0.6), ("韩", 0.5), ("冯", 0.5), ("邓", 0.5), ("曹", 0.5), ("沈", 0.4), ("叶", 0.4),
    ("蒋", 0.4), ("陆", 0.3), ("钱", 0.2),
)

_POS_HOUR_WEIGHTS = np.array([3, 5, 6, 6, 5, 5, 6, 8, 10, 11, 9, 6], dtype=float)  # 10:00 .. 21:59
_ONLINE_HOUR_WEIGHTS = np.array(
    [2, 1, 0.5, 0.3, 0.2, 0.3, 0.8, 2, 3, 3.5, 4, 4.5, 5, 4.5, 4, 4, 4.5, 5, 5.5, 6, 7, 8, 7, 4], dtype=float
)


@dataclass(frozen=True)
class ChainParams:
    """True parameters of the simulation (time unit: days; money: yuan).

    BG/NBD: purchase rate ``λ ~ Gamma(shape=r, rate=alpha)``, dropout probability ``p ~ Beta(a, b)``.
    Gamma-Gamma: ``ν ~ Gamma(shape=q, rate=gamma)``; each order value ``z ~ Gamma(shape=p_gg, rate=ν)``.
    Defaults: an alive member buys ``r/alpha*365 ≈ 3`` times a year; mean order ``p_gg*gamma/(q-1) = ¥500``.
    """

    r: float = 0.9
    alpha: float = 110.0
    a: float = 0.8
    b: float = 4.0
    p_gg: float = 4.0
    q: float = 4.0
    gamma: float = 375.0
    prospect_share: float = 0.10
    launch_wave_share: float = 0.25  # members who sign up in the programme's first 90 days
    member_sales_share: float = 0.62  # target share of gross sales made by members
    walkin_mean_order: float = 420.0
    lines_extra_mean: float = 0.55  # lines per order = 1 + Poisson(this)
    double_quantity_share: float = 0.12  # tops/accessories lines with quantity 2
    return_share_extra_line: float = 0.16
    return_share_double_unit: float = 0.10
    home_store_share: float = 0.85
    join_channel_probs: tuple[float, float, float] = (0.75, 0.17, 0.08)
    repeat_channel_probs: tuple[float, float, float] = (0.68, 0.20, 0.12)
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("extra")
        out["join_channel_probs"] = list(self.join_channel_probs)
        out["repeat_channel_probs"] = list(self.repeat_channel_probs)
        return out


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


def _day_index(date: str | pd.Timestamp) -> int:
    return int((pd.Timestamp(date) - START).days)


def _stores_frame() -> pd.DataFrame:
    cols = ["store_id", "store_name", "city", "format", "area_m2", "staff", "opened",
            "traffic", "conversion", "entry_rate"]
    frame = pd.DataFrame(_STORES, columns=cols)
    frame["opened"] = pd.to_datetime(frame["opened"])
    return frame


def _promo_by_day() -> np.ndarray:
    labels = np.full(N_DAYS, "", dtype=object)
    for name, first, last in _PROMOS:
        lo, hi = max(_day_index(first), 0), min(_day_index(last), N_DAYS - 1)
        labels[lo : hi + 1] = name
    return labels


def _sku_catalog() -> pd.DataFrame:
    rows = []
    for category, prefix, prices, _typical in _CATEGORIES:
        number = 0
        for price in prices:
            for _ in range(SKUS_PER_PRICE):
                number += 1
                rows.append((f"{prefix}{number:03d}", category, price))
    return pd.DataFrame(rows, columns=["sku", "category", "list_price"])


def _draw_hours(rng: np.random.Generator, n: int, weights: np.ndarray, first_hour: int) -> np.ndarray:
    """Seconds after midnight, with the hour drawn from ``weights``."""
    hours = rng.choice(len(weights), size=n, p=weights / weights.sum()) + first_hour
    return hours * 3600 + rng.integers(0, 3600, size=n)


def _choose_weighted(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of a non-negative weight matrix (rows must have a positive sum)."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cum[:, -1]
    return (cum <= u[:, None]).sum(axis=1)


def simulate_chain(seed: int = 2025, n_members: int = 12_000, params: ChainParams | None = None) -> dict[str, pd.DataFrame]:
    """Simulate the whole chain in memory.

    Parameters
    ----------
    seed : int
        Seed of every random stream. The same seed gives the same frames.
    n_members : int
        Number of members (including ~10% prospects who never buy). At least 50.
    params : ChainParams, optional
        True parameters; the defaults describe a mid-price women's-wear chain.

    Returns
    -------
    dict of DataFrame
        ``stores``, ``store_targets``, ``members``, ``orders``, ``order_lines``, ``footfall``, ``campaign``
        (learner tables, amounts in yuan) and ``members_truth``, ``campaign_truth``, ``store_truth``, ``params``
        (trainer-only ground truth).

    Examples
    --------
    >>> t = simulate_chain(seed=1, n_members=200)
    >>> int((t["orders"]["amount"] > 0).all())
    1
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise _error(f"seed 必须是非负整数, 收到 {seed!r}", f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(n_members, bool) or not isinstance(n_members, (int, np.integer)) or n_members < 50:
        raise _error(f"n_members 必须是 ≥ 50 的整数, 收到 {n_members!r}",
                     f"n_members must be an integer ≥ 50, got {n_members!r}")
    params = params or ChainParams()
    streams = np.random.SeedSequence(int(seed)).spawn(8)
    rng_members, rng_orders, rng_lines, rng_walkin, rng_foot, rng_campaign, rng_returns, rng_targets = (
        np.random.default_rng(s) for s in streams
    )
    stores = _stores_frame()
    n_stores = len(stores)
    open_day = np.maximum(((stores["opened"] - START).dt.days).to_numpy(), 0)
    store_pull = (stores["traffic"] * stores["conversion"]).to_numpy()  # orders ∝ traffic × conversion
    promo_day = _promo_by_day()

    members, member_state = _simulate_members(rng_members, n_members, params, stores, open_day, store_pull)
    member_orders = _simulate_member_orders(rng_orders, member_state, params, open_day, store_pull, n_stores)
    campaign, campaign_truth, coupon_orders = _simulate_campaign(rng_campaign, member_state, member_orders, params)
    all_member_orders = pd.concat([member_orders, coupon_orders], ignore_index=True)
    walkins = _simulate_walkins(rng_walkin, all_member_orders, params, stores, open_day, promo_day)
    orders = pd.concat([all_member_orders, walkins], ignore_index=True)
    orders = _finalise_orders(rng_orders, orders, promo_day)
    orders, lines = _simulate_lines(rng_lines, orders, params)
    lines = _simulate_returns(rng_returns, orders, lines, params)

    # Member ids in order of sign-up time.
    cid = members["customer_id"].to_numpy()
    orders["customer_id"] = pd.Series(
        np.where(orders["member"].to_numpy() >= 0, cid[np.maximum(orders["member"].to_numpy(), 0)], None),
        dtype="str",
    )
    members = _assign_tiers(members, orders, lines)
    footfall = _simulate_footfall(rng_foot, orders, stores, open_day)
    targets = _simulate_targets(rng_targets, orders, stores)
    truth = _members_truth(members, member_state, orders)
    campaign["customer_id"] = cid[campaign["member"].to_numpy()]
    campaign_truth["customer_id"] = cid[campaign_truth["member"].to_numpy()]

    store_truth = stores[["store_id", "traffic", "conversion", "entry_rate"]].copy()
    store_truth["weak"] = store_truth["store_id"] == WEAK_STORE
    store_truth["weak_factor"] = np.where(store_truth["weak"], WEAK_FACTOR, "")
    out = {
        "stores": stores[["store_id", "store_name", "city", "format", "area_m2", "staff", "opened"]].copy(),
        "store_targets": targets,
        "members": members,
        "orders": _public_orders(orders),
        "order_lines": _public_lines(lines),
        "footfall": footfall,
        "campaign": campaign[["campaign_id", "customer_id", "group", "send_date", "window_end", "coupon_value"]],
        "members_truth": truth,
        "campaign_truth": campaign_truth[
            ["customer_id", "group", "natural_purchase", "coupon_purchase", "purchased"]
        ].sort_values("customer_id", ignore_index=True),
        "store_truth": store_truth,
        "params": pd.DataFrame(
            {"name": list(params.as_dict()), "value": [str(v) for v in params.as_dict().values()]}
        ),
    }
    return out


# --- members --------------------------------------------------------------------------------------------------------
def _simulate_members(rng, n, params: ChainParams, stores, open_day, store_pull):
    launch = rng.random(n) < params.launch_wave_share
    join_time = np.where(launch, rng.random(n) * 90.0, rng.random(n) * N_DAYS)
    join_time = np.sort(join_time)  # customer ids follow sign-up order
    join_day = np.floor(join_time).astype(np.int64)
    prospect = rng.random(n) < params.prospect_share
    is_open = join_day[:, None] >= open_day[None, :]
    join_store = _choose_weighted(rng, is_open * store_pull[None, :])
    buyer_channel = _choose_weighted(rng, np.tile(np.array(params.join_channel_probs), (n, 1)))
    prospect_channel = _choose_weighted(rng, np.tile(np.array([0.30, 0.45, 0.25]), (n, 1)))
    join_channel = np.where(prospect, prospect_channel, buyer_channel)
    gender = np.where(rng.random(n) < 0.80, GENDERS[0], GENDERS[1])
    birth_year = np.clip(np.round(rng.normal(1989, 9, n)), 1955, 2006).astype(np.int64)
    store_city = stores["city"].to_numpy()[join_store]
    cities = np.array(sorted(stores["city"].unique()))
    other_city = cities[rng.integers(0, len(cities), n)]
    city = np.where(rng.random(n) < 0.85, store_city, other_city)
    names = np.array([s for s, _ in _SURNAMES])
    weights = np.array([w for _, w in _SURNAMES])
    surname = names[rng.choice(len(names), size=n, p=weights / weights.sum())]
    # Unique fake phones in the never-allocated 154 block: draw extra, keep the first occurrence of each.
    draws = rng.integers(0, 100_000_000, size=n + n // 2 + 100)
    _, first = np.unique(draws, return_index=True)
    unique_draws = draws[np.sort(first)][:n]
    if len(unique_draws) < n:  # pragma: no cover - impossible at sane sizes
        raise RuntimeError("phone pool exhausted")
    phone = np.array([f"154{v:08d}" for v in unique_draws])
    # BG/NBD and Gamma-Gamma latent traits, drawn independently of every attribute above.
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    p_drop = rng.beta(params.a, params.b, n)
    nu = rng.gamma(params.q, 1.0 / params.gamma, n)
    join_secs = _draw_hours(rng, n, _POS_HOUR_WEIGHTS, 10)
    members = pd.DataFrame(
        {
            "customer_id": pd.array([f"M{i + 1:06d}" for i in range(n)], dtype="str"),
            "join_date": START + pd.to_timedelta(join_day, unit="D"),
            "join_store_id": stores["store_id"].to_numpy()[join_store],
            "join_channel": np.array(CHANNEL_CODES)[join_channel],
            "gender": gender,
            "birth_year": birth_year,
            "city": city,
            "surname": surname,
            "phone": phone,
        }
    )
    state = {
        "join_time": join_time, "join_day": join_day, "join_store": join_store, "join_channel": join_channel,
        "prospect": prospect, "lam": lam, "p_drop": p_drop, "nu": nu, "join_secs": join_secs, "n": n,
    }
    return members, state


def _simulate_member_orders(rng, st, params: ChainParams, open_day, store_pull, n_stores) -> pd.DataFrame:
    """BG/NBD purchases: first purchase at sign-up, Poisson(λ) repeats, dropout after the N-th repeat."""
    buyers = np.flatnonzero(~st["prospect"])
    t0 = st["join_time"][buyers]
    horizon = N_DAYS - t0
    lam = st["lam"][buyers]
    n_events = rng.poisson(lam * horizon)
    n_before_drop = rng.geometric(st["p_drop"][buyers])  # the customer drops out right after repeat no. N
    owner = np.repeat(np.arange(len(buyers)), n_events)
    offsets = rng.random(len(owner)) * horizon[owner]
    order = np.lexsort((offsets, owner))
    owner, offsets = owner[order], offsets[order]
    starts = np.concatenate([[0], np.cumsum(n_events)[:-1]])
    rank = np.arange(len(owner)) - starts[owner]
    keep = rank < n_before_drop[owner]
    owner, offsets, rank = owner[keep], offsets[keep], rank[keep]
    dropped = n_events >= n_before_drop
    dropout_time = np.full(len(buyers), np.nan)
    drop_rows = np.flatnonzero(rank == n_before_drop[owner] - 1)
    dropout_time[owner[drop_rows]] = t0[owner[drop_rows]] + offsets[drop_rows]
    st["dropout_time"] = np.full(st["n"], np.nan)
    st["dropout_time"][buyers] = np.where(dropped, dropout_time, np.nan)

    # First purchases (the sign-up) and repeats in one frame.
    member = np.concatenate([buyers, buyers[owner]])
    day = np.concatenate([st["join_day"][buyers], np.floor(t0[owner] + offsets).astype(np.int64)])
    first = np.concatenate([np.ones(len(buyers), bool), np.zeros(len(owner), bool)])
    n_orders = len(member)
    repeat_channel = _choose_weighted(rng, np.tile(np.array(params.repeat_channel_probs), (n_orders, 1)))
    channel = np.where(first, st["join_channel"][member], repeat_channel)
    home = st["join_store"][member]
    is_open = day[:, None] >= open_day[None, :]
    other = _choose_weighted(rng, is_open * store_pull[None, :])
    use_home = (rng.random(n_orders) < params.home_store_share) | first | (channel != 0)
    store = np.where(use_home, home, other)
    amount = _gamma_gamma_cents(rng, params, st["nu"][member])
    secs = np.where(
        channel == 0,
        _draw_hours(rng, n_orders, _POS_HOUR_WEIGHTS, 10),
        _draw_hours(rng, n_orders, _ONLINE_HOUR_WEIGHTS, 0),
    )
    secs = np.where(first, st["join_secs"][member], secs)
    secs = np.where(first & (channel != 0), _draw_hours(rng, n_orders, _ONLINE_HOUR_WEIGHTS, 0), secs)
    return pd.DataFrame(
        {"member": member, "day": day, "secs": secs, "store": store, "channel": channel, "amount_cents": amount,
         "source": np.where(first, "first", "repeat")}
    )


def _gamma_gamma_cents(rng, params: ChainParams, nu: np.ndarray) -> np.ndarray:
    value = rng.gamma(params.p_gg, 1.0 / nu)
    return np.maximum(np.round(value * 100), 100).astype(np.int64)  # at least ¥1.00


# --- campaign -------------------------------------------------------------------------------------------------------
def _simulate_campaign(rng, st, member_orders: pd.DataFrame, params: ChainParams):
    send = _day_index(CAMPAIGN_SEND)
    window_end = _day_index(CAMPAIGN_WINDOW_END)
    before = member_orders[member_orders["day"] < send]
    last_day = before.groupby("member")["day"].max()
    sleep = send - last_day
    eligible = np.sort(sleep[(sleep >= CAMPAIGN_SLEEP_DAYS[0]) & (sleep <= CAMPAIGN_SLEEP_DAYS[1])].index.to_numpy())
    treated = rng.random(len(eligible)) < CAMPAIGN_TREATED_SHARE
    in_window = member_orders[(member_orders["day"] >= send) & (member_orders["day"] <= window_end)]
    natural = np.isin(eligible, in_window["member"].to_numpy())
    coupon = treated & (rng.random(len(eligible)) < CAMPAIGN_COUPON_RESPONSE)
    buyers = eligible[coupon]
    n = len(buyers)
    channel = np.where(rng.random(n) < 0.5, 0, 1)
    coupon_orders = pd.DataFrame(
        {
            "member": buyers,
            "day": rng.integers(send, window_end + 1, size=n),
            "secs": np.where(channel == 0, _draw_hours(rng, n, _POS_HOUR_WEIGHTS, 10),
                             _draw_hours(rng, n, _ONLINE_HOUR_WEIGHTS, 0)),
            "store": st["join_store"][buyers],
            "channel": channel,
            "amount_cents": _gamma_gamma_cents(rng, params, st["nu"][buyers]),
            "source": "coupon",
        }
    )
    group = np.where(treated, "treatment", "control")
    campaign = pd.DataFrame(
        {
            "campaign_id": CAMPAIGN_ID,
            "member": eligible,
            "group": group,
            "send_date": CAMPAIGN_SEND,
            "window_end": CAMPAIGN_WINDOW_END,
            "coupon_value": np.where(treated, CAMPAIGN_COUPON, 0.0),
        }
    )
    truth = pd.DataFrame(
        {"member": eligible, "group": group, "natural_purchase": natural, "coupon_purchase": coupon,
         "purchased": natural | coupon}
    )
    return campaign, truth, coupon_orders


# --- walk-ins -------------------------------------------------------------------------------------------------------
def _simulate_walkins(rng, member_orders, params: ChainParams, stores, open_day, promo_day) -> pd.DataFrame:
    days = np.arange(N_DAYS)
    dates = START + pd.to_timedelta(days, unit="D")
    dow = np.array([0.8, 0.8, 0.8, 0.85, 1.0, 1.5, 1.4])[dates.day_of_week.to_numpy()]
    season = np.array([1.1, 0.85, 0.9, 0.95, 1.0, 1.05, 0.95, 0.9, 1.0, 1.1, 1.2, 1.15])[dates.month.to_numpy() - 1]
    promo = np.where(promo_day != "", _PROMO_LIFT, 1.0)
    trend = 1.3 - 0.6 * days / N_DAYS  # walk-ins slowly become members after the programme launch
    day_weight = dow * season * promo * trend
    pull = (stores["traffic"] * stores["conversion"]).to_numpy()
    weight = (days[:, None] >= open_day[None, :]) * day_weight[:, None] * pull[None, :]
    member_sales = member_orders["amount_cents"].sum() / 100.0
    target = member_sales * (1 - params.member_sales_share) / params.member_sales_share
    scale = target / params.walkin_mean_order / weight.sum()
    counts = rng.poisson(weight * scale)
    day_idx, store_idx = np.nonzero(counts)
    reps = counts[day_idx, store_idx]
    day = np.repeat(day_idx, reps)
    store = np.repeat(store_idx, reps)
    n = len(day)
    shape = 2.5
    amount = np.maximum(np.round(rng.gamma(shape, params.walkin_mean_order / shape, n) * 100), 100).astype(np.int64)
    return pd.DataFrame(
        {"member": -1, "day": day, "secs": _draw_hours(rng, n, _POS_HOUR_WEIGHTS, 10), "store": store,
         "channel": 0, "amount_cents": amount, "source": "walkin"}
    )


def _finalise_orders(rng, orders: pd.DataFrame, promo_day) -> pd.DataFrame:
    tiebreak = rng.random(len(orders))
    order = np.lexsort((tiebreak, orders["store"].to_numpy(), orders["secs"].to_numpy(), orders["day"].to_numpy()))
    orders = orders.iloc[order].reset_index(drop=True)
    orders["order_id"] = [f"O{i + 1:08d}" for i in range(len(orders))]
    promo = promo_day[orders["day"].to_numpy()]
    orders["promo"] = np.where(orders["source"] == "coupon", "唤醒券", promo)
    lo = np.array([PROMO_DISCOUNT[p][0] for p in orders["promo"]])
    hi = np.array([PROMO_DISCOUNT[p][1] for p in orders["promo"]])
    orders["discount_rate"] = lo + (hi - lo) * rng.random(len(orders))
    coupon_cents = np.where(orders["source"] == "coupon", int(CAMPAIGN_COUPON * 100), 0)
    orders["target_list_cents"] = (orders["amount_cents"] + coupon_cents) / (1 - orders["discount_rate"])
    orders["month"] = (START + pd.to_timedelta(orders["day"], unit="D")).dt.month.to_numpy()
    return orders


# --- order lines ----------------------------------------------------------------------------------------------------
def _simulate_lines(rng, orders: pd.DataFrame, params: ChainParams):
    catalog = _sku_catalog()
    n_cat = len(CATEGORIES)
    price_points = [np.array(c[2], dtype=float) for c in _CATEGORIES]
    typical = np.array([c[3] for c in _CATEGORIES])
    sku_base = {}  # category index -> position of its first SKU in the catalog
    pos = 0
    for k, c in enumerate(_CATEGORIES):
        sku_base[k] = pos
        pos += len(c[2]) * SKUS_PER_PRICE
    sku_codes = catalog["sku"].to_numpy()
    mix = _SEASON_MIX / _SEASON_MIX.sum(axis=1, keepdims=True)

    n_orders = len(orders)
    n_lines = 1 + rng.poisson(params.lines_extra_mean, n_orders)
    line_order = np.repeat(np.arange(n_orders), n_lines)
    months = orders["month"].to_numpy()

    def draw_lines(order_idx: np.ndarray):
        cat = _choose_weighted(rng, mix[months[order_idx] - 1])
        qty = np.where(np.isin(cat, (0, 5)) & (rng.random(len(order_idx)) < params.double_quantity_share), 2, 1)
        weight = typical[cat] * np.exp(rng.normal(0, 0.35, len(order_idx)))
        return cat, qty, weight

    cat, qty, weight = draw_lines(line_order)
    target = orders["target_list_cents"].to_numpy() / 100.0
    weight_sum = np.bincount(line_order, weights=weight * qty, minlength=n_orders)
    desired = target[line_order] * weight / weight_sum[line_order]
    price_idx = np.zeros(len(line_order), dtype=np.int64)
    for k in range(n_cat):
        m = cat == k
        pts = price_points[k]
        hi = np.clip(np.searchsorted(pts, desired[m]), 0, len(pts) - 1)
        lo = np.clip(hi - 1, 0, len(pts) - 1)
        nearer_lo = np.abs(np.log(pts[lo] / desired[m])) < np.abs(np.log(pts[hi] / desired[m]))
        price_idx[m] = np.where(nearer_lo, lo, hi)

    def prices_of(cat_arr, idx_arr):
        out = np.zeros(len(cat_arr))
        for k in range(n_cat):
            m = cat_arr == k
            out[m] = price_points[k][idx_arr[m]]
        return out

    amount = orders["amount_cents"].to_numpy()
    list_price = prices_of(cat, price_idx)
    # Fix-up 1: orders whose chosen list prices fall short of the paid amount take the next price point up.
    list_total = np.bincount(line_order, weights=list_price * qty * 100, minlength=n_orders)
    short = list_total < amount
    bump = short[line_order]
    for k in range(n_cat):
        m = bump & (cat == k)
        pts = price_points[k]
        price_idx[m] = np.clip(np.searchsorted(pts, desired[m]), 0, len(pts) - 1)
    list_price = prices_of(cat, price_idx)
    # Fix-up 2: very large orders add lines until the list value covers the amount.
    for _ in range(200):
        list_total = np.bincount(line_order, weights=list_price * qty * 100, minlength=n_orders)
        short_orders = np.flatnonzero(list_total < amount)
        if len(short_orders) == 0:
            break
        c2, q2, _w = draw_lines(short_orders)
        need = (amount[short_orders] - list_total[short_orders]) / 100.0 / q2
        idx2 = np.zeros(len(short_orders), dtype=np.int64)
        for k in range(n_cat):
            m = c2 == k
            pts = price_points[k]
            idx2[m] = np.clip(np.searchsorted(pts, need[m]), 0, len(pts) - 1)
        line_order = np.concatenate([line_order, short_orders])
        cat = np.concatenate([cat, c2])
        qty = np.concatenate([qty, q2])
        price_idx = np.concatenate([price_idx, idx2])
        list_price = np.concatenate([list_price, prices_of(c2, idx2)])
    else:  # pragma: no cover
        raise RuntimeError("order lines did not converge")
    sort = np.argsort(line_order, kind="stable")
    line_order, cat, qty, price_idx, list_price = (x[sort] for x in (line_order, cat, qty, price_idx, list_price))
    counts = np.bincount(line_order, minlength=n_orders)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    line_no = np.arange(len(line_order)) - starts[line_order] + 1
    base = np.array([sku_base[k] for k in cat]) + price_idx * SKUS_PER_PRICE
    sku = sku_codes[base + rng.integers(0, SKUS_PER_PRICE, len(line_order))]

    # Allocate the paid amount across lines in proportion to list value (largest remainder, exact to the cent).
    line_list_cents = (list_price * 100).astype(np.int64) * qty
    list_total = np.bincount(line_order, weights=line_list_cents, minlength=n_orders).astype(np.int64)
    numer = amount[line_order] * line_list_cents
    share = numer // list_total[line_order]
    remainder = numer % list_total[line_order]
    leftover = amount - np.bincount(line_order, weights=share, minlength=n_orders).astype(np.int64)
    rank_order = np.lexsort((line_no, -remainder, line_order))
    rank = np.empty(len(line_order), dtype=np.int64)
    rank[rank_order] = np.arange(len(line_order)) - starts[line_order[rank_order]]
    line_amount = share + (rank < leftover[line_order])

    orders = orders.copy()
    orders["units"] = np.bincount(line_order, weights=qty, minlength=n_orders).astype(np.int64)
    orders["list_cents"] = list_total
    lines = pd.DataFrame(
        {
            "order": line_order,
            "line_no": line_no,
            "line_type": "sale",
            "day": orders["day"].to_numpy()[line_order],
            "secs": orders["secs"].to_numpy()[line_order],
            "sku": sku,
            "category": np.array(CATEGORIES)[cat],
            "quantity": qty,
            "list_price_cents": (list_price * 100).astype(np.int64),
            "amount_cents": line_amount,
        }
    )
    return orders, lines


def _simulate_returns(rng, orders: pd.DataFrame, lines: pd.DataFrame, params: ChainParams) -> pd.DataFrame:
    """Item-level partial returns within 30 days; line 1 always keeps at least one unit."""
    extra = lines["line_no"].to_numpy() >= 2
    double_first = (lines["line_no"].to_numpy() == 1) & (lines["quantity"].to_numpy() == 2)
    u = rng.random(len(lines))
    returned = (extra & (u < params.return_share_extra_line)) | (double_first & (u < params.return_share_double_unit))
    ret = lines[returned].copy()
    ret_qty = np.where(ret["line_no"].to_numpy() == 1, 1, ret["quantity"].to_numpy())
    ret_amount = np.where(ret_qty < ret["quantity"].to_numpy(), ret["amount_cents"].to_numpy() // 2,
                          ret["amount_cents"].to_numpy())
    # One return visit per order, 1-30 days after the sale; returns after the data end are not in the data.
    order_ids = np.unique(ret["order"].to_numpy())
    delay = rng.integers(1, 31, size=len(order_ids))
    is_pos = orders["channel"].to_numpy()[order_ids] == 0
    secs = np.where(is_pos, _draw_hours(rng, len(order_ids), _POS_HOUR_WEIGHTS, 10),
                    _draw_hours(rng, len(order_ids), _ONLINE_HOUR_WEIGHTS, 0))
    pos_in = np.searchsorted(order_ids, ret["order"].to_numpy())
    ret["day"] = ret["day"].to_numpy() + delay[pos_in]
    ret["secs"] = secs[pos_in]
    ret["line_type"] = "return"
    ret["quantity"] = -ret_qty
    ret["amount_cents"] = -ret_amount
    ret = ret[ret["day"].to_numpy() < N_DAYS]
    max_line = lines.groupby("order")["line_no"].max()
    ret["line_no"] = max_line.reindex(ret["order"]).to_numpy() + ret.groupby("order").cumcount().to_numpy() + 1
    out = pd.concat([lines, ret], ignore_index=True)
    return out.sort_values(["order", "line_no"], ignore_index=True)


# --- derived tables -------------------------------------------------------------------------------------------------
def _timestamp(day: np.ndarray, secs: np.ndarray) -> pd.Series:
    return pd.Series(START + pd.to_timedelta(day, unit="D") + pd.to_timedelta(secs, unit="s"))


def _assign_tiers(members: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    first = N_DAYS - 365
    in_window = lines[lines["day"] >= first]
    member = orders["member"].to_numpy()[in_window["order"].to_numpy()]
    keep = member >= 0
    spend = np.bincount(member[keep], weights=in_window["amount_cents"].to_numpy()[keep], minlength=len(members))
    yuan = spend / 100.0
    tier = np.where(yuan >= TIER_THRESHOLDS["金卡"], "金卡", np.where(yuan >= TIER_THRESHOLDS["银卡"], "银卡", "普卡"))
    members = members.copy()
    members["tier"] = tier
    return members


def _simulate_footfall(rng, orders: pd.DataFrame, stores: pd.DataFrame, open_day) -> pd.DataFrame:
    n_stores = len(stores)
    pos = orders[orders["channel"] == 0]
    counts = np.zeros((N_DAYS, n_stores), dtype=np.int64)
    np.add.at(counts, (pos["day"].to_numpy(), pos["store"].to_numpy()), 1)
    days = np.arange(N_DAYS)
    conv = stores["conversion"].to_numpy()
    entry = stores["entry_rate"].to_numpy()
    staff = stores["staff"].to_numpy()
    weekday = (START + pd.to_timedelta(days, unit="D")).day_of_week.to_numpy()
    day_conv = np.clip(conv[None, :] * np.exp(rng.normal(0, 0.12, counts.shape)), 0.05, 0.9)
    browsers = rng.poisson(counts * (1 - day_conv) / day_conv + 1.0)
    visitors = counts + browsers
    day_entry = np.clip(entry[None, :] * np.exp(rng.normal(0, 0.15, counts.shape)), 0.02, 0.6)
    passers = visitors + rng.poisson(visitors * (1 - day_entry) / day_entry + 5.0)
    attendance = np.where(weekday >= 5, 0.95, 0.75)[:, None] * np.exp(rng.normal(0, 0.05, counts.shape))
    hours = np.round(staff[None, :] * 8.0 * attendance * 2) / 2
    day_grid, store_grid = np.meshgrid(days, np.arange(n_stores), indexing="ij")
    is_open = day_grid >= open_day[None, :]
    frame = pd.DataFrame(
        {
            "date": START + pd.to_timedelta(day_grid[is_open], unit="D"),
            "store_id": stores["store_id"].to_numpy()[store_grid[is_open]],
            "passers_by": passers[is_open],
            "visitors": visitors[is_open],
            "pos_orders": counts[is_open],
            "staff_hours": hours[is_open],
        }
    )
    return frame.sort_values(["date", "store_id"], ignore_index=True)


def _simulate_targets(rng, orders: pd.DataFrame, stores: pd.DataFrame) -> pd.DataFrame:
    """Monthly targets: what the store would sell at the chain's usual conversion, plus ~6% stretch."""
    month = (START + pd.to_timedelta(orders["day"], unit="D")).dt.to_period("M")
    sales = orders.assign(month=month).groupby(["store", "month"])["amount_cents"].sum() / 100.0
    sales = sales.reset_index()
    conv = stores["conversion"].to_numpy()
    peer_conv = float(np.median(conv))
    potential = sales["amount_cents"].to_numpy() * np.maximum(peer_conv / conv[sales["store"].to_numpy()], 1.0)
    stretch = 1.06 + rng.normal(0, 0.04, len(sales))
    target = np.round(potential * stretch / 1000) * 1000
    frame = pd.DataFrame(
        {
            "store_id": stores["store_id"].to_numpy()[sales["store"].to_numpy()],
            "month": sales["month"].dt.to_timestamp().to_numpy(),
            "sales_target": target,
        }
    )
    return frame.sort_values(["store_id", "month"], ignore_index=True)


def _members_truth(members: pd.DataFrame, st, orders: pd.DataFrame) -> pd.DataFrame:
    n = st["n"]
    buyer = ~st["prospect"]
    member = orders["member"].to_numpy()
    is_m = member >= 0
    day = orders["day"].to_numpy()
    natural = orders["source"].isin(["first", "repeat"]).to_numpy()
    cal = is_m & natural & (day < CALIBRATION_DAYS)
    hold = is_m & (day >= CALIBRATION_DAYS)
    cal_orders = np.bincount(member[cal], minlength=n)
    hold_orders = np.bincount(member[hold], minlength=n)
    hold_natural = np.bincount(member[hold & natural], minlength=n)
    hold_spend = np.bincount(member[hold], weights=orders["amount_cents"].to_numpy()[hold], minlength=n) / 100.0
    drop = st["dropout_time"]
    drop_day = np.floor(drop)
    joined_in_cal = st["join_day"] < CALIBRATION_DAYS
    alive_cal = np.where(buyer & joined_in_cal, ~(drop_day < CALIBRATION_DAYS), False)
    frame = pd.DataFrame(
        {
            "customer_id": members["customer_id"],
            "prospect": st["prospect"],
            "lam": np.where(buyer, st["lam"], np.nan),
            "p_drop": np.where(buyer, st["p_drop"], np.nan),
            "nu": np.where(buyer, st["nu"], np.nan),
            "joined_in_calibration": joined_in_cal,
            "alive_at_calibration_end": pd.array(
                np.where(buyer & joined_in_cal, alive_cal, None), dtype="boolean"
            ),
            "dropout_date": START + pd.to_timedelta(drop_day, unit="D"),
            "calibration_orders": cal_orders,
            "holdout_orders": hold_orders,
            "holdout_natural_orders": hold_natural,
            "holdout_spend": hold_spend,
        }
    )
    return frame


def _public_orders(orders: pd.DataFrame) -> pd.DataFrame:
    store_ids = np.array([s[0] for s in _STORES])
    amount = orders["amount_cents"].to_numpy()
    list_cents = orders["list_cents"].to_numpy()
    frame = pd.DataFrame(
        {
            "order_id": orders["order_id"],
            "order_time": _timestamp(orders["day"].to_numpy(), orders["secs"].to_numpy()),
            "customer_id": orders["customer_id"],
            "store_id": store_ids[orders["store"].to_numpy()],
            "channel": np.array(CHANNEL_CODES)[orders["channel"].to_numpy()],
            "units": orders["units"].to_numpy(),
            "list_amount": list_cents / 100.0,
            "discount_amount": (list_cents - amount) / 100.0,
            "amount": amount / 100.0,
            "promo": orders["promo"].to_numpy(),
        }
    )
    return frame


def _public_lines(lines: pd.DataFrame) -> pd.DataFrame:
    order_ids = np.array([f"O{i + 1:08d}" for i in range(int(lines["order"].max()) + 1)])
    amount = lines["amount_cents"].to_numpy()
    qty = lines["quantity"].to_numpy()
    frame = pd.DataFrame(
        {
            "order_id": order_ids[lines["order"].to_numpy()],
            "line_no": lines["line_no"].to_numpy(),
            "line_type": lines["line_type"].to_numpy(),
            "line_time": _timestamp(lines["day"].to_numpy(), lines["secs"].to_numpy()),
            "sku": lines["sku"].to_numpy(),
            "category": lines["category"].to_numpy(),
            "quantity": qty,
            "list_price": lines["list_price_cents"].to_numpy() / 100.0,
            "unit_price": np.round(amount / qty) / 100.0,
            "amount": amount / 100.0,
        }
    )
    return frame
