"""A Hugging Face Inference Endpoints custom handler for an lmmlc model (`lmmlc-push` uploads it as `handler.py`).

Travels with the model: imports only transformers; the model and its multi-label pipeline load as remote code.
Request: `{"inputs": "a text" | ["text", ...], "parameters": {"threshold": 0.4, "top_k": 3}}` (parameters optional:
`threshold` a float in (0, 1) overriding the model's tuned thresholds, `top_k` an int or null for every label).
Response: for one text, a list of `{"label", "score"}` (the predicted labels, most probable first); for a list of
texts, one such list per text.
"""

from __future__ import annotations

from typing import Any

from transformers import pipeline

PARAMETERS = ("threshold", "top_k")
MAX_TEXTS = 1024
"""Most texts in one request (a larger batch is split by the client)."""


class EndpointHandler:
    """Loads the model folder once; each call checks the payload before anything is scored."""

    def __init__(self, path: str = "") -> None:
        self.classifier = pipeline(task="multi-label-classification", model=path or ".", trust_remote_code=True)

    def __call__(self, data: dict[str, Any]) -> list:
        texts, options = parse_request(data)
        results = self.classifier(texts if isinstance(texts, list) else [texts], batch_size=32, **options)
        return results if isinstance(texts, list) else results[0]


def parse_request(data: Any) -> tuple[str | list[str], dict[str, Any]]:
    """The texts and pipeline options of a request, or a ValueError naming what is wrong with it."""
    if not isinstance(data, dict) or "inputs" not in data:
        raise ValueError('The request must be a JSON object with "inputs": a text or a list of texts.')
    unknown = sorted(set(data) - {"inputs", "parameters"})
    if unknown:
        raise ValueError(f'Unknown request field(s) {unknown}: send "inputs" and optionally "parameters".')
    texts = data["inputs"]
    many = texts if isinstance(texts, list) else [texts]
    if not many or len(many) > MAX_TEXTS:
        raise ValueError(f'"inputs" must hold 1 to {MAX_TEXTS} texts, got {len(many)}.')
    for i, text in enumerate(many):
        if not isinstance(text, str) or not text.strip():
            where = "" if many is not texts else f" at index {i}"
            raise ValueError(f'"inputs"{where} must be a non-empty text, got {text!r}.')
    return texts, parse_parameters(data.get("parameters") or {})


def parse_parameters(parameters: Any) -> dict[str, Any]:
    """`threshold` and `top_k` checked; anything else refused."""
    if not isinstance(parameters, dict):
        raise ValueError(f'"parameters" must be an object with {", ".join(PARAMETERS)}, got {parameters!r}.')
    unknown = sorted(set(parameters) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"Unknown parameter(s) {unknown}: use {', '.join(PARAMETERS)}.")
    options = dict(parameters)
    threshold = options.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
        raise ValueError(f'"threshold" must be a number in (0, 1), got {threshold!r}.')
    if threshold is not None and not 0 < threshold < 1:
        raise ValueError(f'"threshold" must lie strictly between 0 and 1, got {threshold}.')
    if "top_k" in options:
        top_k = options["top_k"]
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f'"top_k" must be a positive integer, or null for every label, got {top_k!r}.')
    return options
