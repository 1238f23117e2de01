"""Lesson 00 (Welcome): two warm-up exercises about the chain, no dataset needed.

The notebook cell before the exercises defines yesterday's figures for one store::

    sales = 45_870   # 销售额 (元) / sales (yuan)
    orders = 108     # 订单数 / orders

- q1 ``atv``: 客单价 (average ticket) = sales ÷ orders.
- q2 ``channels``: the list of the chain's channel codes, from ``opskit.schema.CHANNELS``.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from opskit.exercises.compare import compare_numbers, describe, is_number
from opskit.exercises.core import Attempt, Examples, Mistake, Problem, code
from opskit.i18n import Text
from opskit.schema import CHANNELS

SETUP = {"sales": 45_870, "orders": 108}



class AverageTicket(Problem):
    """q1: average ticket from two given numbers."""

    var = "atv"
    title = Text("客单价", "average ticket (ATV)")
    hints = [
        Text(
            "客单价 = 销售额 ÷ 订单数。两个数已经在上面的单元格里: sales 和 orders。",
            "ATV = sales ÷ orders. Both numbers are in the cell above: sales and orders.",
        ),
        Text(
            "Python 里除法用 /, 例如 a / b。不要用 // (整除), 也不用自己取整。",
            "Divide with / in Python, e.g. a / b. Don't use // (floor division) and don't round it yourself.",
        ),
    ]
    solution = code("atv = sales / orders  # 客单价 = 销售额 ÷ 订单数 (ATV = sales ÷ orders)")
    expected = staticmethod(lambda ns: ns["sales"] / ns["orders"])
    # Money is exact to the fen: round(atv, 2) is accepted, rounding to whole yuan is not.
    compare_options = {"atol": 0.006}
    mistakes = [
        Mistake(
            key="inverted",
            test=lambda a: is_number(a.value) and compare_numbers(a.value, 1 / a.expected, rtol=1e-3)[0],
            message=Text(
                "算反了: 你算的是 订单数 ÷ 销售额。客单价 = 销售额 ÷ 订单数",
                "upside down: you computed orders ÷ sales. ATV = sales ÷ orders",
            ),
        ),
        Mistake(
            key="rounded",
            test=lambda a: is_number(a.value)
            and float(a.value) == math.floor(float(a.value))
            and abs(float(a.value) - a.expected) < 1,
            message=Text(
                "结果被取整了 (用了 //、int() 或 round()?): 客单价要保留小数",
                "the result was rounded to a whole number (// or int() or round()?): keep the decimals",
            ),
        ),
        Mistake(
            key="typed_sales",
            test=lambda a: is_number(a.value) and float(a.value) == float(a.namespace["sales"]),
            message=Text(
                "这是销售额本身: 还要除以订单数", "that is the sales figure itself: divide it by the number of orders"
            ),
        ),
    ]


def _channel_codes(value: object) -> list | None:
    """The items of a list/tuple of strings, else None."""
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


_LABELS = {text for label in CHANNELS.values() for text in (label.zh, label.en)}


def _missing_channels(attempt: Attempt) -> list[str]:
    return [code_ for code_ in CHANNELS if code_ not in attempt.value]


def _missing_message(attempt: Attempt) -> Text:
    missing = _missing_channels(attempt)
    return Text(
        "少了渠道: " + ", ".join(f"{describe(c)} ({CHANNELS[c].zh})" for c in missing),
        ("missing channels: " if len(missing) > 1 else "missing channel: ")
        + ", ".join(f"{describe(c)} ({CHANNELS[c].en})" for c in missing),
    )


class ChannelCodes(Problem):
    """q2: the list of channel codes; any order is fine."""

    var = "channels"
    title = Text("渠道代码列表", "list of channel codes")
    hints = [
        Text(
            "先看看 CHANNELS: 它是一个字典, 键 (冒号左边) 就是渠道代码, 值是显示名称。",
            "Look at CHANNELS first: it is a dict; its keys (left of the colon) are the channel codes, its values the "
            "display names.",
        ),
        Text(
            '列表写成 ["代码1", "代码2", "代码3"], 顺序无所谓。也可以用 list(CHANNELS) 直接取出字典的键。',
            'A list is written ["code1", "code2", "code3"]; order does not matter. list(CHANNELS) also gives the '
            "dict's keys.",
        ),
    ]
    solution = code(
        "from opskit.schema import CHANNELS\n"
        "\n"
        "channels = list(CHANNELS)  # 字典的键就是渠道代码 (the dict's keys are the channel codes)\n"
        '# 或 / or: channels = ["pos", "mini_program", "wecom_group"]'
    )
    expected = list(CHANNELS)
    compare_options = {"ignore_order": True, "strip": False}  # codes are exact keys
    mistakes = [
        Mistake(
            key="dict_not_list",
            test=lambda a: isinstance(a.value, dict),
            message=Text(
                "这是字典 (代码 → 名称), 题目要的是只有代码的列表: 对字典用 list() 得到它的键",
                "that is the dict (code → name); the task wants a list of the codes only: list() on a dict gives its keys",
            ),
        ),
        Mistake(
            key="one_string",
            test=lambda a: isinstance(a.value, str) and sum(c in a.value for c in CHANNELS) >= 2,
            message=Text(
                '这是一整个字符串。列表里每个代码单独加引号: ["pos", "mini_program", …]',
                'that is one single string. In a list each code has its own quotes: ["pos", "mini_program", …]',
            ),
        ),
        Mistake(
            key="labels_not_codes",
            test=lambda a: _channel_codes(a.value) is not None and any(item.strip() in _LABELS for item in a.value),
            message=Text(
                "用了渠道的显示名称 (如 '门店POS'); 这里要代码 (如 'pos'), 即 CHANNELS 的键",
                "you used display names (like 'store POS'); use the codes (like 'pos'): the keys of CHANNELS",
            ),
        ),
        Mistake(
            key="wrong_case",
            test=lambda a: _channel_codes(a.value) is not None
            and sorted(item.strip().lower() for item in a.value) == sorted(CHANNELS)
            and sorted(a.value) != sorted(CHANNELS),
            message=Text(
                "代码要和 CHANNELS 的键一模一样: 全小写, 没有空格",
                "codes must match the keys of CHANNELS exactly: all lowercase, no spaces",
            ),
        ),
        Mistake(
            key="missing_channel",
            test=lambda a: (codes := _channel_codes(a.value)) is not None
            and set(codes) < set(CHANNELS)
            and len(codes) == len(set(codes)),
            message=_missing_message,
        ),
    ]


PROBLEMS = [AverageTicket, ChannelCodes]

_ATV = SETUP["sales"] / SETUP["orders"]

EXAMPLES = {
    "q1": Examples(
        correct=[_ATV, round(_ATV, 2), np.float64(SETUP["sales"]) / SETUP["orders"], Decimal("424.72")],
        mistakes={"inverted": SETUP["orders"] / SETUP["sales"], "rounded": 425, "typed_sales": 45_870},
        wrong=[424, 42.47, -_ATV, "424.72", True, None, float("nan"), [_ATV]],
    ),
    "q2": Examples(
        correct=[["pos", "mini_program", "wecom_group"], ["wecom_group", "pos", "mini_program"], list(CHANNELS)],
        mistakes={
            "dict_not_list": dict(CHANNELS),
            "one_string": "pos, mini_program, wecom_group",
            "labels_not_codes": ["门店POS", "小程序商城", "企微社群"],
            "wrong_case": ["POS", "mini_program", "wecom_group"],
            "missing_channel": ["pos", "mini_program"],
        },
        wrong=[
            ("pos", "mini_program", "wecom_group"),
            ["pos", "pos", "mini_program", "wecom_group"],
            ["pos", "mini_program", "wecom"],
            [" pos", "mini_program", "wecom_group"],
            [],
            {"pos", "mini_program", "wecom_group"},
        ],
    ),
}
