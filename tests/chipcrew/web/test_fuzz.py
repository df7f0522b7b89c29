"""The workspace API fuzzed from its own OpenAPI schema (schemathesis): whatever the input, never a 5xx.

Every operation gets a few generated cases (bounded, so the test stays in seconds). Turns start for real, but with
every tool replaced by one that refuses (a ChipCrewError): generated text could otherwise route to a tool that
trains a model for minutes; routing, the session lock, the store and the error path still run.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from agents.base import ToolSpec
from chipcrew.web.server import create_app
from tools.common import ChipCrewError


@pytest.fixture(scope="module")
def fuzz_app(web_app, web_settings):
    return create_app(web_settings, crew=web_app.state.runner.crew, workers=2)


@pytest.fixture(scope="module")
def operations(fuzz_app) -> list:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture(autouse=True)
def _tools_refuse(monkeypatch: pytest.MonkeyPatch, fuzz_app):
    def refuse(self: ToolSpec, *args, **kwargs):
        raise ChipCrewError(f"{self.name} is off while the API is fuzzed")

    monkeypatch.setattr(ToolSpec, "invoke", refuse)
    yield
    deadline = time.monotonic() + 60  # let the started turns end before the tools come back
    while not all(log.done for log in fuzz_app.state.runner.logs.values()) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")  # inside schemathesis
def test_no_input_makes_the_api_fail_with_a_server_error(operations: list) -> None:
    assert len(operations) >= 10, [op.label for op in operations]
    for op in operations:

        @given(case=op.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def call(case) -> None:
            if case.path.endswith("/events"):  # a stream: generated ids are unknown turns, which answer 404 at once
                case.path_parameters = {"turn_id": "0" * 32}
            case.call_and_validate(checks=[not_a_server_error])

        call()
