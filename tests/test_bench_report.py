"""The benchmark report's plots and units (make bench writes them)."""

import json
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
bench = pytest.importorskip("benchmarks.__main__")
convergence = pytest.importorskip("benchmarks.convergence")

RESULTS = json.loads(
    (Path(__file__).parents[1] / "benchmarks" / "results" / "results.json").read_text()
)


def test_times_are_in_readable_units():
    assert bench.seconds(2.5) == "2.50 s"
    assert bench.seconds(0.0123) == "12.3 ms"
    assert bench.seconds(3.43e-5) == "34.3 us"
    rows = RESULTS["cases"]
    table = bench.table(rows)
    assert "0.0000" not in table and " us |" in table or " ms |" in table


def test_ratio_plot_explains_every_mark(tmp_path):
    fig = bench.plot(RESULTS["cases"], tmp_path / "ratio.png")
    ax = fig.axes[0]
    assert ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("target" in label for label in labels)
    assert any("same speed" in label for label in labels)
    # Every value label shows absolute times and does not sit on a target tick.
    texts = [t for t in ax.texts if "per epoch" in t.get_text()]
    assert len(texts) == len(RESULTS["cases"])
    for text, row in zip(texts, RESULTS["cases"], strict=True):
        assert text.get_position()[0] > max(row["ratio"], row["target"] or 0)
    assert (tmp_path / "ratio.png").stat().st_size > 0


def test_loss_plot_shows_all_points_and_a_legend_beside_them(tmp_path):
    result = RESULTS["time_to_target"]
    fig = convergence.plot(result, tmp_path / "loss.png")
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    for points in result["curves"].values():
        assert all(low <= p[1] <= high for p in points)
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().y1 < ax.get_window_extent().y0 + 1  # below
    assert "solid" in ax.get_title() and "dashed" in ax.get_title()
    assert len(ax.get_xticklabels()) >= 3
