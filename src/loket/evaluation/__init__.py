"""Evaluation tooling for `loket eval`: retrieval, answers and the red-team set.

Never imported by the request path: the runtime blocks (web, assistant, search, catalog, identity,
cases) do not depend on it, so measuring the assistant cannot change how it answers.
"""
