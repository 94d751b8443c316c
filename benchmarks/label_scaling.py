"""Cost against the number of labels: the label stream against the stock head and our pooled baseline.

Texts are cooking-stackexchange validation titles (their own lengths); labels are the first N of its 736 tags,
or synthetic tags past 736. Each method, label count and phase runs in a fresh process (its own peak RSS);
ratios are to the pooled baseline and the stock model at the same label count, measured in the same run.
Training scores `--label_sample_size` labels per example (positives + uniform negatives); inference scores
every label in one pass (with `label_shortlist_size`, the stream scores only the ranker's shortlist).

    python -m benchmarks.label_scaling                     # 28, 90, 736 and 5000 labels, CPU

Writes docs/benchmarks/label_scaling.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from pathlib import Path

import torch

from benchmarks.reporting import new_figure, save_figure, write_report
from benchmarks.run_speed import _sync, peak_memory_mb
from lmmlc.arguments import LabelMaskArguments, ModelArguments
from lmmlc.data import read_json_lines
from lmmlc.evaluation import inference_collator
from lmmlc.training import build_model, train_collator

COMPACT = {"mask_mode": "per_label", "prompt_tokens_before": 0, "prompt_tokens_after": 0}
STREAM = {**COMPACT, "label_stream": True, "label_shortlist_size": 0, "pooled_text_head": False}
"""Cloze scores only, as measured before the pooled text head joined past one group (docs/experiments/NOTEBOOK.md
5i)."""
METHODS = {
    "stock": {"model_type": "stock"},
    "baseline": {"model_type": "baseline", "pooling": "mean"},
    "lmmlc-single-sequence": {"model_type": "lmmlc", **COMPACT, "label_stream": False},
    # every label scored in one pass (no ranker, the default past one group since 5h: the rows keep their meaning)
    "lmmlc-stream": {"model_type": "lmmlc", **STREAM},
    "lmmlc-stream-top2": {"model_type": "lmmlc", **STREAM, "label_stream_layers": 2},
    "lmmlc-stream-top1": {"model_type": "lmmlc", **STREAM, "label_stream_layers": 1},
    # inference scores only the label ranker's top 128 labels per example (an untrained ranker costs the same)
    "lmmlc-stream-top2-shortlist128": {
        "model_type": "lmmlc",
        **COMPACT,
        "label_stream": True,
        "label_stream_layers": 2,
        "label_shortlist_size": 128,
        "ranker_score_weight": 0.0,  # as measured (5f); the fused score costs one log-softmax more
    },
}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="../shared/data/cooking-stackexchange")
    parser.add_argument("--model_name_or_path", help="Encoder (default: the bundled MiniLM).")
    parser.add_argument("--label_counts", nargs="+", type=int, default=[28, 90, 736, 5000])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--label_sample_size", type=int, default=16)
    parser.add_argument("--train_batches", type=int, default=8, help="Timed training steps (after 2 warm-up).")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--eval_examples", type=int, default=256)
    parser.add_argument("--bf16", action="store_true", help="Inference under CPU bf16 autocast (every method).")
    parser.add_argument("--output", default="docs/benchmarks/label_scaling")
    return parser.parse_args(argv)


def label_names(data_dir: str, count: int) -> list[str]:
    tags = Path(data_dir, "labels.txt").read_text(encoding="utf-8").split()
    return tags[:count] + [f"synthetic tag {i}" for i in range(max(0, count - len(tags)))]


def features(tokenizer, rows: list[dict], labels: list[str]) -> list[dict]:
    index = {name: i for i, name in enumerate(labels)}
    out = []
    for row in rows:
        hot = [0] * len(labels)
        for name in row["labels"]:
            if name in index:
                hot[index[name]] = 1
        out.append({**tokenizer(row["text"], truncation=True, max_length=128), "labels": hot})
    return out


def fits(method: str, count: int) -> bool:
    """The single sequence holds at most ~500 labels (512 positions)."""
    return method != "lmmlc-single-sequence" or count <= 480


def measure(task: tuple[str, int, str, dict]) -> dict:
    """One method, label count and phase in this process: examples/s and peak RSS."""
    method, count, phase, settings = task
    torch.manual_seed(0)
    labels = label_names(settings["data_dir"], count)
    rows = read_json_lines(Path(settings["data_dir"], "validation.jsonl"), {"text": "text", "labels": "labels"})
    model, tokenizer = build_model(
        ModelArguments(model_name_or_path=settings["model_name_or_path"], **METHODS[method]), labels
    )
    feats = features(tokenizer, rows, labels)
    size = settings["batch_size"]
    if phase == "train":
        lm_args = LabelMaskArguments(reveal_strategy="none", label_sample_size=settings["label_sample_size"])
        lm_args.label_sample_size = lm_args.label_sample_size if getattr(model.config, "label_stream", False) else None
        collate = train_collator(tokenizer, model.config, lm_args, seed=0)
        batches = [collate(feats[i * size : (i + 1) * size]) for i in range(settings["train_batches"] + 2)]
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
        model.train()

        def step(batch: dict) -> None:
            model(**batch).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    else:
        collate = inference_collator(tokenizer, model.config)
        plain = [{k: v for k, v in f.items() if k != "labels"} for f in feats[: settings["eval_examples"]]]
        batches = [collate(plain[i : i + size]) for i in range(0, len(plain), size)]
        model.eval()

        @torch.no_grad()
        def step(batch: dict) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings.get("bf16", False)):
                model(**batch)

    for batch in batches[:2]:
        step(batch)
    timed = batches[2:] if phase == "train" else batches
    start = time.perf_counter()
    for batch in timed:
        step(batch)
    _sync(torch.device("cpu"))
    examples = sum(b["input_ids"].shape[0] for b in timed)
    return {
        "method": method,
        "labels": count,
        "phase": phase,
        "examples_per_s": examples / (time.perf_counter() - start),
        "peak_rss_mb": peak_memory_mb(torch.device("cpu")),
    }


def table(rows: list[dict]) -> str:
    lines = ["| labels | method | phase | examples/s | x baseline | x stock | peak RSS MB |", "|---" * 7 + "|"]
    for r in rows:
        ratios = [f"{r[k]:.2f}" if r.get(k) is not None else "n/a" for k in ("x_baseline", "x_stock")]
        lines.append(
            f"| {r['labels']} | {r['method']} | {r['phase']} | {r['examples_per_s']:.1f} | {ratios[0]} | {ratios[1]} "
            f"| {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    figure, axes = new_figure(1, 2, size=(11, 4))
    for axis, phase in zip(axes, ("train", "inference"), strict=True):
        for method in dict.fromkeys(r["method"] for r in rows):
            points = [
                (r["labels"], 1000 / r["examples_per_s"]) for r in rows if r["method"] == method and r["phase"] == phase
            ]
            if points:
                axis.plot(*zip(*points, strict=True), marker="o", label=method)
        axis.set(xscale="log", yscale="log", xlabel="labels", ylabel="ms per example", title=phase)
    save_figure(figure, axes[0], path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    settings = vars(args).copy()
    tasks = [
        (method, count, phase, settings)
        for count in args.label_counts
        for phase in ("train", "inference")
        for method in args.methods
        if fits(method, count)
    ]
    rows = []
    context = multiprocessing.get_context("spawn")
    for task in tasks:
        with context.Pool(1) as pool:  # a fresh process per measurement: its own peak memory
            rows.append(pool.apply(measure, (task,)))
        print(json.dumps(rows[-1]), flush=True)
    for row in rows:
        for name, key in (("baseline", "x_baseline"), ("stock", "x_stock")):
            ref = next(
                (r for r in rows if (r["method"], r["labels"], r["phase"]) == (name, row["labels"], row["phase"])), None
            )
            row[key] = row["examples_per_s"] / ref["examples_per_s"] if ref else None
    print(table(rows))
    write_report(args.output, "benchmarks.label_scaling", argv, rows, table(rows), plot)


if __name__ == "__main__":
    main()
