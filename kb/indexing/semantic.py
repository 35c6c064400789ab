"""The semantic half of search: article and query vectors from a static word-embedding model.

The model is WordLlama's ``l2_supercat`` (256 dimensions, 32,000 tokens, MIT), which ships inside the
``wordllama`` wheel: the token embeddings (``weights/l2_supercat_256.safetensors``, 16 MB) and the
tokenizer (``tokenizers/l2_supercat_tokenizer_config.json``). They are read straight from the package's
files with ``tokenizers`` and ``safetensors``: nothing is ever downloaded. (``wordllama`` 0.4.0.post1's own
``load()`` looks for its tokenizer under ``tokenizer/`` and, not finding it, goes to the network; and
importing it calls ``logging.basicConfig``. So the package is used for its files, not its code.)

A text's vector is the mean of its tokens' embeddings, normalised: what WordLlama's ``embed`` computes.
Article vectors are derived data like the rest of the index: ``document_for`` adds one to every index
document (a stored field, float16), so every path that writes a document (save, repair, rebuild, the
change log) keeps the vectors in step with no extra step.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

MODEL_PACKAGE = "wordllama"
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
DIMENSIONS = 256
# Long bodies are cut: the mean of a few thousand tokens says no more than the mean of the first ones.
MAX_TOKENS = 2048
VECTOR_DTYPE = np.float16

_lock = threading.Lock()
_model: Embedder | None = None


class ModelMissing(RuntimeError):
    """The embedding model's package is not installed."""


def package_dir() -> Path:
    """Where the model's package lives, found without importing it."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(f"the {MODEL_PACKAGE} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


class Embedder:
    """Token embeddings and tokenizer, loaded once per process from the package's own files."""

    def __init__(self, folder: Path | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = folder or package_dir()
        self.embedding = load_file(str(folder / WEIGHTS))["embedding.weight"].astype(VECTOR_DTYPE)
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.size_bytes = int(self.embedding.nbytes)

    def embed(self, texts: list[str]) -> np.ndarray:
        """One normalised float32 vector per text (zeros for a text with no tokens)."""
        out = np.zeros((len(texts), self.embedding.shape[1]), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        top = self.embedding.shape[0] - 1
        for row, encoding in enumerate(encodings):
            ids = np.clip(np.asarray(encoding.ids[:MAX_TOKENS], dtype=np.int64), 0, top)
            if ids.size == 0:
                continue
            vector = self.embedding[ids].astype(np.float32).mean(axis=0)
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                out[row] = vector / norm
        return out

    def is_whole_word(self, word: str) -> bool:
        """True when the model's vocabulary holds ``word`` as one token: a real word, not a typo
        (typos split into pieces: "survaillance" is "sur va ill ance")."""
        return self.tokenizer.token_to_id("\u2581" + word.lower()) is not None

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def model() -> Embedder:
    """The process's embedder (loaded on first use, about 0.2 s)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = Embedder()
    return _model


def encode(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=VECTOR_DTYPE).tobytes()


def decode(data: bytes | None) -> np.ndarray:
    if not data:
        return np.zeros(DIMENSIONS, dtype=np.float32)
    return np.frombuffer(data, dtype=VECTOR_DTYPE).astype(np.float32)


def article_text(document: dict) -> str:
    """What an article's vector is made from: its names, summary, facets and body."""
    parts = [
        document.get("title", ""),
        document.get("acronym", ""),
        document.get("summary", ""),
        document.get("keywords", "").replace("\n", ", "),
        document.get("body", ""),
    ]
    return "\n".join(p for p in parts if p)


def vector_for(document: dict) -> bytes:
    """The stored vector of an index document."""
    return encode(model().embed_one(article_text(document)))
