"""A Gradio demo of a multi-label classifier: a text in, its predicted labels with scores as bars, a threshold slider,
every label's score on request, and the text with each predicted label's evidence highlighted. `lmmlc-demo` runs it
on a trained folder or its ONNX export; `lmmlc-demo
--write_space` copies this file as a Space's `app.py` beside the model, where it loads the model folder it sits in
as remote code. Imports only gradio and transformers.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import gradio as gr

MODEL_THRESHOLDS = 0.0
"""The slider's value that means "the model's own thresholds" (tuned per label on validation)."""

NO_LABEL = "(no label reaches its threshold)"


EVIDENCE_SPANS = 2
"""Evidence spans highlighted per predicted label."""


def classify(
    classifier: Callable, text: str, threshold: float, every_label: bool
) -> tuple[dict, dict | None, list | None]:
    """Predicted labels `{label: score}` of `text` (at the model's thresholds, or one `threshold` when the slider is
    above 0), every label's score when `every_label` is ticked, and the text with each predicted label's evidence
    spans marked (`highlights`; None for a model without gradients, an ONNX export)."""
    if not text or not text.strip():
        raise gr.Error("Type a text to classify.")
    options = {} if threshold <= MODEL_THRESHOLDS else {"threshold": float(threshold)}
    explains = hasattr(classifier.model, "label_evidence")
    results = classifier(text, **options, **({"evidence": EVIDENCE_SPANS} if explains else {}))
    predicted = {r["label"]: r["score"] for r in results}
    scores = {r["label"]: r["score"] for r in classifier(text, top_k=None)} if every_label else None
    return predicted or {NO_LABEL: 0.0}, scores, highlights(text, results) if explains else None


def highlights(text: str, results: list[dict]) -> list[tuple[str, str | None]]:
    """`text` cut into pieces, each evidence span marked with its label (where spans of two labels overlap, the one
    with more weight keeps the characters), for `gr.HighlightedText`."""
    owner: list[tuple[float, str] | None] = [None] * len(text)
    for result in results:
        for span in result.get("evidence", []):
            for i in range(span["start"], span["end"]):
                if owner[i] is None or owner[i][0] < span["weight"]:
                    owner[i] = (span["weight"], result["label"])
    pieces: list[tuple[str, str | None]] = []
    for i, char in enumerate(text):
        label = owner[i] and owner[i][1]
        if pieces and pieces[-1][1] == label:
            pieces[-1] = (pieces[-1][0] + char, label)
        else:
            pieces.append((char, label))
    return pieces


def build_demo(classifier: Callable, title: str, examples: list[str] | None = None) -> gr.Blocks:
    """The demo's page around `classifier` (a multi-label pipeline: text -> list of `{"label", "score"}`)."""
    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"# {title}\nMulti-label text classification: every label that reaches its threshold.")
        text = gr.Textbox(label="Text", lines=4, elem_id="text")
        threshold = gr.Slider(
            0.0, 0.99, value=MODEL_THRESHOLDS, step=0.01, label="Threshold (0: the model's tuned thresholds)"
        )
        every_label = gr.Checkbox(label="Show every label's score", value=False)
        button = gr.Button("Classify", variant="primary", elem_id="classify")
        predicted = gr.Label(label="Predicted labels", elem_id="predicted")
        scores = gr.Label(label="Every label", elem_id="scores")
        evidence = gr.HighlightedText(label="Evidence: the spans each label drew on", elem_id="evidence")
        if examples:
            gr.Examples(examples, inputs=text)
        run = lambda *args: classify(classifier, *args)  # noqa: E731
        button.click(run, [text, threshold, every_label], [predicted, scores, evidence], api_name="classify")
        text.submit(run, [text, threshold, every_label], [predicted, scores, evidence])
    return demo


def main() -> None:
    """The Space's entry point: the model folder this file sits in (or `LMMLC_MODEL`), as remote code."""
    from transformers import pipeline

    model = os.environ.get("LMMLC_MODEL", os.path.dirname(os.path.abspath(__file__)))
    classifier = pipeline(task="multi-label-classification", model=model, trust_remote_code=True)
    build_demo(classifier, os.environ.get("LMMLC_TITLE", "Multi-label text classification")).launch()


if __name__ == "__main__":
    main()
