import json
import re

import pytest

from faceedit.demo.html import HtmlReport
from faceedit.demo.run import DemoConfig, run_demo


def test_report_escapes_captions_and_tables(tmp_path):
    report = HtmlReport("t", "sub").section("A <b>").image("x.png", 'say "hi" <now>').table(["k"], [[0.123456]])
    page = report.write(tmp_path).read_text()
    assert "A &lt;b&gt;" in page and "say &quot;hi&quot; &lt;now&gt;" in page and "<td>0.123</td>" in page


def test_demo_writes_every_section_with_its_pictures(tmp_path):
    pytest.importorskip("dlib")
    config = DemoConfig(samples=4, eval_faces=6, photos=("young woman",), inversion_steps=4, dataset_seeds=16,
                        filter_minutes=0.05, filter_steps=3)
    index = run_demo(tmp_path / "demo", config, progress=False)
    page = index.read_text()
    for title in ("Sampled faces", "Directions", "Inversion and editing", "Paired dataset", "Distilled filter",
                  "Timings"):
        assert f"<h2>{title}</h2>" in page
    pictures = re.findall(r'<img src="([^"]+)"', page)
    assert len(pictures) >= 8 and all((index.parent / p).is_file() for p in pictures)
    record = json.loads((index.parent / "demo.json").read_text())
    assert set(record["timings"]) == {"sampled faces", "directions", "inversion and editing", "paired dataset",
                                      "distilled filter"}
    assert record["inversion"]["young woman"]["method"] == "encoder+w+"  # the bundled encoder starts the projection
    assert "age-orth-gender" in record["directions"]
    assert record["filter"]["name"] == "older" and not record["filter"]["trained_here"]  # the bundled filter
    assert "the bundled filter <code>older</code>" in page


def test_demo_can_distil_its_own_filter_from_its_pairs(tmp_path):
    from faceedit.demo import run as demo
    from faceedit.editor import FaceEditor

    config = DemoConfig(photos=("young woman",), dataset_seeds=16, train_filter=True, filter_minutes=0.5,
                        filter_steps=2)
    editor = FaceEditor.from_pretrained(config.model, device="cpu", use_lpips=False)
    report, context = HtmlReport("t"), {}
    for step in (demo._dataset, demo._filter):
        step(editor, config, tmp_path, report, context, False)
    assert context["figures"]["filter"] == {"name": "demo-older", "trained_here": True, "training_steps": 2}
    assert "a filter distilled just now from the demo's dataset pairs: 2 steps" in report.render()
    assert (tmp_path / "filter.png").is_file()
