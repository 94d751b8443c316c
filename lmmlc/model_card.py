"""The model card (README.md with Hub metadata) of a trained lmmlc folder."""

from __future__ import annotations

import html
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import transformers
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .configuration_lmmlc import resolve_thresholds
from .evaluation import format_table

TESTED_TRANSFORMERS = "4.57.x and 5.x"
"""The transformers lines CI loads saved checkpoints with (see .ci/run)."""
CARD_METRICS = {"subset_accuracy": "accuracy", "micro_f1": "f1", "macro_f1": "f1", "jaccard": "jaccard"}
TEMPLATE_OPTIONS = (
    "prompt_tokens_before",
    "prompt_tokens_after",
    "mask_mode",
    "token_type_strategy",
    "text_attends_labels",
    "label_stream",
    "label_group_size",
    "label_stream_layers",
    "label_stream_attention",
    "pooled_text_head",
    "label_shortlist_size",
    "ranker_score_weight",
    "decode_strategy",
    "labels_per_round",
    "decode_margin",
)
TRAINING_FACTS = ("global_step", "epoch", "train_batch_size", "num_train_epochs", "max_steps")


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def card_data(
    config: dict[str, Any],
    results: dict[str, float],
    license: str,
    datasets: list[str] | None,
    base_model: str | None,
    model_name: str,
) -> ModelCardData:
    """Hub metadata: library, pipeline tag, license, datasets, metrics and test results (tuned global threshold)."""
    dataset = datasets[0] if datasets else "custom"
    evals = [
        EvalResult(
            task_type="text-classification",
            dataset_type=dataset,
            dataset_name=dataset,
            dataset_split="test",
            metric_type=metric_type,
            metric_name=f"{metric} (tuned global threshold)",
            metric_value=round(results[f"test_{metric}@global"], 4),
        )
        for metric, metric_type in CARD_METRICS.items()
        if f"test_{metric}@global" in results
    ]
    return ModelCardData(
        library_name="transformers",
        pipeline_tag="text-classification",
        license=license,
        datasets=datasets or None,
        base_model=base_model,
        metrics=sorted(set(CARD_METRICS.values())),
        tags=["lmmlc", "multi-label-classification", config.get("model_type", "lmmlc")],
        model_name=model_name,
        eval_results=evals or None,
    )


def table_cell(text: str) -> str:
    """`text` as one Markdown table cell: HTML escaped, `|` and line breaks made harmless."""
    return html.escape(text).replace("|", "\\|").replace("\n", " ")


def threshold_sentence(config: dict[str, Any]) -> str:
    """How the model's decision thresholds were set: tuned on validation (lmmlc-train stores per-label ones then),
    or not tuned at all."""
    if config.get("label_thresholds") is not None:
        return "Each label has its own decision threshold, tuned on validation."
    return (
        f"No threshold was tuned (it was trained without a validation split): every label is predicted at "
        f"{config.get('threshold', 0.5)}."
    )


def card_body(config: dict[str, Any], results: dict[str, float], state: dict[str, Any], repo_id: str) -> str:
    """The Markdown body: what the model is, its labels and thresholds, metrics, training, usage."""
    id2label = config.get("id2label") or {}
    names = [id2label[key] for key in sorted(id2label, key=int)]
    saved = {key: config[key] for key in ("threshold", "label_thresholds") if config.get(key) is not None}
    thresholds = resolve_thresholds(SimpleNamespace(num_labels=len(names), **saved))
    kind = "label-mask (cloze)" if config.get("model_type") == "lmmlc" else "pooled-BERT baseline"
    lines = [
        f"# {repo_id}",
        "",
        f"A multi-label text classifier trained with [lmmlc](https://github.com/lmmlc/lmmlc): a {kind} model on a BERT "
        f"encoder, {len(names)} labels. {threshold_sentence(config)}",
        "",
        "## Usage",
        "",
        "```python",
        "from transformers import pipeline",
        "",
        f'classifier = pipeline(model="{repo_id}", trust_remote_code=True)',
        'classifier("I can\'t believe how well this turned out!")               # the predicted labels',
        'classifier("I can\'t believe how well this turned out!", top_k=None)   # every label with its score',
        "```",
        "",
        f"`trust_remote_code=True` runs this repository's `configuration_lmmlc.py`, `modeling_lmmlc.py`, "
        f"`label_stream_lmmlc.py`, `shortlist_lmmlc.py`, `pipeline_lmmlc.py` and the other `*_lmmlc.py` files it "
        f"imports (they import only torch and transformers). "
        f"Tested with transformers "
        f"{TESTED_TRANSFORMERS}; this card was written with {transformers.__version__}.",
        "",
        "## Labels and thresholds",
        "",
        "| label | threshold |",
        "|---|---|",
        *(f"| {table_cell(name)} | {t:.2f} |" for name, t in zip(names, thresholds, strict=True)),
        "",
    ]
    if results:
        lines += ["## Metrics", "", format_table(results), ""]
    options = {k: config[k] for k in TEMPLATE_OPTIONS if k in config}
    facts = {k: state[k] for k in TRAINING_FACTS if k in state}
    lines += ["## Training", "", "```json", json.dumps({"model": options, "training": facts}, indent=2), "```", ""]
    return "\n".join(lines)


def build_model_card(
    folder: str | Path,
    repo_id: str,
    license: str = "apache-2.0",
    datasets: list[str] | None = None,
    base_model: str | None = None,
) -> ModelCard:
    """The card of a trained folder, from its config.json, all_results.json and trainer_state.json."""
    folder = Path(folder)
    config = read_json(folder / "config.json")
    results = read_json(folder / "all_results.json")
    state = read_json(folder / "trainer_state.json")
    data = card_data(config, results, license, datasets, base_model, repo_id.split("/")[-1])
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{card_body(config, results, state, repo_id)}")
