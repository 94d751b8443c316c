"""The Gradio demo (`lmmlc-demo`): in a real browser (headless Chromium driven by playwright), on ONNX, as a Space."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from lmmlc.demo import APP_SOURCE, SPACE_REQUIREMENTS, load_classifier, main, write_space
from lmmlc.demo_app import NO_LABEL, build_demo, classify, highlights
from lmmlc.export import export_model

from .conftest import LABELS
from .test_export import TEXTS, save, spread

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("LMMLC_BROWSER_TESTS") == "1"
"""CI sets it (after installing Debian's chromium): there the browser test must run, never skip."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory, bert_dir, tokenizer) -> Path:
    from lmmlc import BertForLabelMaskClassification

    model = spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=LABELS))
    return save(model, tokenizer, tmp_path_factory.mktemp("demo") / "model", [0.3, 0.5, 0.7, 0.5])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def require_browser():
    """playwright's sync API and a Chromium binary, or a skip (a failure where CI asks for the browser test)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or BROWSER is None:
        missing = "playwright (pip)" if sync_playwright is None else "chromium (apt-get install chromium)"
        if REQUIRED:
            pytest.fail(f"LMMLC_BROWSER_TESTS=1 but {missing} is missing.")
        pytest.skip(f"The browser test needs {missing}.")
    return sync_playwright


def test_typing_a_text_shows_its_labels_in_a_real_browser(folder, tmp_path):
    sync_playwright = require_browser()
    classifier = load_classifier(str(folder))
    text = TEXTS[1]
    expected = [r["label"] for r in classifier(text)]
    others = [name for name in LABELS if name not in expected]
    assert expected and others  # the page must show some labels and leave some out
    demo = build_demo(classifier, "lmmlc test demo")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=BROWSER, headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle")
            page.locator("#text textarea").fill(text)
            page.locator("#classify").click()
            predicted = page.locator("#predicted")
            predicted.get_by_text(expected[0], exact=True).first.wait_for(timeout=60_000)
            shown = predicted.inner_text()
            page.locator("#evidence").get_by_text(expected[0]).first.wait_for(timeout=60_000)  # a marked span's label
            page.get_by_label("Show every label's score").check()
            page.locator("#classify").click()
            page.locator("#scores").get_by_text(others[0], exact=True).first.wait_for(timeout=60_000)
            every = page.locator("#scores").inner_text()
            page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
            browser.close()
    finally:
        demo.close()
    lines = {line.strip() for line in shown.splitlines()}
    assert set(expected) <= lines and not set(others) & lines
    assert set(LABELS) <= {line.strip() for line in every.splitlines()}
    assert (tmp_path / "demo.png").stat().st_size > 10_000


def test_the_demo_runs_an_onnx_export_as_it_runs_torch(folder):
    export_model(str(folder))
    torch_classifier, onnx_classifier = load_classifier(str(folder)), load_classifier(str(folder), "onnx")
    for text in TEXTS:
        for threshold, every in ((0.0, False), (0.4, True)):
            got, got_scores, no_evidence = classify(onnx_classifier, text, threshold, every)
            expected, expected_scores, evidence = classify(torch_classifier, text, threshold, every)
            assert list(got) == list(expected) and got == pytest.approx(expected, abs=1e-4)
            assert no_evidence is None and "".join(piece for piece, _ in evidence) == text
            assert (got_scores is None) == (not every)
            if every:
                assert got_scores == pytest.approx(expected_scores, abs=1e-4)


def test_highlights_mark_each_labels_spans_and_keep_the_text():
    text = "so happy but sad"
    results = [
        {"label": "joy", "evidence": [{"start": 3, "end": 8, "weight": 0.4}]},
        {
            "label": "sadness",
            "evidence": [{"start": 13, "end": 16, "weight": 0.3}, {"start": 6, "end": 12, "weight": 0.1}],
        },
    ]
    assert highlights(text, results) == [
        ("so ", None),
        ("happy", "joy"),
        (" but", "sadness"),
        (" ", None),
        ("sad", "sadness"),
    ]


def test_the_slider_overrides_the_model_thresholds_and_no_label_is_said(folder):
    classifier = load_classifier(str(folder))
    assert list(classify(classifier, TEXTS[0], 0.99, False)[0]) == [NO_LABEL]
    assert set(classify(classifier, TEXTS[0], 0.01, False)[0]) == set(LABELS)
    with pytest.raises(Exception, match="Type a text"):
        classify(classifier, "   ", 0.0, False)


def test_write_space_puts_the_app_beside_the_model_and_keeps_foreign_files(folder, tmp_path):
    space = tmp_path / "space"
    shutil.copytree(folder, space)
    main(["--model_path", str(space), "--write_space"])
    assert (space / "app.py").read_text() == APP_SOURCE.read_text()
    assert (space / "requirements.txt").read_text().split() == SPACE_REQUIREMENTS
    write_space(space)  # its own files: rewritten freely
    (space / "app.py").write_text("print('mine')\n")
    with pytest.raises(ValueError, match="not written by lmmlc-demo"):
        write_space(space)
    with pytest.raises(ValueError, match="not a model folder"):
        write_space(tmp_path)
