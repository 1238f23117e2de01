"""The presentation layer of ``opskit report``: one self-contained HTML file.

Jinja2 with autoescape renders every value coming from the input (store names, ids, categories) escaped; charts are
embedded as base64 PNG (matplotlib) or base64 SVG inside ``<img>`` (so even SVG text cannot run), and the page loads
nothing from the network. The page is in both languages (Chinese first), like the rest of opskit.
"""

from __future__ import annotations

import base64
import io
import math
import re

import numpy as np
import pandas as pd

from opskit import schema
from opskit.i18n import Text, label
from opskit.lifecycle import STAGES

_BASE64 = re.compile(r"[A-Za-z0-9+/=]+")

TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{{ title }}</title>
<style>
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 24px auto;
       max-width: 1080px; color: #222; line-height: 1.5; padding: 0 16px; }
h1 { font-size: 1.6em; margin-bottom: 0; } h2 { border-bottom: 2px solid #2b6cb0; padding-bottom: 4px; }
.sub { color: #666; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; } th { background: #f1f5fb; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.findings li { margin-bottom: 6px; } .note { background: #fff8e1; border-left: 4px solid #f0b429; padding: 6px 10px; }
img.chart { max-width: 100%; border: 1px solid #eee; margin: 6px 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 8px; }
.card { background: #f7f9fc; padding: 8px 12px; border-radius: 6px; } .card b { font-size: 1.3em; display: block; }
footer { color: #888; font-size: 0.85em; margin-top: 32px; }
</style>
</head>
<body>
{% macro table(t) -%}
<table>
<thead><tr>{% for h in t.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.rows %}<tr>{% for cell in row %}<td{% if cell.num %} class="num"{% endif %}>{{ cell.text }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% if t.more %}<p class="sub">{{ t.more }}</p>{% endif %}
{%- endmacro %}
<h1>{{ title }}</h1>
<p class="sub">{{ subtitle }}</p>
<div class="grid">{% for c in cards %}<div class="card">{{ c.label }}<b>{{ c.value }}</b></div>{% endfor %}</div>

<h2>{{ h.findings }}</h2>
<ol class="findings">{% for f in findings %}<li>{{ f }}</li>{% endfor %}</ol>
{% for n in notes %}<p class="note">{{ n }}</p>{% endfor %}

<h2>{{ h.cleaning }}</h2>
<p>{{ cleaning_intro }}</p>
{{ table(cleaning) }}
{% if reasons.rows %}{{ table(reasons) }}{% endif %}

<h2>{{ h.sales }}</h2>
<img class="chart" alt="{{ h.sales }}" src="data:image/png;base64,{{ charts.monthly }}">

<h2>{{ h.rfm }}</h2>
<p>{{ rfm_intro }}</p>
<img class="chart" alt="{{ h.rfm }}" src="data:image/png;base64,{{ charts.segments }}">
{{ table(segments) }}

<h2>{{ h.clv }}</h2>
<p>{{ clv_intro }}</p>
{% if charts.clv %}<img class="chart" alt="{{ h.clv }}" src="data:image/png;base64,{{ charts.clv }}">{% endif %}

<h2>{{ h.lifecycle }}</h2>
<img class="chart" alt="{{ h.lifecycle }}" src="data:image/png;base64,{{ charts.stages }}">
{{ table(stages) }}

<h2>{{ h.lists }}</h2>
<p>{{ lists_intro }}</p>
<h3>{{ h.follow_up }}</h3>
{{ table(follow_up) }}
<h3>{{ h.activation }}</h3>
{{ table(activation) }}

{% if compass %}
<h2>{{ h.compass }}</h2>
<p>{{ compass.intro }}</p>
{{ table(compass.table) }}
{% if compass.waterfall %}<img class="chart" alt="{{ h.compass }}" src="data:image/svg+xml;base64,{{ compass.waterfall }}">{% endif %}
{% endif %}

<footer>{{ footer }}</footer>
</body>
</html>
"""


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(value: object, kind: str = "") -> dict:
    """A table cell: text plus whether it is numeric (right-aligned)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return {"text": "–", "num": False}
    if kind == "pct":
        return {"text": f"{float(value):.1%}", "num": True}
    if kind == "money":
        return {"text": f"¥{float(value):,.0f}", "num": True}
    if kind == "int":
        return {"text": f"{int(value):,}", "num": True}
    if kind == "float":
        return {"text": f"{float(value):,.2f}", "num": True}
    if kind == "date":
        return {"text": f"{pd.Timestamp(value):%Y-%m-%d}", "num": False}
    return {"text": str(value), "num": False}


def _table(frame: pd.DataFrame, columns: list[tuple[str, Text, str]], limit: int | None = None) -> dict:
    """``columns``: (column, header, kind). At most ``limit`` rows; the rest are counted, never hidden silently."""
    shown = frame if limit is None else frame.head(limit)
    rows = [[_fmt(value, kind) for value, (_, _, kind) in zip(values, columns)]
            for values in shown[[c for c, _, _ in columns]].itertuples(index=False)]
    more = ""
    if limit is not None and len(frame) > limit:
        more = str(Text(f"此处显示前 {limit} 行, 共 {len(frame):,} 行; 完整清单见 CSV 文件",
                        f"first {limit} of {len(frame):,} rows shown; the full list is in the CSV file"))
    return {"header": [str(h) for _, h, _ in columns], "rows": rows, "more": more}


def _charts(analysis) -> dict:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from opskit.plots.overview import monthly_sales
    from opskit.plots.rfm import plot_segment_sizes
    from opskit.plots.style import use_course_style

    use_course_style()
    charts = {}
    fig, ax = plt.subplots(figsize=(9, 3.6))
    tx = analysis.transactions
    monthly_sales(tx[tx[schema.ORDER_TIME] < analysis.as_of + pd.Timedelta(days=1)], by="channel", ax=ax)
    charts["monthly"] = _png(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    plot_segment_sizes(analysis.segment_summary, ax=ax)
    charts["segments"] = _png(fig)

    stages = analysis.stage_summary
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar([str(x) for x in stages["label"]], stages["members"].to_numpy(), color="#2b6cb0")
    for i, n in enumerate(stages["members"].to_numpy()):
        ax.annotate(f"{int(n):,}", (i, n), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(label("会员数", "members"))
    ax.set_title(label("生命周期阶段", "lifecycle stages"))
    ax.tick_params(axis="x", labelsize=8)
    charts["stages"] = _png(fig)

    pred = analysis.predictions
    charts["clv"] = ""
    if "clv" in pred.columns and len(pred) >= 10:
        values = np.sort(pred["clv"].to_numpy())[::-1]
        deciles = np.array_split(values, 10)
        fig, ax = plt.subplots(figsize=(8, 3.2))
        ax.bar([str(i) for i in range(1, 11)], [d.mean() for d in deciles], color="#38a169")
        ax.set_xlabel(label("CLV 十分位 (1 = 最高)", "CLV decile (1 = highest)"))
        ax.set_ylabel(label("人均预测 CLV (元)", "mean predicted CLV (yuan)"))
        ax.set_title(label("未来 12 个月预测价值", "predicted value, next 12 months"))
        charts["clv"] = _png(fig)
    return charts


def render_html(analysis, report, *, source: str) -> str:
    """The report page for an :class:`~opskit.report.method.Analysis` and its cleaning report."""
    import jinja2
    import markupsafe

    from opskit.privacy import mask_phones_in_text

    def finalize(value: object) -> object:
        # every value shown is masked for phones; embedded images (long base64) are left intact
        if isinstance(value, markupsafe.Markup):  # already-escaped macro output: mask, keep it markup
            return markupsafe.Markup(mask_phones_in_text(str(value)))
        if isinstance(value, str) and not (len(value) > 200 and _BASE64.fullmatch(value)):
            return mask_phones_in_text(value)
        return value

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=finalize)
    template = env.from_string(TEMPLATE)
    o = analysis.overview
    summary = report.summary
    cleaning = _table(summary, [("file", Text("文件", "file"), ""), ("rows_in", Text("输入行", "rows in"), "int"),
                                ("kept", Text("保留", "kept"), "int"), ("merged", Text("合并", "merged"), "int"),
                                ("quarantined", Text("隔离", "quarantined"), "int"),
                                ("balanced", Text("对账", "balanced"), "")])
    reasons = _table(report.reasons, [("file", Text("文件", "file"), ""), ("outcome", Text("结果", "outcome"), ""),
                                      ("label", Text("原因", "reason"), ""), ("rows", Text("行数", "rows"), "int")],
                     limit=30)
    seg = analysis.segment_summary
    segments = _table(seg, [("label", Text("分层", "segment"), ""), ("customers", Text("人数", "customers"), "int"),
                            ("customer_share", Text("人数占比", "share"), "pct"),
                            ("revenue_share", Text("销售额占比", "revenue share"), "pct"),
                            ("avg_spend", Text("人均消费", "avg spend"), "money"),
                            ("avg_recency", Text("平均天数未购", "avg days since"), "float"),
                            ("strategy", Text("策略", "strategy"), "")])
    stages = _table(analysis.stage_summary, [("label", Text("阶段", "stage"), ""),
                                             ("members", Text("会员数", "members"), "int"),
                                             ("share", Text("占比", "share"), "pct")])
    fu = analysis.follow_up
    follow_up = _table(fu, [("customer_id", Text("会员号", "customer id"), ""),
                            ("order_id", Text("订单号", "order id"), ""),
                            *([("store_id", Text("门店", "store"), "")] if "store_id" in fu.columns else []),
                            ("purchase_date", Text("购买日", "purchase date"), "date"),
                            ("action", Text("关怀动作", "care action"), ""),
                            ("due_date", Text("到期日", "due date"), "date"),
                            ("status", Text("状态", "status"), "")], limit=25)
    act = analysis.activation.reset_index()
    act["stage"] = act["stage"].map({code: str(text) for code, text in STAGES.items()})
    activation = _table(act, [(act.columns[0], Text("会员号", "customer id"), ""),
                              ("stage", Text("阶段", "stage"), ""),
                              ("days_since_last", Text("未购天数", "days since last"), "int"),
                              ("orders", Text("订单数", "orders"), "int"),
                              ("value", Text("价值 (CLV 元)", "value (CLV, yuan)"), "money"),
                              ("value_tier_label", Text("价值层", "value tier"), ""),
                              ("rank", Text("优先级", "rank"), "int")], limit=25)
    compass = None
    if analysis.compass is not None:
        c = analysis.compass
        table = c["table"].copy()
        table["weak"] = [str(t) if t is not None else "–" for t in table["weak_text"]]
        table["benchmark"] = table["benchmark"].map({"target": str(Text("目标", "target")),
                                                     "peers": str(Text("同类门店中位数", "peer median"))}).fillna("–")
        compass_table = _table(table, [("store_id", Text("门店", "store"), ""),
                                       ("sales", Text("销售额", "sales"), "money"),
                                       ("visitors", Text("进店人数", "visitors"), "int"),
                                       ("conversion", Text("成交率", "conversion"), "pct"),
                                       ("atv", Text("客单价", "ATV"), "money"),
                                       ("upt", Text("连带率", "UPT"), "float"),
                                       ("attainment", Text("达成率", "attainment"), "pct"),
                                       ("benchmark", Text("对标", "benchmark"), ""),
                                       ("weak", Text("短板", "weak point"), "")])
        waterfall = ""
        ranked = table[table["benchmark"] != "–"]
        if not ranked.empty:
            from opskit.plots.compass import waterfall_svg

            # The store furthest behind: lowest attainment of its target, or without targets the lowest sales.
            order = "attainment" if ranked["attainment"].notna().any() else "sales"
            store = ranked.sort_values([order, "store_id"]).iloc[0]
            kind = c["table"].set_index("store_id").loc[store["store_id"], "benchmark"]
            try:
                svg = waterfall_svg(c["cube"].attribution(store["store_id"], c["period"], kind),
                                    title=f"{store['store_id']} · {c['period']}")
                waterfall = base64.b64encode(svg.encode("utf-8")).decode("ascii")
            except ValueError:
                waterfall = ""
        compass = {"intro": str(Text(
            f"{c['period']}: 销售额 = 进店人数 × 成交率 × 件单价 × 连带率 × 全渠道系数; 与对标的差距按对数拆分到各因子, "
            "最负的一项是短板。",
            f"{c['period']}: sales = visitors × conversion × ASP × UPT × omni factor; the gap to the benchmark "
            "splits exactly into one log term per factor, and the most negative term is the weak point.")),
            "table": compass_table, "waterfall": waterfall}
    params = analysis.clv_params.get("bgnbd", {})
    context = {
        "title": str(Text("客户运营报告", "Customer operations report")),
        "subtitle": f"{label('数据', 'data')}: {source} · " + str(Text(
            f"截止日 {o['as_of']:%Y-%m-%d} · 数据期 {o['first_day']:%Y-%m-%d} 至 {o['last_day']:%Y-%m-%d}",
            f"as of {o['as_of']:%Y-%m-%d} · data from {o['first_day']:%Y-%m-%d} to {o['last_day']:%Y-%m-%d}")),
        "cards": [
            {"label": label("销售额 (含退货前)", "sales (before returns)"), "value": f"¥{o['sales']:,.0f}"},
            {"label": label("退货", "returns"), "value": f"¥{o['returns']:,.0f}"},
            {"label": label("有购买的会员", "members who bought"), "value": f"{o['customers']:,}"},
            {"label": label("会员消费占比", "member sales share"), "value": f"{o['member_share']:.0%}"},
            {"label": label("门店数", "stores"), "value": f"{o['stores']:,}"},
            {"label": label("交易行", "transaction rows"), "value": f"{o['rows']:,}"},
        ],
        "h": {k: str(v) for k, v in {
            "findings": Text("要点", "Findings"), "cleaning": Text("1 · 数据清洗", "1 · Data cleaning"),
            "sales": Text("2 · 月度销售额 (按渠道)", "2 · Monthly net sales by channel"),
            "rfm": Text("3 · RFM 分层 (八类)", "3 · RFM tiers (8 classes)"),
            "clv": Text("4 · 顾客终身价值预测", "4 · Customer lifetime value"),
            "lifecycle": Text("5 · 生命周期阶段", "5 · Lifecycle stages"),
            "lists": Text("6 · 工作清单", "6 · Work lists"),
            "follow_up": Text("90 天回访清单 (待做)", "90-day follow-up list (to do)"),
            "activation": Text("激活清单 (按价值排序)", "Activation list (by value)"),
            "compass": Text("7 · 店铺罗盘", "7 · Store compass"),
        }.items()},
        "findings": [str(f) for f in analysis.findings],
        "notes": [str(n) for n in analysis.notes],
        "cleaning_intro": str(Text("每个文件: 输入行 = 保留 + 合并 (重复) + 隔离; 被隔离的行及原因见 quarantine.csv。",
                                   "Per file: rows in = kept + merged (duplicates) + quarantined; the quarantined "
                                   "rows and their reasons are in quarantine.csv.")),
        "cleaning": cleaning,
        "reasons": reasons,
        "rfm_intro": str(Text("R、F、M 各按均值分为高/低, 组合成八类 (中国八类模型)。M 为净消费 (扣除退货)。",
                              "R, F and M are each high or low against their mean, giving eight classes (the "
                              "Chinese 8-class model). M is net spend (returns deducted).")),
        "segments": segments,
        "clv_intro": str(Text(
            "BG/NBD (购买次数与流失) 与 Gamma-Gamma (客单金额) 模型, 按周计; 预测未来 12 个月, 月折现率 1%。"
            + (f" 参数: r={params['r']:.3f}, α={params['alpha']:.3f}, a={params['a']:.3f}, b={params['b']:.3f}。"
               if params else ""),
            "BG/NBD (purchases and drop-out) and Gamma-Gamma (order value) models, in weeks; 12-month horizon, 1% "
            "monthly discount rate."
            + (f" Parameters: r={params['r']:.3f}, α={params['alpha']:.3f}, a={params['a']:.3f}, "
               f"b={params['b']:.3f}." if params else ""))),
        "stages": stages,
        "charts": _charts(analysis),
        "lists_intro": str(Text(
            "回访清单: 近 90 天购买的顾客的关怀节点 (试穿、洗护、搭配), 只列出今天和之后到期的。激活清单: 超过 90 天未购买的会员, "
            "高价值在前。完整清单: follow_up.csv 和 activation.csv (只含会员号, 不含手机号)。",
            "Follow-up: the care touchpoints (fit, washing, styling) of buyers of the last 90 days, due today or later. "
            "Activation: members with more than 90 days without a purchase, high value first. Full lists: "
            "follow_up.csv and activation.csv (customer ids only, no phone numbers).")),
        "follow_up": follow_up,
        "activation": activation,
        "compass": compass,
        "footer": str(Text("由 opskit report 生成; 本页不加载任何网络资源。",
                           "Generated by opskit report; this page loads nothing from the network.")),
    }
    return template.render(**context)
