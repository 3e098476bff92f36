"""The ImageNet time table (`alexnet.bench.boxes`): input scaled by cores, compute by GPUs,
the slower one named, against numbers worked by hand."""
import pytest

from alexnet.bench import boxes


def test_per_core_adds_the_core_seconds_of_decode_and_transform():
    # 1/1000 s to decode + 1/4000 s of transform = 1.25 ms per image -> 800 images/s
    assert boxes.per_core(1000.0, 4000.0) == pytest.approx(800.0)


def test_a_box_is_limited_by_the_slower_of_compute_and_input(monkeypatch):
    monkeypatch.setattr(boxes, "BOXES", [("few cores", "A100", 8, 4, "test"), ("many cores", "A100", 1, 400, "test")])
    flops = 0.25 * 312e12 / 10_000            # one A100 at 25% of peak trains 10,000 images/s
    table = boxes.box_table(decode=1000.0, transform=4000.0, step_flops=flops)
    few, many = table.loc["few cores"], table.loc["many cores"]
    assert few["compute img/s"] == "80,000" and few["input img/s"] == "3,200"
    assert few["limited by"] == "input"
    assert few["90 epochs (h)"] == pytest.approx(round(90 * 1_281_167 / 3_200 / 3600, 1))
    assert many["limited by"] == "compute" and many["input img/s"] == "320,000"
    assert many["90 epochs (h)"] == pytest.approx(round(90 * 1_281_167 / 10_000 / 3600, 1))
    assert many["compute from"].startswith("estimate (25% of 312")


def test_the_papers_box_is_its_published_time():
    table = boxes.box_table(decode=1000.0, transform=4000.0, step_flops=1e9)
    paper = table.loc["the paper's box"]
    assert paper["90 epochs (h)"] == pytest.approx(5.5 * 24, abs=0.1)
    assert paper["compute from"].startswith("published")
