"""The code location behind the proxy in test_auth.py: one quick job for an operator to launch."""

import dagster as dg


@dg.op
def greet() -> str:
    return "hello"


@dg.job
def greeting_job() -> None:
    greet()


defs = dg.Definitions(jobs=[greeting_job])
