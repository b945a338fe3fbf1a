"""The language-model backends with the real model: llama.cpp in process, and an
OpenAI-compatible server run from the same GGUF in its own process. Nothing is mocked.

Greedy decoding (temperature 0) makes the replies deterministic for a given model file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain_core.messages import AIMessageChunk

from assistant.answer.llm import (
    LlamaCppChatModel,
    ModelFileMissingError,
    get_chat_model,
    local_server,
)
from assistant.settings import PROJECT_ROOT, LLMSettings, Settings

SYSTEM = (
    "Answer the question using only the numbered passages. "
    "Cite the passage you use as [n] after the sentence."
)
PASSAGES = (
    "[1] The plan runs until 2022 and covers the 18th and 19th arrondissements.\n"
    "[2] It was signed by the mayor of Paris, the police prefect and the regional health agency."
)


def grounded(question: str) -> list[tuple[str, str]]:
    return [("system", SYSTEM), ("human", f"Passages:\n{PASSAGES}\n\nQuestion: {question}")]


UNTIL_WHEN = grounded("Until when does the plan run?")


def local_model(gguf_path: Path, **overrides) -> LlamaCppChatModel:
    model = get_chat_model(LLMSettings(backend="local", model_path=gguf_path, **overrides))
    assert isinstance(model, LlamaCppChatModel)
    return model


def collect(chunks) -> tuple[list[AIMessageChunk], AIMessageChunk]:
    chunks = list(chunks)
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return chunks, total


def test_local_model_streams_a_grounded_answer(gguf_path: Path) -> None:
    chunks, total = collect(local_model(gguf_path).stream(UNTIL_WHEN))
    texts = [c.content for c in chunks if c.content]
    assert len(texts) >= 3, texts  # token by token, not one block at the end
    assert "2022" in total.content
    assert total.response_metadata["finish_reason"] == "stop"
    # Usage rides on the last chunk.
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata["output_tokens"] >= len(texts)


def test_local_model_reports_token_usage(gguf_path: Path) -> None:
    reply = local_model(gguf_path).invoke(UNTIL_WHEN)
    usage = reply.usage_metadata
    assert "2022" in reply.content
    assert usage["input_tokens"] > 40  # system prompt, two passages and the question
    assert usage["output_tokens"] >= 3
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_max_tokens_from_settings_caps_the_reply(gguf_path: Path) -> None:
    reply = local_model(gguf_path, max_tokens=3).invoke(UNTIL_WHEN)
    assert reply.usage_metadata["output_tokens"] == 3
    assert reply.response_metadata["finish_reason"] == "length"


def test_the_model_is_loaded_once_per_process(gguf_path: Path) -> None:
    local_model(gguf_path)
    local_model(gguf_path, max_tokens=10)  # generation settings don't reload it
    assert local_server(gguf_path) is local_server(gguf_path)


def test_two_threads_at_once_both_get_full_answers(gguf_path: Path) -> None:
    model = local_model(gguf_path)

    def ask(question: str) -> tuple[str, str]:
        _, total = collect(model.stream(grounded(question)))
        return total.content, total.response_metadata["finish_reason"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        until = pool.submit(ask, "Until when does the plan run?")
        who = pool.submit(ask, "Who signed the plan?")
        (until_text, until_end), (who_text, who_end) = until.result(), who.result()
    assert "2022" in until_text and until_end == "stop"
    assert "prefect" in who_text.lower() and who_end == "stop"


def decode_calls(gguf_path: Path) -> int:
    """llama.cpp's count of decode steps so far (one per generated token, one per prompt)."""
    for line in local_server(gguf_path).handle_metrics().splitlines():
        if line.startswith("llamacpp:n_decode_total "):
            return int(float(line.split()[1]))
    raise AssertionError("no n_decode_total in llama.cpp's metrics")


def test_a_stream_abandoned_early_stops_generating(gguf_path: Path) -> None:
    model = local_model(gguf_path, max_tokens=200)
    before = decode_calls(gguf_path)
    stream = model.stream([("human", "Write a long essay about the history of Paris.")])
    assert next(stream).content
    stream.close()  # the generation is told to stop at its next token
    # The one slot is free again: the next question is answered (it queues behind any leftover).
    assert "2022" in model.invoke(UNTIL_WHEN).content
    # Left running, the essay alone would have taken 200 decode steps.
    assert decode_calls(gguf_path) - before < 60


def test_missing_model_file_says_to_run_make_model(tmp_path: Path) -> None:
    missing = tmp_path / "absent.gguf"
    with pytest.raises(ValueError, match="make model") as raised:
        get_chat_model(LLMSettings(backend="local", model_path=missing))
    assert isinstance(raised.value, ModelFileMissingError)
    assert str(missing) in str(raised.value)


def test_serve_without_the_model_file_exits_with_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "absent.gguf"
    done = subprocess.run(
        [sys.executable, "-m", "assistant.answer.llm", "serve", "--model", str(missing),
         "--port", "0"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "make model" in done.stderr and str(missing) in done.stderr


def test_the_extractive_backend_has_no_chat_model() -> None:
    with pytest.raises(ValueError, match="ASSISTANT_LLM__BACKEND"):
        get_chat_model(LLMSettings())


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSISTANT_LLM__API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert Settings().llm.backend == "extractive"
    assert Settings().llm.api_key is None
    monkeypatch.setenv("ASSISTANT_LLM__BACKEND", "local")
    monkeypatch.setenv("ASSISTANT_LLM__N_CTX", "2048")
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai-variable")
    llm = Settings().llm
    assert (llm.backend, llm.n_ctx) == ("local", 2048)
    assert llm.api_key.get_secret_value() == "from-openai-variable"
    monkeypatch.setenv("ASSISTANT_LLM__API_KEY", "from-assistant-variable")
    assert Settings().llm.api_key.get_secret_value() == "from-assistant-variable"
    monkeypatch.setenv("ASSISTANT_LLM__BACKEND", "gpt")
    with pytest.raises(ValueError, match="backend"):
        Settings()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return json.load(reply)


def test_server_answers_health_models_and_chat(openai_server: str) -> None:
    root = openai_server.removesuffix("/v1")
    assert get_json(f"{root}/health")["status"] == "ok"
    models = [m["id"] for m in get_json(f"{openai_server}/models")["data"]]
    assert models == [LLMSettings().model]
    body = json.dumps({"messages": [{"role": r, "content": c} for r, c in
                                    [("system", SYSTEM), ("user", UNTIL_WHEN[1][1])]],
                       # Greedy, as the backends ask: the server's default samples.
                       "max_tokens": 32, "temperature": 0, "seed": 0}).encode()
    request = urllib.request.Request(f"{openai_server}/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as reply:
        answer = json.load(reply)
    assert "2022" in answer["choices"][0]["message"]["content"]


def test_openai_backend_streams_from_the_server(openai_server: str) -> None:
    model = get_chat_model(LLMSettings(backend="openai", base_url=openai_server))
    chunks, total = collect(model.stream(UNTIL_WHEN))
    assert len([c for c in chunks if c.content]) >= 3
    assert "2022" in total.content
    assert total.usage_metadata["output_tokens"] >= 3  # stream_usage is on
    assert total.response_metadata["finish_reason"] == "stop"


def test_openai_backend_invoke_matches_the_local_model(openai_server: str, gguf_path: Path) -> None:
    remote_model = get_chat_model(LLMSettings(backend="openai", base_url=openai_server))
    remote = remote_model.invoke(UNTIL_WHEN)
    local = local_model(gguf_path).invoke(UNTIL_WHEN)
    assert "2022" in remote.content and "2022" in local.content
    # Same file and chat template on both sides: the same prompt, token for token.
    assert remote.usage_metadata["input_tokens"] == local.usage_metadata["input_tokens"]
