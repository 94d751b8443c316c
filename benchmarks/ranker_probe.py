"""The label ranker's loss and start on frozen features: recall@M of the shortlist ranker (`lmmlc/shortlist_lmmlc.py`)
trained alone on the bundled MiniLM's mean-pooled cooking-stackexchange titles (no fine-tuning), validation split.

    python -m benchmarks.ranker_probe                       # about 3 minutes on 2 CPU cores

Features: the anchors' sentence embeddings (`benchmarks.anchors.embed`). Variants: loss (bce: per-label BCE;
softmax: `ranker_loss`) x start of the label vectors (random, or the label name's embedding). AdamW at
`--learning_rate`, linear decay, batches of 32, `--epochs` epochs.
Writes docs/benchmarks/ranker_probe.{json,md,png}.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from benchmarks.anchors import _load_encoder, _texts, embed, label_matrix, load_splits
from benchmarks.reporting import new_figure, save_figure, write_report
from benchmarks.shortlist import shortlist_recall
from lmmlc.shortlist_lmmlc import LabelRanker, ranker_loss

SIZES = (32, 64, 128, 256)
VARIANTS = [("bce", "random"), ("softmax", "random"), ("bce", "names"), ("softmax", "names")]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="../shared/data/cooking-stackexchange")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--learning_rate", type=float, default=3e-4)
    parser.add_argument("--max_train_samples", type=int, help="Cut the train set (smoke runs only).")
    parser.add_argument("--output", default="docs/benchmarks/ranker_probe")
    return parser.parse_args(argv)


def recall(scores: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """`shortlist_recall` (share of the true labels among each example's top M scores) at every size M."""
    return {f"recall@{m}": shortlist_recall(scores.numpy(), y.numpy(), m) for m in SIZES}


def train(loss: str, start: torch.Tensor | None, x, y, args) -> LabelRanker:
    torch.manual_seed(0)
    ranker = LabelRanker(y.shape[1], x.shape[1])
    torch.nn.init.normal_(ranker.label_vectors, std=0.02)
    if start is not None:
        ranker.label_vectors.data.copy_(start)
    optimizer = torch.optim.AdamW(ranker.parameters(), lr=args.learning_rate)
    steps = args.epochs * -(-len(x) // 32)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / steps))
    for _ in range(args.epochs):
        for batch in torch.randperm(len(x)).split(32):
            logits = ranker(x[batch])
            if loss == "bce":
                value = F.binary_cross_entropy_with_logits(logits, y[batch])
            else:
                value = ranker_loss(logits, y[batch], -100)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            schedule.step()
    return ranker


def rows_of(args: argparse.Namespace) -> list[dict]:
    splits, names = load_splits(args.data_dir)
    train_rows = splits["train"][: args.max_train_samples]
    model, tokenizer = _load_encoder(None)

    def vectors(texts: list[str]) -> torch.Tensor:
        return torch.from_numpy(embed(texts, model, tokenizer)).float()

    x, xv = vectors(_texts(train_rows)), vectors(_texts(splits["validation"]))
    y, yv = (torch.from_numpy(label_matrix(rows, names)).float() for rows in (train_rows, splits["validation"]))
    name_vectors = vectors([n.replace("-", " ").replace("_", " ") for n in names])
    zero_shot = F.normalize(xv, dim=-1) @ F.normalize(name_vectors, dim=-1).T
    rows = [{"loss": "none (zero-shot)", "start": "names", **recall(zero_shot, yv)}]
    for loss, start in VARIANTS:
        ranker = train(loss, name_vectors if start == "names" else None, x, y, args)
        with torch.no_grad():
            rows.append({"loss": loss, "start": start, **recall(ranker(xv), yv)})
        print(rows[-1], flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| loss | label vectors start | " + " | ".join(f"recall@{m}" for m in SIZES) + " |"]
    lines.append("|---" * (len(SIZES) + 2) + "|")
    lines += [
        f"| {r['loss']} | {r['start']} | " + " | ".join(f"{r[f'recall@{m}']:.3f}" for m in SIZES) + " |" for r in rows
    ]
    return "\n".join(lines)


def plot(rows: list[dict], path) -> None:
    figure, axis = new_figure(size=(6, 4))
    for r in rows:
        axis.plot(SIZES, [r[f"recall@{m}"] for m in SIZES], marker="o", label=f"{r['loss']}, {r['start']}")
    axis.set(xscale="log", xlabel="shortlist size M", ylabel="validation recall@M", title="label ranker, frozen MiniLM")
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    rows = rows_of(args)
    print(table(rows))
    write_report(args.output, "benchmarks.ranker_probe", argv, rows, table(rows), plot)


if __name__ == "__main__":
    main()
