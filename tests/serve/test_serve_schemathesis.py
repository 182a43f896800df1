"""schemathesis against the app's OpenAPI document, on a real uvicorn server:
no server error (5xx other than the deliberate, JSON-bodied 501/503/504), every
error is biorel's JSON error, and every answer conforms to the documented
statuses, content types and response schemas.

Each operation gets ``MAX_EXAMPLES`` generated cases (hypothesis drives
``operation.as_strategy()`` directly: schemathesis' pytest loader does not run
under pytest 9). The equivalent command line, against ``biorel serve``::

    schemathesis run http://127.0.0.1:8000/openapi.json --max-examples 25 \\
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from serve_helpers import running, tiny_model

import schemathesis
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from biorel.serve import ServeSettings, create_app

MAX_EXAMPLES = 25
DELIBERATE = {501, 503, 504}
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


def check(case, base_url: str, seen: dict[int, int]) -> None:
    response = case.call(base_url=base_url, timeout=60)
    seen[response.status_code] = seen.get(response.status_code, 0) + 1
    if response.status_code >= 500:
        assert response.status_code in DELIBERATE, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
    if response.status_code >= 400:
        err = response.json()["error"]
        assert err["code"].startswith("E") and err["status"] == response.status_code
    case.validate_response(response, checks=CHECKS)


@pytest.mark.slow
def test_api_conforms_and_never_fails(tmp_path):
    app = create_app(tiny_model(tmp_path), settings=ServeSettings(model_name="tiny", max_body_bytes=200_000))
    with running(app) as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == 8
        seen: dict[int, int] = {}
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def run(case) -> None:
                check(case, url, seen)

            run()
    print(f"schemathesis: {sum(seen.values())} requests over {len(operations)} operations, statuses {dict(sorted(seen.items()))}")
    assert sum(seen.values()) >= len(operations) and 200 in seen
