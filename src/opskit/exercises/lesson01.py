"""Lesson 01 (Customer data collection, 客户数据管理): five exercises on cleaning raw exports.

The notebook defines, before the exercises (``SETUP`` holds small stand-ins of the same shape for the tests):

- ``raw_phones``: a Series of phone numbers as typed in the online shop (``+86``, dashes, spaces, a masked one);
- ``money_text``: a Series of POS amount texts such as ``￥1,299.00`` and ``-￥459.00``;
- ``pos_raw``: the POS export read as text (``opskit.collect.read_export(...).frame``);
- ``records``: a small identity case (member card, phone, masked phone, unionid per row);
- ``pos_clean``: the cleaned POS transactions (canonical columns).

- q1 ``phones``: normalise to 11 digits; anything that is not a valid mobile (masked, too short) becomes missing.
- q2 ``amounts``: money text → numbers in yuan (negative for returns).
- q3 ``duplicate_rows``: the rows that repeat an earlier row exactly (``pos_raw.duplicated()``).
- q4 ``customer_of``: by hand, which member card each record belongs to (``None`` for the walk-in).
- q5 ``id_share``, ``duplicate_rate``: data-quality KPIs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit.exercises.compare import compare_sequences
from opskit.exercises.core import Attempt, Examples, Mistake, Problem, code
from opskit.i18n import Text

# ---------------------------------------------------------------------------------------------------------------------
# Small stand-ins for the notebook's data (all phones in the never-allocated 154 block)
# ---------------------------------------------------------------------------------------------------------------------
_RAW_PHONES = pd.Series(["+86 154 1234 5678", "154-2693-1082", " 15404406646 ", "154 0701 9790", "154****5678",
                         "12345", " +8615477219842 "], name="mobile")
_MONEY_TEXT = pd.Series(["￥1,299.00", "-￥459.00", "￥88.50", "￥12,345.60"], name="实收金额")
_POS_COLUMNS = ["订单号", "会员卡号", "手机号", "消费日期", "消费时间", "门店", "件数", "实收金额", "备注"]
_POS_ROWS = [
    ["O1", "M000101", "", "2025-04-01", "10:00:00", "上海徐汇店", "1", "￥100.00", ""],
    ["O2", "", "", "2025/4/1", "11:00:00", "上海徐汇店", "2", "￥259.00", ""],
    ["O3", "M000205", "", "45748", "12:00:00", "上海徐汇店", "1", "￥88.00", ""],
    ["O2", "", "", "2025/4/3", "15:00:00", "上海徐汇店", "-1", "-￥129.50", "退货"],
    ["O4", "", "", "2025年4月3日", "16:00:00", "上海徐汇店", "1", "￥66.00", ""],
    ["O2", "", "", "2025/4/1", "11:00:00", "上海徐汇店", "2", "￥259.00", ""],
    ["O3", "M000205", "", "45748", "12:00:00", "上海徐汇店", "1", "￥88.00", ""],
    ["O5", "", "", "2025-04-04", "09:30:00", "上海徐汇店", "3", "￥399.00", ""],
]
_POS_RAW = pd.DataFrame(_POS_ROWS, columns=_POS_COLUMNS)
_RECORDS = pd.DataFrame({
    "source": ["pos", "online", "wechat", "wechat", "pos", "online", "pos"],
    "member_card": ["M000101", "", "", "", "M000205", "", ""],
    "phone": ["15411110001", "15411110001", "", "15411110001", "15422220001", "15422220001", ""],
    "phone_masked": ["", "", "154****0001", "", "", "", ""],
    "unionid": ["", "", "oUn-a", "oUn-a", "", "", ""],
}, index=pd.RangeIndex(1, 8, name="record"))
_POS_CLEAN = pd.DataFrame({
    "order_id": ["O1", "O2", "O3", "O2", "O4", "O5"],
    "customer_id": ["M000101", None, "M000205", None, "M000301", None],
    "kind": ["sale", "sale", "sale", "return", "sale", "sale"],
    "amount": [100.0, 259.0, 88.0, -129.5, 66.0, 399.0],
})

SETUP = {"raw_phones": _RAW_PHONES, "money_text": _MONEY_TEXT, "pos_raw": _POS_RAW, "records": _RECORDS,
         "pos_clean": _POS_CLEAN}


def _series(value: object) -> pd.Series | None:
    return value if isinstance(value, pd.Series) else None


# ---------------------------------------------------------------------------------------------------------------------
# q1 phones
# ---------------------------------------------------------------------------------------------------------------------
def _expected_phones(ns) -> pd.Series:
    from opskit.collect import normalize_phones

    return normalize_phones(ns["raw_phones"])["phone"].rename(ns["raw_phones"].name)


class NormalisePhones(Problem):
    """q1: normalise phone numbers; invalid and masked ones become missing."""

    var = "phones"
    title = Text("手机号标准化", "normalise phone numbers")
    hints = [
        Text("先去掉所有非数字字符: raw_phones.str.replace(r\"\\D\", \"\", regex=True)。",
             "First remove every non-digit: raw_phones.str.replace(r\"\\D\", \"\", regex=True)."),
        Text("再去掉国家码 86: .str.removeprefix(\"86\")。最后只保留 1[3-9] 开头的 11 位数字: "
             "digits.where(digits.str.fullmatch(r\"1[3-9]\\d{9}\"))。",
             "Then drop the country code 86: .str.removeprefix(\"86\"). Finally keep only 11 digits starting "
             "1[3-9]: digits.where(digits.str.fullmatch(r\"1[3-9]\\d{9}\"))."),
    ]
    solution = code(
        'digits = raw_phones.str.replace(r"\\D", "", regex=True).str.removeprefix("86")  # 只留数字, 去掉国家码\n'
        'phones = digits.where(digits.str.fullmatch(r"1[3-9]\\d{9}"))  # 不是合法手机号的变为缺失 (invalid -> NaN)'
    )
    expected = staticmethod(_expected_phones)
    mistakes = [
        Mistake(
            key="kept_prefix",
            test=lambda a: _series(a.value) is not None and a.value.dropna().astype(str).str.fullmatch(r"86\d{11}").any(),
            message=Text("还留着国家码 86 (13 位数字): 去掉开头的 86", "the country code 86 is still there (13 digits): "
                         "remove the leading 86"),
        ),
        Mistake(
            key="not_validated",
            test=lambda a: _series(a.value) is not None and len(a.value) == len(a.expected)
            and (a.value.notna() & a.expected.isna()).any(),
            message=Text("有的值不是合法手机号 (如脱敏号或位数不对), 却没有设为缺失: 用 1[3-9] 开头的 11 位数字来校验",
                         "some values are not valid mobiles (masked, or the wrong length) but were kept: validate "
                         "with 11 digits starting 1[3-9] and set the rest to missing"),
        ),
        Mistake(
            key="dropped_rows",
            test=lambda a: _series(a.value) is not None and len(a.value) < len(a.expected),
            message=Text("行数变少了: 无效的号码要变成缺失值, 不要删掉行 (每一行都要有交代)",
                         "rows are missing: set invalid numbers to missing instead of dropping rows (every row must "
                         "be accounted for)"),
        ),
    ]


# ---------------------------------------------------------------------------------------------------------------------
# q2 amounts
# ---------------------------------------------------------------------------------------------------------------------
def _expected_amounts(ns) -> pd.Series:
    from opskit.collect import parse_money

    cents, _ = parse_money(ns["money_text"])
    return (cents.astype("float64") / 100).rename(ns["money_text"].name)


def _numeric_series(value: object) -> bool:
    return isinstance(value, pd.Series) and pd.api.types.is_numeric_dtype(value.dtype)


class ParseAmounts(Problem):
    """q2: money text to yuan."""

    var = "amounts"
    title = Text("金额文本转数字", "money text to numbers")
    hints = [
        Text("去掉 ￥ 和千分位逗号: .str.replace(\"￥\", \"\").str.replace(\",\", \"\")", "Remove ￥ and the thousands "
             "separators: .str.replace(\"￥\", \"\").str.replace(\",\", \"\")"),
        Text("然后用 .astype(float) 转成数字。负号要保留: 退货是负数。", "Then .astype(float) makes numbers. Keep the "
             "minus sign: returns are negative."),
    ]
    solution = code('amounts = money_text.str.replace("￥", "").str.replace(",", "").astype(float)  # 元 / yuan')
    expected = staticmethod(_expected_amounts)
    compare_options = {"atol": 0.005}
    mistakes = [
        Mistake(
            key="lost_sign",
            test=lambda a: _numeric_series(a.value) and len(a.value) == len(a.expected)
            and np.allclose(a.value.to_numpy(dtype=float), a.expected.abs().to_numpy(), atol=0.005),
            message=Text("退货的负号丢了: 只去掉 ￥ 和逗号, 不要去掉 -", "the minus sign of the returns is gone: remove "
                         "only ￥ and commas, not -"),
        ),
        Mistake(
            key="in_fen",
            test=lambda a: _numeric_series(a.value) and len(a.value) == len(a.expected)
            and np.allclose(a.value.to_numpy(dtype=float), a.expected.to_numpy() * 100, atol=0.5),
            message=Text("单位是分 (大了 100 倍): 这里要元", "these are fen (100× too big): the task wants yuan"),
        ),
        Mistake(
            key="still_text",
            test=lambda a: isinstance(a.value, pd.Series) and not pd.api.types.is_numeric_dtype(a.value.dtype),
            message=Text("还是文本: 最后用 .astype(float) 转成数字", "still text: finish with .astype(float)"),
        ),
    ]


# ---------------------------------------------------------------------------------------------------------------------
# q3 duplicate rows
# ---------------------------------------------------------------------------------------------------------------------
class DuplicateRows(Problem):
    """q3: the exact repeats of earlier rows."""

    var = "duplicate_rows"
    title = Text("找出重复上传的行", "find the double-uploaded rows")
    hints = [
        Text("pos_raw.duplicated() 对每一行给出 True/False: 它是否与前面某一行完全相同。",
             "pos_raw.duplicated() says for each row True/False: is it identical to an earlier row?"),
        Text("用这个布尔序列筛选行: pos_raw[pos_raw.duplicated()]。不要加 keep=False (那样会把第一次出现的也算进去)。",
             "Filter with that boolean Series: pos_raw[pos_raw.duplicated()]. Don't add keep=False (that also "
             "counts the first occurrence)."),
    ]
    solution = code("duplicate_rows = pos_raw[pos_raw.duplicated()]  # 与前面某行完全相同的行 (repeats of an earlier row)")
    expected = staticmethod(lambda ns: ns["pos_raw"][ns["pos_raw"].duplicated()])
    mistakes = [
        Mistake(
            key="keep_false",
            test=lambda a: isinstance(a.value, pd.DataFrame)
            and len(a.value) == int(a.namespace["pos_raw"].duplicated(keep=False).sum()),
            message=Text("把第一次出现的行也算进去了 (keep=False): 第一次出现的那行要保留",
                         "the first occurrences are included too (keep=False): the first copy is the one to keep"),
        ),
        Mistake(
            key="by_order_id",
            test=lambda a: isinstance(a.value, pd.DataFrame) and len(a.value) == int(
                a.namespace["pos_raw"].duplicated(subset=[a.namespace["pos_raw"].columns[0]]).sum()),
            message=Text("只按订单号判断会误伤退货行 (退货沿用原订单号): 要整行完全相同",
                         "judging by order id alone also catches return rows (a return keeps its order id): the whole "
                         "row must be identical"),
        ),
        Mistake(
            key="deduplicated",
            test=lambda a: isinstance(a.value, pd.DataFrame) and len(a.value) == len(a.namespace["pos_raw"]) - int(
                a.namespace["pos_raw"].duplicated().sum()),
            message=Text("这是去重后的表 (drop_duplicates): 题目要的是被去掉的那些重复行",
                         "that is the de-duplicated table (drop_duplicates): the task wants the repeated rows that "
                         "were removed"),
        ),
    ]


# ---------------------------------------------------------------------------------------------------------------------
# q4 identity by hand
# ---------------------------------------------------------------------------------------------------------------------
def _expected_customers(ns) -> list:
    from opskit.collect import link_identities

    records = ns["records"]
    linked = link_identities(records, ["member_card", "phone", "unionid"])
    return [None if pd.isna(v) else str(v) for v in linked.customer_id]


def _as_list(value: object) -> list | None:
    if isinstance(value, pd.Series):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [None if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else v for v in value]
    return None


def _row_differs(a: Attempt, row_position: int, wrong: object) -> bool:
    got = _as_list(a.value)
    if got is None or len(got) != len(a.expected):
        return False
    others_right = all(g == e for i, (g, e) in enumerate(zip(got, a.expected)) if i != row_position)
    return others_right and got[row_position] == wrong


class IdentityByHand(Problem):
    """q4: link records by shared keys, by hand."""

    var = "customer_of"
    title = Text("手工打通身份", "link identities by hand")
    hints = [
        Text("同一行里的卡号、手机号、unionid 属于同一个人; 两行只要共享一个键 (同一手机号或同一 unionid) 就是同一个人, "
             "而且可以传递: A 连 B, B 连 C, 则 A、C 也是同一人。",
             "Keys on the same row belong to one person; two rows that share a key (the same phone or unionid) are "
             "the same person, and links chain: A–B and B–C make A and C one person."),
        Text("脱敏手机号 154****0001 不能用来关联: 不同的人可能有相同的脱敏形式。没有任何键的行是散客: None。",
             "A masked phone such as 154****0001 cannot link anyone: different people can share it. A row with no "
             "key at all is a walk-in: None."),
    ]
    solution = code(
        'customer_of = ["M000101", "M000101", "M000101", "M000101", "M000205", "M000205", None]\n'
        "# 3 号记录: unionid oUn-a → 4 号记录 → 手机号 → 1 号记录的卡 M000101 (record 3 links through unionid,\n"
        "# then phone, to card M000101). 用函数验证 / check with the function:\n"
        "# from opskit.collect import link_identities\n"
        '# link_identities(records, ["member_card", "phone", "unionid"]).customer_id.tolist()'
    )
    expected = staticmethod(_expected_customers)

    def check_value(self, value):
        got = _as_list(value)
        want = self.expected_value()
        if got is None:
            return False, Text("应为列表, 每条记录一个卡号 (散客为 None)", "expected a list with one card per record "
                               "(None for the walk-in)")
        if len(got) != len(want):
            return False, Text(f"应有 {len(want)} 个值 (每条记录一个), 你的是 {len(got)}",
                               f"expected {len(want)} values (one per record), got {len(got)}")
        wrong = [i + 1 for i, (g, e) in enumerate(zip(got, want)) if g != e]
        if wrong:
            return False, Text(f"第 {', '.join(map(str, wrong))} 条记录不对", f"record(s) {', '.join(map(str, wrong))} "
                               "are not right yet")
        return True, None

    mistakes = [
        Mistake(
            key="no_chain",
            test=lambda a: _row_differs(a, 2, None),
            message=Text("3 号记录也能找到主人: 它的 unionid 出现在 4 号记录上, 而 4 号的手机号又出现在 1 号 (有卡) 上",
                         "record 3 has an owner too: its unionid is on record 4, whose phone is on record 1 (with a "
                         "card)"),
        ),
        Mistake(
            key="masked_link",
            test=lambda a: _row_differs(a, 2, "M000205"),
            message=Text("不能用脱敏手机号关联: 154****0001 既可能是 M000101 也可能是 M000205",
                         "a masked phone cannot link: 154****0001 fits both M000101 and M000205"),
        ),
        Mistake(
            key="walk_in_guessed",
            test=lambda a: (got := _as_list(a.value)) is not None and len(got) == len(a.expected)
            and got[:-1] == a.expected[:-1] and got[-1] is not None,
            message=Text("最后一条记录没有任何键, 是散客: 应为 None", "the last record has no key at all, a walk-in: "
                         "it should be None"),
        ),
    ]


# ---------------------------------------------------------------------------------------------------------------------
# q5 data-quality KPIs
# ---------------------------------------------------------------------------------------------------------------------
def _id_share(ns) -> float:
    sales = ns["pos_clean"][ns["pos_clean"]["kind"].astype(str) == "sale"]
    return float(sales["customer_id"].notna().mean())


def _duplicate_rate(ns) -> float:
    return float(ns["pos_raw"].duplicated().mean())


def _close(x: object, y: float, atol: float = 0.0006) -> bool:
    return isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, bool) and abs(float(x) - y) <= atol


class DataQualityKpis(Problem):
    """q5: share of sale orders with a customer id; duplicate rate of the raw export."""

    vars = ("id_share", "duplicate_rate")
    title = Text("数据质量指标", "data-quality KPIs")
    hints = [
        Text("id_share: 只看销售行 (kind == \"sale\"), 计算 customer_id 不为空的比例: .notna().mean()。",
             "id_share: take the sale rows only (kind == \"sale\") and the share with a customer_id: .notna().mean()."),
        Text("duplicate_rate: 原始导出中重复行所占比例: pos_raw.duplicated().mean()。两者都是 0–1 之间的小数。",
             "duplicate_rate: the share of repeated rows in the raw export: pos_raw.duplicated().mean(). Both are "
             "fractions between 0 and 1."),
    ]
    solution = code(
        'sales = pos_clean[pos_clean["kind"] == "sale"]\n'
        'id_share = sales["customer_id"].notna().mean()      # 有客户编号的订单占比 (share of orders with an id)\n'
        "duplicate_rate = pos_raw.duplicated().mean()        # 重复行占比 (share of repeated rows)"
    )
    expected = staticmethod(lambda ns: (_id_share(ns), _duplicate_rate(ns)))
    compare_options = {"atol": 0.0006}
    mistakes = [
        Mistake(
            key="percent",
            test=lambda a: isinstance(a.value, tuple) and any(
                _close(v, 100 * e, 0.06) and not _close(v, e) for v, e in zip(a.value, a.expected)),
            message=Text("这是百分数 (×100): 这里要 0–1 之间的小数", "that is a percentage (×100): use a fraction "
                         "between 0 and 1"),
        ),
        Mistake(
            key="with_returns",
            test=lambda a: isinstance(a.value, tuple) and _close(
                a.value[0], float(a.namespace["pos_clean"]["customer_id"].notna().mean())) and not _close(
                a.value[0], a.expected[0]),
            message=Text("id_share 把退货行也算进去了: 只看销售行 (kind == \"sale\")",
                         "id_share also counts the return rows: take the sale rows only (kind == \"sale\")"),
        ),
        Mistake(
            key="inverted",
            test=lambda a: isinstance(a.value, tuple) and any(
                _close(v, 1 - e) and not _close(v, e) for v, e in zip(a.value, a.expected)),
            message=Text("算成了反面 (1 − 比例): 例如没有客户编号的占比", "that is the complement (1 − share), e.g. the "
                         "share of orders without an id"),
        ),
    ]


PROBLEMS = [NormalisePhones, ParseAmounts, DuplicateRows, IdentityByHand, DataQualityKpis]

_PHONES = _expected_phones(SETUP)
_AMOUNTS = _expected_amounts(SETUP)
_DUPLICATES = _POS_RAW[_POS_RAW.duplicated()]
_CUSTOMERS = ["M000101", "M000101", "M000101", "M000101", "M000205", "M000205", None]
_ID_SHARE = 3 / 5
_DUP_RATE = 2 / 8

EXAMPLES = {
    "q1": Examples(
        correct=[_PHONES, _PHONES.astype(object), _PHONES.rename("phone")],
        mistakes={
            "kept_prefix": _RAW_PHONES.str.replace(r"\D", "", regex=True).where(_PHONES.notna()),
            "not_validated": _RAW_PHONES.str.replace(r"\D", "", regex=True).str.removeprefix("86"),
            "dropped_rows": _PHONES.dropna(),
        },
        wrong=[_PHONES.tolist(), "15412345678", None, _PHONES.fillna("")],
    ),
    "q2": Examples(
        correct=[_AMOUNTS, _AMOUNTS.round(2), _AMOUNTS.astype("Float64")],
        mistakes={"lost_sign": _AMOUNTS.abs(), "in_fen": _AMOUNTS * 100, "still_text": _MONEY_TEXT.str.replace("￥", "")},
        wrong=[_AMOUNTS.tolist(), _AMOUNTS / 100, _AMOUNTS.iloc[:3], 1299.0],
    ),
    "q3": Examples(
        correct=[_DUPLICATES, _DUPLICATES.copy()],
        mistakes={
            "keep_false": _POS_RAW[_POS_RAW.duplicated(keep=False)],
            "by_order_id": _POS_RAW[_POS_RAW.duplicated(subset=["订单号"])],
            "deduplicated": _POS_RAW.drop_duplicates(),
        },
        wrong=[_POS_RAW[_POS_RAW.duplicated(keep="last")], 2, _POS_RAW.duplicated()],
    ),
    "q4": Examples(
        correct=[_CUSTOMERS, tuple(_CUSTOMERS), pd.Series(_CUSTOMERS, dtype=object), _CUSTOMERS[:-1] + [float("nan")]],
        mistakes={
            "no_chain": _CUSTOMERS[:2] + [None] + _CUSTOMERS[3:],
            "masked_link": _CUSTOMERS[:2] + ["M000205"] + _CUSTOMERS[3:],
            "walk_in_guessed": _CUSTOMERS[:-1] + ["M000205"],
        },
        wrong=[_CUSTOMERS[:-1], ["M000101"] * 7, "M000101", None],
    ),
    "q5": Examples(
        correct=[(_ID_SHARE, _DUP_RATE), (0.6, 0.25), (np.float64(0.6), np.float64(0.25))],
        mistakes={"percent": (60.0, 25.0), "with_returns": (3 / 6, _DUP_RATE), "inverted": (0.4, 0.25)},
        wrong=[(0.7, 0.25), (0.6, 2), (0.6, "0.25"), (None, 0.25)],
    ),
}
