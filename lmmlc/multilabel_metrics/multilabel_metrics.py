"""Multi-label metrics as a local `evaluate` module: `evaluate.load(lmmlc.metrics.METRIC_MODULE)`."""

import datasets
import evaluate
import numpy as np

from lmmlc.metrics import binarize, multilabel_metrics, ranking_metrics

_DESCRIPTION = """Subset accuracy, micro/macro F1, mean per-sample Jaccard, Hamming loss and 1 - Hamming loss
of multi-label predictions, and precision, recall and nDCG of the top 1, 3 and 5 labels. Predictions are
probabilities (cut at `threshold` for the set metrics: one value or one per label) or 0/1 values;
references are 0/1 vectors. The ranking metrics rank the raw predictions, whatever the threshold
(ties in label order, so 0/1 predictions rank their predicted labels first, in label order)."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: per example, one probability (or 0/1) per label.
    references: per example, one 0/1 value per label.
    threshold: a float or a list of one float per label (default 0.5).
Returns:
    subset_accuracy, micro_f1, macro_f1, jaccard, hamming_loss, hamming_score (at the threshold);
    p@1, p@3, p@5, r@1, r@3, r@5, ndcg@1, ndcg@3, ndcg@5 (of the ranked predictions).
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MultilabelMetrics(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float32")),
                    "references": datasets.Sequence(datasets.Value("int32")),
                }
            ),
        )

    def _compute(self, predictions, references, threshold=0.5) -> dict:
        predictions, references = np.asarray(predictions), np.asarray(references)
        return {
            **multilabel_metrics(binarize(predictions, threshold), references),
            **ranking_metrics(predictions, references),
        }
