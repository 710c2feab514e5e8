"""llama-cpp-python's OpenAI-compatible server, loading models without ggml's extra buffer types.

ggml may repack a model's weights into a layout for the CPU it finds at run time: AMX tiles on Intel
CPUs that have AMX, interleaved blocks ("REPACK") elsewhere. With those buffer types, llama.cpp 0.3.36
(llama-cpp-python's) was seen to segfault on the first completion on CPUs with AMX; without them it
answers alike on every CPU, a little slower on the first prompt. The server has no flag for this
(llama.cpp's own server calls it --no-repack), so this launcher sets `use_extra_bufts = False` in the
model parameters every `Llama` starts from, then runs the server with the arguments it was given.
"""

from __future__ import annotations

import llama_cpp.llama_cpp as bindings
from llama_cpp.server.__main__ import main

_default_params = bindings.llama_model_default_params


def _plain_layout_params():
    params = _default_params()
    params.use_extra_bufts = False
    return params


if __name__ == "__main__":
    bindings.llama_model_default_params = _plain_layout_params
    main()
