"""Language-model backends behind one factory, as LangChain chat models.

- `local`: the GGUF model run in this process by llama.cpp (xllamacpp), loaded once per process.
- `openai`: any OpenAI-compatible server (`ChatOpenAI` pointed at `base_url`).

`python -m assistant.answer.llm serve --model PATH --port N` runs the same GGUF as an
OpenAI-compatible HTTP server in a process of its own (llama.cpp's server: `/v1/chat/completions`,
`/v1/models`, `/health`).
"""

from __future__ import annotations

import argparse
import queue
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.utils import convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import SecretStr

from assistant.settings import LLMSettings

# Local servers ignore the key, but the OpenAI client refuses to start without one.
NO_API_KEY = SecretStr("not-needed")


class ModelFileMissingError(ValueError):
    """The GGUF file the local backend needs is not there."""


def check_model_file(path: Path) -> Path:
    """Return `path` resolved, or raise a ModelFileMissingError that says how to get it."""
    if not path.is_file():
        raise ModelFileMissingError(
            f"language model file not found: {path}. Run `make model` to download it, "
            "or set ASSISTANT_LLM__MODEL_PATH to a GGUF file."
        )
    return path.resolve()


def _server_params(
    path: Path, n_ctx: int, n_threads: int, host: str = "127.0.0.1", port: int = 0,
    alias: str | None = None, verbosity: int = 0,
) -> Any:
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    # One slot: on 2 cores, two interleaved generations are slower than two in a row, and
    # llama.cpp's task queue already serialises requests from several threads.
    params.n_parallel = 1
    params.hostnames = [host]
    params.port = port
    params.verbosity = verbosity  # 0: llama.cpp prints nothing per request
    params.endpoint_metrics = True  # token and decode counters, in process and on /metrics
    if alias:
        params.model_alias = {alias}
    return params


# Loading takes seconds and ~1.9 GB: one server per (file, context, threads) per process.
_SERVERS: dict[tuple[str, int, int], Any] = {}
_SERVERS_LOCK = threading.Lock()


def local_server(path: Path, n_ctx: int = 4096, n_threads: int = 2) -> Any:
    """The process-wide `xllamacpp.Server` for this model file, loaded on first use.

    llama.cpp starts its HTTP listener with it, on a free 127.0.0.1 port; this process only
    calls it in process.
    """
    import xllamacpp as xlc

    path = check_model_file(path)
    key = (str(path), n_ctx, n_threads)
    with _SERVERS_LOCK:
        if key not in _SERVERS:
            _SERVERS[key] = xlc.Server(_server_params(path, n_ctx, n_threads))
        return _SERVERS[key]


def _usage(usage: dict[str, Any]) -> UsageMetadata:
    prompt = int(usage.get("prompt_tokens", 0))
    completion = int(usage.get("completion_tokens", 0))
    cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0))
    return UsageMetadata(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=int(usage.get("total_tokens", prompt + completion)),
        input_token_details={"cache_read": cached},
    )


def _raise_for_error(reply: dict[str, Any]) -> None:
    error = reply.get("error")
    if error:
        message = error.get("message", error) if isinstance(error, dict) else error
        raise RuntimeError(f"llama.cpp: {message}")


_DONE = object()


class LlamaCppChatModel(BaseChatModel):
    """A chat model over llama.cpp in this process, with token streaming and token usage.

    Safe from several threads: llama.cpp's server queues the requests of its one slot.
    """

    model_path: Path
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0

    @property
    def _llm_type(self) -> str:
        return "llamacpp-in-process"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": str(self.model_path),
            "n_ctx": self.n_ctx,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
        }

    @property
    def model_name(self) -> str:
        return self.model_path.stem

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": convert_to_openai_messages(messages),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
        }
        if stop:
            request["stop"] = stop
        request.update(kwargs)  # per-call overrides, e.g. max_tokens=64
        return request

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        server = local_server(self.model_path, self.n_ctx, self.n_threads)
        reply = server.handle_chat_completions(self._request(messages, stop, **kwargs))
        _raise_for_error(reply)
        choice = reply["choices"][0]
        metadata = {
            "finish_reason": choice.get("finish_reason"),
            "model_name": self.model_name,
            "timings": reply.get("timings", {}),
        }
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=_usage(reply.get("usage", {})),
            response_metadata=metadata,
        )
        return ChatResult(
            generations=[ChatGeneration(message=message, generation_info=metadata)]
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        server = local_server(self.model_path, self.n_ctx, self.n_threads)
        request = self._request(messages, stop, **kwargs)
        request["stream"] = True
        request["stream_options"] = {"include_usage": True}

        # llama.cpp calls `on_chunk` from inside a blocking call: run that call in a thread and
        # hand its chunks over through a queue, so they can be yielded as they arrive.
        chunks: queue.Queue[Any] = queue.Queue()
        abandoned = threading.Event()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            chunks.put(chunk)
            return abandoned.is_set()  # True stops the generation

        def produce() -> None:
            try:
                server.handle_chat_completions(request, on_chunk)
            except Exception as exc:  # handed to the consumer, raised there
                chunks.put(exc)
            finally:
                chunks.put(_DONE)

        threading.Thread(target=produce, name="llamacpp-stream", daemon=True).start()
        metadata: dict[str, Any] = {"model_name": self.model_name}
        try:
            while (item := chunks.get()) is not _DONE:
                if isinstance(item, Exception):
                    raise item
                _raise_for_error(item)
                for choice in item.get("choices", []):
                    if choice.get("finish_reason"):
                        metadata["finish_reason"] = choice["finish_reason"]
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                        if run_manager:
                            run_manager.on_llm_new_token(text, chunk=chunk)
                        yield chunk
                if "usage" in item:
                    metadata["timings"] = item.get("timings", {})
                    yield ChatGenerationChunk(
                        message=AIMessageChunk(
                            content="",
                            usage_metadata=_usage(item["usage"]),
                            response_metadata=metadata,
                            chunk_position="last",
                        ),
                        generation_info=metadata,
                    )
        finally:
            abandoned.set()  # the consumer stopped early or an error was raised


def get_chat_model(settings: LLMSettings) -> BaseChatModel:
    """The chat model of `settings.backend` ("local" or "openai").

    Raises ValueError for the extractive backend (it uses no language model) and, for the local
    backend, when the model file is missing (the message says to run `make model`).
    """
    if settings.backend == "local":
        local_server(settings.model_path, settings.n_ctx, settings.n_threads)  # load now
        return LlamaCppChatModel(
            model_path=settings.model_path,
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            seed=settings.seed,
        )
    if settings.backend == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=settings.model,
            base_url=settings.base_url,
            api_key=settings.api_key or NO_API_KEY,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            seed=settings.seed,
            timeout=settings.timeout_s,
            streaming=True,
            # Off by default for a custom base_url: llama.cpp and vLLM do send usage.
            stream_usage=True,
        )
    raise ValueError(
        f"backend {settings.backend!r} uses no language model: "
        "set ASSISTANT_LLM__BACKEND to 'local' or 'openai'"
    )


def serve(path: Path, host: str, port: int, n_ctx: int, n_threads: int, alias: str) -> None:
    """Run llama.cpp's OpenAI-compatible HTTP server on host:port until SIGTERM or Ctrl-C."""
    import xllamacpp as xlc

    params = _server_params(check_model_file(path), n_ctx, n_threads, host, port, alias)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = xlc.Server(params)
    print(f"serving {alias} on {server.listening_address}/v1", flush=True)
    while not stop.wait(1.0):
        pass
    del server  # stops llama.cpp's loop and listener


def main(argv: Sequence[str] | None = None) -> int:
    defaults = LLMSettings()
    parser = argparse.ArgumentParser(prog="python -m assistant.answer.llm")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("serve", help="OpenAI-compatible HTTP server over the GGUF model")
    p.add_argument("--model", type=Path, default=defaults.model_path, help="GGUF file")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--n-ctx", type=int, default=defaults.n_ctx)
    p.add_argument("--threads", type=int, default=defaults.n_threads)
    p.add_argument("--alias", default=defaults.model, help="model name listed by /v1/models")
    args = parser.parse_args(argv)
    try:
        serve(args.model, args.host, args.port, args.n_ctx, args.threads, args.alias)
    except ModelFileMissingError as exc:
        print(exc, file=sys.stderr)
        return 2
    except RuntimeError as exc:  # llama.cpp says only "failed to init": usually a busy port
        print(f"could not start on {args.host}:{args.port} (port in use?): {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
