# Included right after llama.cpp's project() when `make test` builds llama-cpp-python from source
# (CMAKE_PROJECT_llama.cpp_INCLUDE, see the Makefile). llama-cpp-python forces llama.cpp's `common`
# library on, with its vendored HTTP client: nearly half of the compile, and the Python bindings and
# server load only libllama and libggml. llama.cpp itself builds fine without it.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library" FORCE)
