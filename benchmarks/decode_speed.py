"""Decoding throughput: stock one pass vs label-mask one_shot vs rounds (confidence), with and without the text cache.

Prints a table and writes JSON. Example (the figures in docs/experiments/DECODING.md):

    python benchmarks/decode_speed.py --model_path outputs/goemotions-minilm-textonce \
        --num_examples 1024 --output_file docs/benchmarks/decode_speed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification

from lmmlc import DataCollatorForLabelMask
from lmmlc.command_options import default_encoder
from lmmlc.data import default_data_dir, read_json_lines
from lmmlc.evaluation import load_trained


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_path", required=True, help="A trained lmmlc label-mask model folder.")
    parser.add_argument("--data_dir", default=str(default_data_dir() or "../shared/data/goemotions"))
    parser.add_argument("--num_examples", type=int, default=1024, help="Validation texts to decode.")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4], help="labels_per_round values of confidence.")
    parser.add_argument("--output_file", default="docs/benchmarks/decode_speed.json")
    return parser.parse_args()


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS (Linux: KiB)


def timed(run, batches: list[dict], device: torch.device) -> tuple[float, float, float]:
    """(examples/s, mean rounds, peak memory MB) of `run` over `batches` after one warm-up batch."""
    run(batches[0])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    rounds, examples = 0.0, 0
    start = time.perf_counter()
    for batch in batches:
        rounds += float(run(batch).sum())
        examples += batch["input_ids"].shape[0]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return examples / (time.perf_counter() - start), rounds / examples, peak_memory_mb(device)


def main() -> None:
    args = parse()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, tokenizer = load_trained(args.model_path)
    model.to(device)
    texts = [r["text"] for r in read_json_lines(Path(args.data_dir) / "validation.jsonl", {"text": "text"})]
    texts = texts[: args.num_examples]
    chunks = [texts[i : i + args.batch_size] for i in range(0, len(texts), args.batch_size)]
    collator = DataCollatorForLabelMask(tokenizer, model.config)
    move = lambda batch: {k: v.to(device) for k, v in batch.items()}  # noqa: E731
    templated = [move(collator([tokenizer(t) for t in chunk])) for chunk in chunks]
    plain = [move(dict(tokenizer(chunk, padding=True, return_tensors="pt"))) for chunk in chunks]
    stock = (
        AutoModelForSequenceClassification.from_pretrained(
            default_encoder(), num_labels=model.config.num_labels, problem_type="multi_label_classification"
        )
        .to(device)
        .eval()
    )

    def stock_pass(batch: dict) -> torch.Tensor:
        stock(**batch)
        return torch.ones(batch["input_ids"].shape[0])

    def decoder(**options):
        return lambda batch: model.decode(**batch, **options).rounds.float()

    cache_options = [False, True] if not model.config.text_attends_labels else [False]
    methods = [
        ("stock one pass (text only)", stock_pass, plain),
        ("one_shot", decoder(strategy="one_shot", use_text_cache=False), templated),
    ]
    for k in args.ks:
        for cache in cache_options:
            name = f"confidence k={k}" + (" + text cache" if cache else "")
            methods.append((name, decoder(strategy="confidence", labels_per_round=k, use_text_cache=cache), templated))
    rows = []
    with torch.inference_mode():
        for name, run, batches in methods:
            speed, rounds, memory = timed(run, batches, device)
            rows.append({"method": name, "examples_per_s": speed, "mean_rounds": rounds, "peak_memory_mb": memory})
    base = next(r["examples_per_s"] for r in rows if r["method"] == "one_shot")
    for row in rows:
        row["ratio_to_one_shot"] = row["examples_per_s"] / base
    print("| method | examples/s | x one_shot | mean rounds | peak memory MB |\n|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['method']} | {r['examples_per_s']:.1f} | {r['ratio_to_one_shot']:.2f} | "
            f"{r['mean_rounds']:.2f} | {r['peak_memory_mb']:.0f} |"
        )
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "num_examples": len(texts),
        "batch_size": args.batch_size,
        "decode_margin": model.config.decode_margin,
        "template_tokens_per_label": model.config.tokens_per_label,
        "text_attends_labels": model.config.text_attends_labels,
        "memory_note": "CUDA: peak allocated per method; CPU: process peak RSS so far (monotone)",
        "rows": rows,
    }
    Path(args.output_file).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output_file).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
