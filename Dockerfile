# syntax=docker/dockerfile:1
# loket's image: the web app (`loket serve`, the default), the job worker (`loket worker`) and the
# migrations (`loket db upgrade`) all run from it. deploy/compose.yaml and the Helm chart in
# deploy/helm/loket use it; docs/operations.md says how.
#
#   docker build -t loket:0.1.0 .          (or: buildah build --format docker -t loket:0.1.0 .)
#
# Two stages: the builder installs loket and its dependencies into a virtual environment (no test
# extra, so no llama.cpp and no browser); the runtime copies that environment alone, and runs as an
# unprivileged user with a fixed UID/GID (10001), so that Kubernetes' runAsNonRoot can check it and a
# read-only root file system works (only /tmp and the data dir, /var/lib/loket, are written to).
# Pin the base by digest in your own builds (PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/loket
WORKDIR /build
# What `pip install .` reads: the project's metadata (README.md is its long description) and the source.
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/loket/bin/pip install . \
    && /opt/loket/bin/loket --help > /dev/null

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="loket" \
      org.opencontainers.image.description="One digital assistant for a government" \
      org.opencontainers.image.licenses="EUPL-1.2"
RUN groupadd --system --gid 10001 loket \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/loket --no-create-home \
       --shell /usr/sbin/nologin loket \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/loket
COPY --from=builder /opt/loket /opt/loket
ENV PATH=/opt/loket/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/loket \
    LOKET_DATA_DIR=/var/lib/loket
WORKDIR /var/lib/loket
USER 10001:10001
EXPOSE 8000
# No curl in the slim image: Python asks /healthz (alive; /readyz also needs the database and content).
# Docker uses this; Kubernetes has its own probes (deploy/helm), and OCI-format builds drop it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["loket", "serve", "--host", "0.0.0.0", "--port", "8000"]
