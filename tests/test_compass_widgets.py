"""Compass charts (matplotlib and SVG) and the compass app, driven headlessly through its controls."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from opskit import compass as cp
from opskit.plots.compass import plot_compass_radar, plot_gap_waterfall, radar_svg, waterfall_svg
from opskit.widgets.compass import CompassApp, compass_app


@pytest.fixture(scope="module")
def cube():
    return cp.compass_cube()


def test_radar_chart_labels_and_na(cube):
    radar = cube.radar("S03", "2025-05", "peers")
    ax = plot_compass_radar(radar)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) == len(cp.RADAR_KPIS) and labels[1].startswith("成交率 conversion")
    gappy = radar.assign(ratio=[math.nan] + radar["ratio"].tolist()[1:])
    ax2 = plot_compass_radar(gappy)
    assert ax2.get_xticklabels()[0].get_text().endswith("n/a")
    plt.close("all")


def test_waterfall_bars_walk_from_benchmark_to_actual(cube):
    att = cube.attribution("S04", "2025-05", "target")
    ax = plot_gap_waterfall(att)
    heights = [p.get_height() for p in ax.patches]
    bench, actual = float(att["benchmark"].prod()), float(att["actual"].prod())
    assert heights[0] == pytest.approx(bench) and heights[-1] == pytest.approx(actual)
    assert sum(heights[1:-1]) == pytest.approx(att["yuan"].abs().sum())
    assert [t.get_text() for t in ax.get_xticklabels()][0].startswith("对标销售额")
    plt.close("all")


def test_svg_renderings(cube):
    svg = radar_svg(cube.radar("S04", "2025-05", "target"))
    assert svg.startswith("<svg") and svg.count("<tspan") == len(cp.RADAR_KPIS) and "成交率" in svg
    wf = waterfall_svg(cube.attribution("S04", "2025-05", "target"), title="<gap>")
    assert wf.count("<rect") == len(cp.FACTORS) + 2 and "&lt;gap&gt;" in wf
    with pytest.raises(ValueError, match="missing column"):
        radar_svg(pd.DataFrame({"label": ["a"]}))


def test_app_state_follows_the_controls(cube):
    app = compass_app(cube, store="S03", period="2025-05")
    assert isinstance(app, CompassApp)
    assert app.state["store"] == "S03" and app.state["error"] is None
    assert app.state["weak_point"] == cube.weak_point("S03", "2025-05", "target").key
    sales = app.state["sales"]
    assert app.state["projected_sales"] == pytest.approx(sales)
    app.sliders["upt"].value = 10
    assert app.state["projected_sales"] == pytest.approx(sales * 1.1)
    assert app.state["projected_attainment"] == pytest.approx(sales * 1.1 / app.state["target"])
    assert "opskit-projected" in app.projection.value and f"{sales * 1.1:,.0f}" in app.projection.value
    app.store.value = "S04"
    assert app.state["weak_point"] == "conversion"
    assert "fitting_room_service" in app.state["actions"]
    assert "成交率" in app.weak.value and "opskit-weak" in app.weak.value
    assert app.state["changes"] == {"upt": 10.0}
    app.benchmark.value = "peers"
    assert app.state["benchmark"] == "peers"
    assert app.state["attribution"]["log_ratio"].sum() == pytest.approx(
        math.log(app.state["sales"] / cube.benchmark("S04", "2025-05", "peers").sales), abs=1e-12)
    app.reset.click()
    assert app.state["changes"] == {} and all(s.value == 0 for s in app.sliders.values())
    assert "<svg" in app.radar.value and "<svg" in app.waterfall.value


def test_app_shows_reasons_not_tracebacks(cube):
    app = compass_app(cube, store="S08", period="2025-05", benchmark="last_year")
    assert app.state["error"] and "2024-05" in app.state["error"]
    assert "opskit-compass-message" in app.message.value and "Traceback" not in app.message.value
    assert math.isnan(app.state["projected_sales"]) and app.radar.value == ""
    app.benchmark.value = "target"  # recovers
    assert app.state["error"] is None and app.message.value == ""
    # Even an unexpected failure becomes a message.
    app.cube = None
    app._cache.clear()
    app.store.value = "S01"
    assert app.state["error"] and "cannot update" in app.message.value


def test_app_rejects_bad_arguments(cube):
    with pytest.raises(ValueError, match="unknown store id 'S42'"):
        compass_app(cube, store="S42")
    with pytest.raises(ValueError, match="period 1999-01"):
        compass_app(cube, period="1999-01")
    with pytest.raises(ValueError, match="unknown benchmark"):
        compass_app(cube, benchmark="dream")
