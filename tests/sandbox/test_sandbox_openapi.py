"""The sandbox's responses conform to the packaged OpenAPI document.

Needs a YAML parser (PyYAML), not yet a test dependency: the module skips without it. The
schema check below covers exactly the JSON Schema keywords the document uses and fails on
any other keyword, so it can never pass by ignoring part of the contract.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import httpx
import pytest

from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.demo import demo_account
from aircall_ext.sandbox.ratelimit import RateLimit

yaml = pytest.importorskip("yaml")

Spec = dict[str, Any]
_IGNORED = {"description", "examples", "format", "default"}
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


@pytest.fixture(scope="module")
def spec() -> Spec:
    text = resources.files("aircall_ext.api").joinpath("openapi.yaml").read_text("utf-8")
    doc: Spec = yaml.safe_load(text)
    return doc


def resolve(spec: Spec, node: Spec) -> Spec:
    while "$ref" in node:
        path = node["$ref"].removeprefix("#/").split("/")
        node = spec
        for part in path:
            node = node[part]
    return node


def check(spec: Spec, schema: Spec, value: Any, where: str = "$") -> None:
    """Raise AssertionError naming the first place ``value`` breaks ``schema``."""
    schema = resolve(spec, schema)
    unknown = set(schema) - _IGNORED - {
        "type", "properties", "required", "items", "enum", "pattern",
        "minimum", "maximum", "anyOf",
    }  # fmt: skip
    assert not unknown, f"{where}: the checker does not know {unknown}"
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        numeric = {"integer", "number"}
        ok = any(
            isinstance(value, _TYPES[t]) and not (t in numeric and isinstance(value, bool))
            for t in types
        )
        assert ok, f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "pattern" in schema and isinstance(value, str):
        assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
    if "minimum" in schema and isinstance(value, int | float):
        assert value >= schema["minimum"], f"{where}: {value} < {schema['minimum']}"
    if "maximum" in schema and isinstance(value, int | float):
        assert value <= schema["maximum"], f"{where}: {value} > {schema['maximum']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: {key!r} is missing"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check(spec, sub, value[key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check(spec, schema["items"], item, f"{where}[{i}]")
    if "anyOf" in schema:
        failures = []
        for option in schema["anyOf"]:
            try:
                check(spec, option, value, where)
                break
            except AssertionError as err:
                failures.append(str(err))
        else:
            raise AssertionError(f"{where}: matches none of anyOf: {failures}")


def header_number(text: str) -> int | float:
    """Header values are text; the document types them as numbers."""
    return int(text) if re.fullmatch(r"-?[0-9]+", text) else float(text)


def conforms(spec: Spec, path: str, method: str, response: httpx.Response) -> None:
    """The response's status is documented, and its body and headers match the document."""
    item = spec["paths"][path]
    responses = item[method.lower()]["responses"]
    status = str(response.status_code)
    documented = responses.get(status) or responses.get(f"{status[0]}XX")
    assert documented, f"{method} {path}: {status} is not documented"
    documented = resolve(spec, documented)
    for name, header in documented.get("headers", {}).items():
        header = resolve(spec, header)
        if header.get("required"):
            assert name in response.headers, f"{method} {path} {status}: no {name}"
        if name in response.headers:
            check(spec, header["schema"], header_number(response.headers[name]), name)
    schema = documented["content"]["application/json"]["schema"]
    check(spec, schema, response.json(), f"{method} {path} {status}")


@pytest.fixture
def http() -> httpx.Client:
    app = SandboxApp(
        demo_account(),
        credentials=("id", "token"),
        rate_limit=RateLimit(1000, 60),
        clock=lambda: 1_700_000_000.0,
    )
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://sandbox.test/v1",
        auth=("id", "token"),
    )


CASES = [
    ("/company", "GET", "/company", None),
    ("/users", "GET", "/users?per_page=5&page=2", None),
    ("/users", "GET", "/users?page=0", None),
    ("/users", "GET", "/users?page=9999&per_page=50", None),
    ("/users/{id}", "GET", "/users/481011", None),
    ("/users/{id}", "GET", "/users/1", None),
    ("/users/{id}", "PUT", "/users/481002", {"extension": "150"}),
    ("/users/{id}", "PUT", "/users/481002", {"extension": "101"}),
    ("/users/{id}", "PUT", "/users/481002", {"extension": 101}),
    ("/users/{id}", "PUT", "/users/1", {"extension": "150"}),
    ("/numbers", "GET", "/numbers", None),
    ("/numbers/{id}", "GET", "/numbers/912002", None),
    ("/numbers/{id}", "GET", "/numbers/1", None),
]


@pytest.mark.parametrize(("path", "method", "url", "body"), CASES)
def test_responses_conform(
    spec: Spec, http: httpx.Client, path: str, method: str, url: str, body: object
) -> None:
    response = http.request(method, url, json=body)
    conforms(spec, path, method, response)


def test_every_documented_operation_is_exercised(spec: Spec) -> None:
    operations = {
        (p, m.upper()) for p, item in spec["paths"].items() for m in item if m != "parameters"
    }
    assert operations == {(path, method) for path, method, _url, _body in CASES}


def test_errors_conform_too(spec: Spec) -> None:
    app = SandboxApp(demo_account(), credentials=("id", "token"), rate_limit=RateLimit(1, 60))
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://s/v1")
    conforms(spec, "/company", "GET", http.get("/company"))  # 401
    conforms(spec, "/company", "GET", http.get("/company"))  # 429


def test_the_checker_catches_drift(spec: Spec, http: httpx.Client) -> None:
    user = http.get("/users/481001").json()
    user["user"]["extension"] = 101
    envelope = {"$ref": "#/components/schemas/UserEnvelope"}
    with pytest.raises(AssertionError, match=r"\$\.user\.extension"):
        check(spec, envelope, user)
