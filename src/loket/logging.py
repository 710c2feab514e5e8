"""JSON logs with structlog.

Log events and ids, never what a person typed: questions may hold personal data.
"""

from __future__ import annotations

import logging
import sys

import structlog
from opentelemetry import trace


def configure(level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    for chatty in ("bm25s", "alembic", "procrastinate"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,  # request_id, bound for each HTTP request
            _trace_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_current_stderr,
        cache_logger_on_first_use=False,
    )


def _trace_ids(_logger, _method, event: dict) -> dict:
    """The OpenTelemetry trace and span under way (tracing on, see loket.tracing), so that a log line
    leads to its trace; nothing outside one."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", trace.format_trace_id(context.trace_id))
        event.setdefault("span_id", trace.format_span_id(context.span_id))
    return event


def _current_stderr(*_args) -> structlog.PrintLogger:
    """Whatever stderr is at the moment of logging: a CLI run or a test may have swapped it and closed it."""
    return structlog.PrintLogger(sys.stderr)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name)
