"""Training and inference speed of LM-MLC against the stock transformers head and our baseline.

GoEmotions validation texts (their own lengths, padded per batch only), sdpa attention. Each method
and phase runs in a fresh process, so peak memory is its own (CPU: peak RSS; GPU: peak allocation).
Ratios are to the stock model measured in the same run.

    python -m benchmarks.run_speed                    # CPU
    python -m benchmarks.run_speed --device cuda --bf16
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import sys
import time
from pathlib import Path

import torch

from lmmlc.arguments import DataArguments, LabelMaskArguments, ModelArguments
from lmmlc.data import default_data_dir, load_data
from lmmlc.evaluation import inference_collator
from lmmlc.training import build_model, train_collator

COMPACT = {"mask_mode": "per_label", "prompt_tokens_before": 0, "prompt_tokens_after": 0}
SEED_TEMPLATE = {"mask_mode": "shared", "prompt_tokens_before": 1, "prompt_tokens_after": 1}
SINGLE = {"label_stream": False, "text_attends_labels": True, "reveal_strategy": "random"}  # as in speed.json
STREAM = {"model_type": "lmmlc", **COMPACT, "label_stream": True, "pooled_text_head": False}  # cloze scores only
METHODS = {
    "stock": {"model_type": "stock"},
    "baseline": {"model_type": "baseline", "pooling": "mean"},
    "lmmlc-compact": {"model_type": "lmmlc", **COMPACT, **SINGLE},
    "lmmlc-seed-template": {"model_type": "lmmlc", **SEED_TEMPLATE, **SINGLE},
    "lmmlc-stream": STREAM,
    "lmmlc-stream-top2": {**STREAM, "label_stream_layers": 2},
    "lmmlc-stream-top3": {**STREAM, "label_stream_layers": 3},
    "lmmlc-stream-top1": {**STREAM, "label_stream_layers": 1},
    "lmmlc-stream-top2-sample8": {**STREAM, "label_stream_layers": 2, "label_sample_size": 8},
    "lmmlc-defaults": {"model_type": "lmmlc"},  # the shipped defaults: the stream with the pooled text head
    "lmmlc-top1": {"model_type": "lmmlc", "label_stream_layers": 1},  # the same, labels in the top layer only
}
DEFAULT_METHODS = ["stock", "baseline", "lmmlc-compact", "lmmlc-seed-template"]
COLLATOR_OPTIONS = ("label_sample_size", "reveal_strategy")
"""Method settings that belong to the training collator (`LabelMaskArguments`), not the model."""


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default=str(default_data_dir() or "../shared/data/goemotions"))
    parser.add_argument("--model_name_or_path", help="Encoder (default: the bundled MiniLM).")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=DEFAULT_METHODS)
    parser.add_argument("--train_batches", type=int, default=12, help="Timed training steps (after 2 warm-up).")
    parser.add_argument("--train_batch_size", type=int, default=32)
    parser.add_argument("--eval_examples", type=int, default=1024)
    parser.add_argument("--eval_batch_size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (GPU or CPU).")
    parser.add_argument("--output_file", default="docs/benchmarks/speed.json")
    return parser.parse_args(argv)


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(task: tuple[str, str, dict]) -> dict:
    """One method and phase ("train" or "inference") in this process: examples/s and peak memory."""
    method, phase, settings = task
    torch.manual_seed(0)
    device = torch.device(settings["device"])
    data = load_data(DataArguments(data_dir=settings["data_dir"]), need_train=False)
    rows, labels = data.splits["validation"], data.label_names
    chosen = {k: v for k, v in METHODS[method].items() if k not in COLLATOR_OPTIONS}
    collator_options = {k: v for k, v in METHODS[method].items() if k in COLLATOR_OPTIONS}
    options = ModelArguments(model_name_or_path=settings["model_name_or_path"], **chosen)
    model, tokenizer = build_model(options, labels)
    model.to(device)
    features = [
        {**tokenizer(r["text"], truncation=True, max_length=128), "labels": [int(n in r["labels"]) for n in labels]}
        for r in rows
    ]
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=settings["bf16"])
    if phase == "train":
        size, steps = settings["train_batch_size"], settings["train_batches"]
        collate = train_collator(tokenizer, model.config, LabelMaskArguments(**collator_options), seed=0)
        batches = [collate(features[i * size : (i + 1) * size]) for i in range(steps + 2)]
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
        model.train()

        def step(batch: dict) -> None:
            with autocast:
                loss = model(**{k: v.to(device) for k, v in batch.items()}).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    else:
        size, count = settings["eval_batch_size"], settings["eval_examples"]
        collate = inference_collator(tokenizer, model.config)
        unlabelled = [{k: v for k, v in f.items() if k != "labels"} for f in features[:count]]
        batches = [collate(unlabelled[i : i + size]) for i in range(0, count, size)]
        model.eval()

        @torch.no_grad()
        def step(batch: dict) -> None:
            with autocast:
                model(**{k: v.to(device) for k, v in batch.items()})

    for batch in batches[:2]:  # warm-up
        step(batch)
    timed = batches[2:] if phase == "train" else batches
    _sync(device)
    start = time.perf_counter()
    for batch in timed:
        step(batch)
    _sync(device)
    seconds = time.perf_counter() - start
    examples = sum(b["input_ids"].shape[0] for b in timed)
    tokens = sum(int(b["attention_mask"].sum()) for b in timed) / examples
    return {
        "method": method,
        "phase": phase,
        "examples_per_s": examples / seconds,
        "tokens_per_example": tokens,
        "peak_memory_mb": peak_memory_mb(device),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| method | phase | examples/s | x stock | tokens/example | peak memory MB |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "n/a" if r.get("ratio_to_stock") is None else f"{r['ratio_to_stock']:.2f}"
        lines.append(
            f"| {r['method']} | {r['phase']} | {r['examples_per_s']:.1f} | {ratio} | "
            f"{r['tokens_per_example']:.1f} | {r['peak_memory_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    settings = vars(args).copy()
    tasks = [(method, phase, settings) for phase in ("train", "inference") for method in args.methods]
    context = multiprocessing.get_context("spawn")
    rows = []
    for task in tasks:
        with context.Pool(1) as pool:  # a fresh process per measurement: its own peak memory
            rows.append(pool.apply(measure, (task,)))
    for row in rows:
        stock = next((r for r in rows if r["method"] == "stock" and r["phase"] == row["phase"]), None)
        row["ratio_to_stock"] = row["examples_per_s"] / stock["examples_per_s"] if stock else None
    print(table(rows))
    command = " ".join(["python -m benchmarks.run_speed", *(sys.argv[1:] if argv is None else argv)])
    machine = {"platform": platform.platform(), "torch": torch.__version__, "threads": torch.get_num_threads()}
    if args.device.startswith("cuda"):
        machine["gpu"] = torch.cuda.get_device_name(0)
    report = {"command": command, "settings": settings, "machine": machine, "rows": rows}
    Path(args.output_file).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output_file).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
