"""Serving: torch fp32 eager against onnxruntime fp32 and int8 (`lmmlc-export`), speed and agreement, in one run.

Per model folder and backend: examples/s at batch 32 and latency p50/p95 at batch 1 (each timed call tokenizes the
texts and scores them: what a server does per request), over the split's texts in their order; then, over the whole
split, the largest probability difference from torch, how many texts get other labels than torch gives them, and
micro/macro-F1 at the model's thresholds. Models without an export are exported first (with int8).

    python -m benchmarks.serving --models outputs/serving/goemotions-lmmlc outputs/serving/goemotions-baseline \
        outputs/serving/goemotions-stock --output docs/benchmarks/serving/goemotions
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.reporting import grouped_bars, new_figure, save_figure, write_report
from lmmlc.arguments import DataArguments
from lmmlc.configuration_lmmlc import label_names_of, max_text_length, resolve_thresholds
from lmmlc.data import default_data_dir, load_data
from lmmlc.evaluation import load_trained, predict_dataset
from lmmlc.export import export_model
from lmmlc.metrics import binarize, multilabel_metrics
from lmmlc.onnx import ONNX_FILES, ONNX_FOLDER, OnnxModelForMultiLabelClassification
from lmmlc.tokenization import encode_dataset

BACKENDS = ("torch", "onnx", "onnx-int8")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", required=True, help="Trained model folders (lmmlc-train outputs).")
    parser.add_argument("--data_dir", default=str(default_data_dir() or "data/goemotions"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--throughput_texts", type=int, default=1024, help="Texts scored in batches of 32, timed.")
    parser.add_argument("--latency_texts", type=int, default=300, help="Texts scored one at a time, timed.")
    parser.add_argument("--skip_speed", action="store_true", help="Agreement and F1 only (e.g. a large label set).")
    parser.add_argument("--threads", type=int, default=2, help="torch and onnxruntime intra-op threads.")
    parser.add_argument("--output", default="docs/benchmarks/serving/goemotions")
    return parser.parse_args(argv)


def load(folder: str, backend: str, threads: int) -> tuple[Any, Any]:
    if backend == "torch":
        return load_trained(folder)
    return OnnxModelForMultiLabelClassification.from_pretrained(folder, backend, threads=threads)


def scorer(model: Any, tokenizer: Any):
    """`score(texts)`: tokenize, run the model once, probabilities `(len(texts), num_labels)`."""
    limit = max_text_length(model.config, tokenizer.model_max_length)

    def score(texts: list[str]) -> np.ndarray:
        batch = tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
        with torch.no_grad():
            return torch.sigmoid(model(**batch).logits.float()).numpy()

    return score


def speed(score, texts: list[str], throughput_texts: int, latency_texts: int) -> dict[str, float]:
    """Examples/s at batch 32 and latency percentiles (ms) at batch 1, after a warm-up."""
    for start in range(0, 64, 32):
        score(texts[start : start + 32])
    chunk = texts[:throughput_texts]
    begin = time.perf_counter()
    for start in range(0, len(chunk), 32):
        score(chunk[start : start + 32])
    throughput = len(chunk) / (time.perf_counter() - begin)
    latencies = []
    for text in texts[:latency_texts]:
        begin = time.perf_counter()
        score([text])
        latencies.append((time.perf_counter() - begin) * 1000)
    p50, p95 = np.percentile(latencies, [50, 95])
    return {"examples_per_s_b32": throughput, "latency_p50_ms": float(p50), "latency_p95_ms": float(p95)}


def agreement(model: Any, tokenizer: Any, texts: list[str], references: np.ndarray) -> tuple[np.ndarray, dict]:
    """Probabilities of every text (lmmlc's prediction path, batch 64) and the F1 at the model's thresholds."""
    import datasets

    encoded = encode_dataset(datasets.Dataset.from_dict({"text": texts}), tokenizer, model.config)
    probabilities = predict_dataset(model, tokenizer, encoded, 64, progress=False)
    scores = multilabel_metrics(binarize(probabilities, np.asarray(resolve_thresholds(model.config))), references)
    return probabilities, {"micro_f1": scores["micro_f1"], "macro_f1": scores["macro_f1"]}


def measure_model(folder: str, args: argparse.Namespace, texts: list[str], references: np.ndarray) -> list[dict]:
    export = Path(folder) / ONNX_FOLDER
    if not (export / ONNX_FILES["onnx-int8"]).exists():
        export_model(folder, quantize="int8")
    rows, reference = [], None
    for backend in BACKENDS:
        model, tokenizer = load(folder, backend, args.threads)
        row = {"model": Path(folder).name, "backend": backend, "labels": model.config.num_labels}
        graph = export / ONNX_FILES.get(backend, "")
        row["file_mb"] = (graph if backend != "torch" else Path(folder) / "model.safetensors").stat().st_size / 2**20
        if not args.skip_speed:
            row.update(speed(scorer(model, tokenizer), texts, args.throughput_texts, args.latency_texts))
        probabilities, scores = agreement(model, tokenizer, texts, references)
        thresholds = np.asarray(resolve_thresholds(model.config))
        if reference is None:
            reference = probabilities
        row.update(scores)
        row["max_abs_difference"] = float(np.abs(probabilities - reference).max())
        same = (binarize(probabilities, thresholds) == binarize(reference, thresholds)).all(axis=1)
        row["texts_with_other_labels"] = int((~same).sum())
        rows.append(row)
        print(row, flush=True)
    return rows


def table(rows: list[dict]) -> str:
    head = "| model | backend | examples/s (batch 32) | p50 ms (batch 1) | p95 ms | x torch | micro-F1 | macro-F1 | "
    head += "max prob. diff. | texts with other labels | file MB |"
    lines = [head, "|---" * 11 + "|"]
    base = {r["model"]: r.get("examples_per_s_b32") for r in rows if r["backend"] == "torch"}
    for r in rows:
        fast = r.get("examples_per_s_b32")
        ratio = f"{fast / base[r['model']]:.2f}" if fast and base.get(r["model"]) else ""
        speed_cells = [f"{fast:.1f}", f"{r['latency_p50_ms']:.1f}", f"{r['latency_p95_ms']:.1f}"] if fast else [""] * 3
        cells = [r["model"], r["backend"], *speed_cells, ratio, f"{r['micro_f1']:.4f}", f"{r['macro_f1']:.4f}"]
        cells += [f"{r['max_abs_difference']:.1e}", str(r["texts_with_other_labels"]), f"{r['file_mb']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Speed per model and backend (examples/s, p50 latency); F1 per backend where speed was not measured."""
    models = list(dict.fromkeys(r["model"] for r in rows))
    timed = any("examples_per_s_b32" in r for r in rows)
    panels = (
        [
            ("examples_per_s_b32", "examples/s at batch 32 (higher is better)"),
            ("latency_p50_ms", "p50 latency at batch 1, ms"),
        ]
        if timed
        else [("micro_f1", "micro-F1 at the model's thresholds"), ("macro_f1", "macro-F1 at the model's thresholds")]
    )
    figure, axes = new_figure(1, 2, size=(11, 4))
    for axis, (key, title) in zip(axes, panels, strict=True):
        bars = []
        for backend in BACKENDS:
            values = {r["model"]: r[key] for r in rows if r["backend"] == backend and key in r}
            bars.append((backend, [values.get(m, 0.0) for m in models], None))
        grouped_bars(axis, models, bars, rotation=10)
        axis.set_title(title, fontsize=9)
    save_figure(figure, axes[0], path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for folder in args.models:
        names = label_names_of(load_trained(folder)[0].config)
        data = load_data(DataArguments(data_dir=args.data_dir), names, need_train=False).splits[args.split]
        references = np.asarray([[name in row for name in names] for row in data["labels"]], dtype=int)
        rows += measure_model(folder, args, list(data["text"]), references)
    print(table(rows))
    write_report(args.output, "benchmarks.serving", argv, rows, table(rows), plot)


if __name__ == "__main__":
    main()
