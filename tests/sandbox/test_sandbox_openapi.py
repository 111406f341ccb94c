"""Contract conformance: every sandbox response validates against the packaged OpenAPI document.

The document (``aircall_ext/api/openapi.yaml``, OpenAPI 3.1, so its schemas are JSON Schema
2020-12) is loaded once into a :mod:`referencing` registry; ``$ref`` pointers resolve against
it and :mod:`jsonschema` does the validating. Every documented (operation, status) pair is
produced by a real request to the sandbox and checked: status documented, required headers
present and well-typed, body valid. A property test then sends arbitrary requests, so an
undocumented status or shape anywhere fails the suite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from aircall_ext.api.client import ApiClient
from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.demo import demo_account
from aircall_ext.sandbox.faults import FaultInjector, FaultPlan
from aircall_ext.sandbox.ratelimit import RateLimit

DOC_URI = "urn:aircall-ext:openapi.yaml"
NOW = 1_700_000_000.0
CREDENTIALS = ("id", "token")
USER, OTHER_USER, NUMBER, TEAM = 481002, 481001, 912002, 7001  # Bruno, Amelia, a number, Sales
EMAIL = "amelia.hart@example.com"
PROPERTY_EXAMPLES = 200
PLENTY = RateLimit(1000, 60)
SANDBOX_URL = "http://sandbox.test"


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class Contract:
    """The OpenAPI document with ``$ref`` resolution by :mod:`referencing`."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        resource = Resource.from_contents(doc, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
        self.resolver = self.registry.resolver(base_uri=DOC_URI)

    def lookup(self, pointer: str) -> tuple[str, Any]:
        """The node at ``pointer`` with every ``$ref`` followed, and its final pointer."""
        node = self.resolver.lookup(f"#{pointer}").contents
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self.resolver.lookup(node["$ref"]).contents
        return pointer, node

    def validator(self, pointer: str) -> jsonschema.protocols.Validator:
        """A validator for the schema at ``pointer`` (its ``$ref``s resolve in the document)."""
        schema = {"$ref": f"{DOC_URI}#{pointer}"}
        return jsonschema.Draft202012Validator(schema, registry=self.registry)

    def operations(self) -> set[tuple[str, str]]:
        return {
            (path, method.upper())
            for path, item in self.doc["paths"].items()
            for method in item
            if method in {"get", "put", "post", "delete", "patch"}
        }

    def statuses(self, path: str, method: str) -> set[str]:
        return set(self.doc["paths"][path][method.lower()]["responses"])

    def template(self, url_path: str) -> str | None:
        """The documented path template an actual path falls under; like most
        APIs the sandbox ignores one trailing slash."""
        if url_path != "/":
            url_path = url_path.removesuffix("/")
        for template in self.doc["paths"]:
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, url_path):
                return str(template)
        return None

    def check(self, path: str, method: str, response: httpx.Response) -> str:
        """Assert ``response`` is documented for the operation; returns the matched status key."""
        operation = f"/paths/{escape(path)}/{method.lower()}"
        documented = self.statuses(path, method)
        status = str(response.status_code)
        key = status if status in documented else f"{status[0]}XX"
        assert key in documented, f"{method} {path}: HTTP {status} is not documented"
        pointer, spec = self.lookup(f"{operation}/responses/{escape(key)}")
        for name in spec.get("headers", {}):
            header_pointer, header = self.lookup(f"{pointer}/headers/{escape(name)}")
            value = response.headers.get(name)
            if value is None:
                assert not header.get("required"), f"{method} {path} {status}: no {name} header"
                continue
            self.validator(f"{header_pointer}/schema").validate(header_value(value))
        assert response.headers["content-type"].startswith("application/json")
        media = f"{pointer}/content/{escape('application/json')}/schema"
        self.validator(media).validate(response.json())
        return key

    def check_error_document(self, response: httpx.Response) -> None:
        """Outside the documented operations (unknown path, 405) the error shape still holds."""
        self.validator("/components/schemas/Error").validate(response.json())


def header_value(text: str) -> Any:
    """Headers are text; the document types these as numbers. Garbage stays a string (and fails)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@pytest.fixture(scope="module")
def contract() -> Contract:
    text = resources.files("aircall_ext.api").joinpath("openapi.yaml").read_text("utf-8")
    return Contract(yaml.safe_load(text))


# -- the sandbox in each situation a status needs ---------------------------------------


@dataclass(frozen=True)
class Situation:
    """How to make the sandbox answer a given class of status for any request."""

    name: str
    rate_limit: RateLimit = PLENTY
    faults: str | None = None
    auth: tuple[str, str] | None = CREDENTIALS
    warm_up: bool = False  # spend the (tiny) rate-limit budget first


SITUATIONS = {
    "ok": Situation("ok"),
    "unauthenticated": Situation("unauthenticated", auth=None),
    "wrong-token": Situation("wrong-token", auth=("id", "nope")),
    "rate-limited": Situation("rate-limited", rate_limit=RateLimit(1, 60), warm_up=True),
    "gateway-429": Situation("gateway-429", faults="429:1"),
    "500": Situation("500", faults="500:1"),
    "503": Situation("503", faults="503:1"),
}


def sandbox_client(situation: Situation) -> httpx.Client:
    injector = (
        FaultInjector(FaultPlan.parse(situation.faults), seed=7) if situation.faults else None
    )
    app = SandboxApp(
        demo_account(),
        credentials=CREDENTIALS,
        rate_limit=situation.rate_limit,
        faults=injector,
        clock=lambda: NOW,
        sleep=lambda _s: None,
    )
    client = httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=SANDBOX_URL,
        auth=situation.auth,
    )
    if situation.warm_up:
        client.get("/v1/company")
    return client


@pytest.fixture
def sandbox() -> Iterator[Callable[[str], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(situation: str) -> httpx.Client:
        clients.append(sandbox_client(SITUATIONS[situation]))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


# (template, method, url, body, normal status): every operation once, as a client meets it.
OPERATIONS: list[tuple[str, str, str, object, int]] = [
    ("/v1/company", "GET", "/v1/company", None, 200),
    ("/v1/ping", "GET", "/v1/ping", None, 200),
    ("/v2/users", "GET", "/v2/users?per_page=5&page=2", None, 200),
    ("/v2/users/{id}", "GET", f"/v2/users/{USER}", None, 200),
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", {"extension": "150"}, 200),
    ("/v2/users/{id}/numbers", "GET", f"/v2/users/{OTHER_USER}/numbers", None, 200),
    ("/v1/numbers", "GET", "/v1/numbers", None, 200),
    ("/v1/numbers/{id}", "GET", f"/v1/numbers/{NUMBER}", None, 200),  # nests full users
    ("/v1/teams", "GET", "/v1/teams", None, 200),
    ("/v1/teams/{id}", "GET", f"/v1/teams/{TEAM}", None, 200),
    ("/v1/users", "GET", "/v1/users", None, 410),  # retired
    ("/v1/users/{id}", "GET", f"/v1/users/{USER}", None, 410),
    ("/v1/users/{id}", "PUT", f"/v1/users/{USER}", {"extension": "150"}, 410),
]
# Every other documented status, and the variants of each refusal (each 400/404/422 reason).
SPECIFIC: list[tuple[str, str, str, object, int]] = [
    ("/v2/users", "GET", "/v2/users", None, 200),
    ("/v2/users", "GET", "/v2/users?per_page=50&page=1", None, 200),
    ("/v2/users", "GET", "/v2/users?page=5&per_page=50", None, 200),  # empty page past the end
    ("/v2/users", "GET", "/v2/users?per_page=500", None, 200),  # clamped to 50
    ("/v2/users", "GET", "/v2/users?per_page=51", None, 200),
    ("/v2/users", "GET", "/v2/users?per_page=0", None, 200),  # not a positive integer: absent
    ("/v2/users", "GET", "/v2/users?page=0", None, 200),
    ("/v2/users", "GET", "/v2/users?per_page=abc", None, 200),
    ("/v2/users", "GET", "/v2/users?page=200&per_page=50", None, 200),  # the last page allowed
    ("/v2/users", "GET", "/v2/users?page=9999&per_page=50", None, 400),  # beyond the cap
    ("/v2/users", "GET", "/v2/users?page=201&per_page=50", None, 400),  # beyond the 10,000 cap
    ("/v2/users", "GET", "/v2/users?page=10001&per_page=1", None, 400),
    ("/v1/numbers", "GET", "/v1/numbers?page=2&per_page=1", None, 200),
    ("/v1/numbers", "GET", "/v1/numbers?per_page=-1", None, 200),
    ("/v1/numbers", "GET", "/v1/numbers?per_page=51", None, 200),
    ("/v1/numbers", "GET", "/v1/numbers?page=201&per_page=50", None, 400),
    ("/v2/users/{id}/numbers", "GET", f"/v2/users/{EMAIL}/numbers", None, 200),
    ("/v2/users/{id}/numbers", "GET", "/v2/users/481007/numbers", None, 200),  # in none
    ("/v2/users/{id}/numbers", "GET", f"/v2/users/{USER}/numbers?page=201&per_page=50", None, 400),
    ("/v2/users/{id}/numbers", "GET", "/v2/users/1/numbers", None, 404),
    ("/v1/teams", "GET", "/v1/teams?per_page=1&page=3", None, 200),
    ("/v1/teams", "GET", "/v1/teams?page=201&per_page=50", None, 400),
    ("/v1/teams/{id}", "GET", "/v1/teams/1", None, 404),
    ("/v2/users/{id}", "GET", f"/v2/users/{EMAIL}", None, 200),
    ("/v2/users/{id}", "GET", "/v2/users/AMELIA.hart@example.com", None, 200),
    ("/v2/users/{id}", "GET", "/v2/users/nobody@example.com", None, 404),
    ("/v2/users/{id}", "GET", "/v2/users/481011", None, 200),  # leading-zero extension "007"
    ("/v2/users/{id}", "GET", "/v2/users/481010", None, 200),  # legacy damage "42" is still text
    ("/v2/users/{id}", "GET", "/v2/users/481007", None, 200),  # no extension: the key is absent
    ("/v2/users/{id}", "GET", "/v2/users/481009", None, 200),  # custom status with a substatus
    ("/v2/users/{id}", "GET", "/v2/users/1", None, 404),
    ("/v2/users/{id}", "GET", "/v2/users/not-a-number", None, 404),
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", {"extension": "102"}, 200),  # same: no-op
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", {"extension": "150", "name": "x"}, 200),
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", {"name": "x"}, 200),  # other fields only
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", {}, 200),
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", {"extension": "101"}, 422),  # taken
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", {"extension": 101}, 422),  # a number
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", {"extension": "7"}, 422),
    (
        "/v2/users/{id}",
        "PUT",
        f"/v2/users/{USER}",
        {"extension": "\u0661\u0660\u0661"},
        422,
    ),  # Arabic-Indic digits
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", {"extension": None}, 422),
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", ["150"], 400),
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", b"{not json", 400),
    ("/v2/users/{id}", "PUT", f"/v2/users/{USER}", b"x" * (64 * 1024 + 1), 400),
    ("/v2/users/{id}", "PUT", "/v2/users/1", {"extension": "150"}, 404),
    ("/v1/numbers/{id}", "GET", "/v1/numbers/1", None, 404),
]
GENERIC = {  # situation → status it produces for any operation
    "unauthenticated": 401,
    "wrong-token": 403,
    "rate-limited": 429,
    "gateway-429": 429,
    "500": 500,
    "503": 503,
}
# Nothing documented may go unexercised.
NOT_PRODUCED: set[tuple[str, str, str]] = set()


def send(
    client: httpx.Client,
    method: str,
    url: str,
    body: object,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    if isinstance(body, bytes):
        return client.request(method, url, content=body, params=params)
    return client.request(method, url, json=body, params=params)


def status_key(contract: Contract, path: str, method: str, status: int) -> str:
    documented = contract.statuses(path, method)
    return str(status) if str(status) in documented else f"{str(status)[0]}XX"


@pytest.mark.parametrize(
    ("path", "method", "url", "body", "status"),
    [*OPERATIONS, *SPECIFIC],
)
def test_normal_answers_conform(
    contract: Contract,
    sandbox: Callable[[str], httpx.Client],
    path: str,
    method: str,
    url: str,
    body: object,
    status: int,
) -> None:
    response = send(sandbox("ok"), method, url, body)
    assert response.status_code == status, response.text
    contract.check(path, method, response)


@pytest.mark.parametrize("situation", sorted(GENERIC))
@pytest.mark.parametrize(("path", "method", "url", "body"), [o[:4] for o in OPERATIONS])
def test_error_answers_conform_for_every_operation(
    contract: Contract,
    sandbox: Callable[[str], httpx.Client],
    situation: str,
    path: str,
    method: str,
    url: str,
    body: object,
) -> None:
    response = send(sandbox(situation), method, url, body)
    assert response.status_code == GENERIC[situation], response.text
    contract.check(path, method, response)
    if response.status_code == 429:
        assert int(response.headers["Retry-After"]) >= 1


def test_reset_in_milliseconds_still_conforms(contract: Contract) -> None:
    app = SandboxApp(
        demo_account(), credentials=CREDENTIALS, rate_limit=RateLimit(1, 60), reset_unit="ms"
    )
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://s", auth=CREDENTIALS
    ) as client:
        client.get("/v1/company")
        response = client.get("/v1/company")  # over the budget: the headers are sent
    assert response.status_code == 429
    contract.check("/v1/company", "GET", response)
    assert float(response.headers["X-AircallApi-Reset"]) > 1e11


def test_every_documented_response_is_exercised(contract: Contract) -> None:
    """The cases above (each asserts its status) cover every documented (operation, status)."""
    documented = {
        (path, method, status)
        for path, method in contract.operations()
        for status in contract.statuses(path, method)
    }
    cases = [(p, m, status) for p, m, _u, _b, status in [*OPERATIONS, *SPECIFIC]]
    cases += [(p, m, status) for p, m, *_ in OPERATIONS for status in GENERIC.values()]
    exercised = {(p, m, status_key(contract, p, m, status)) for p, m, status in cases}
    assert documented - NOT_PRODUCED - exercised == set()
    assert exercised <= documented


def test_every_operation_is_listed(contract: Contract) -> None:
    assert contract.operations() == {(p, m) for p, m, *_ in OPERATIONS}


def test_outside_the_operations_errors_keep_the_error_shape(
    contract: Contract, sandbox: Callable[[str], httpx.Client]
) -> None:
    client = sandbox("ok")
    for method, url, status in [
        ("GET", "/nowhere", 404),
        ("GET", "/users", 404),  # no version: not an API path
        ("GET", "/v2/numbers", 404),  # numbers stay on v1
        ("DELETE", f"/v2/users/{USER}", 405),
        ("POST", "/v2/users", 405),
        ("PUT", "/v1/company", 405),
        ("POST", "/v1/ping", 405),
    ]:
        response = client.request(method, url)
        assert response.status_code == status
        contract.check_error_document(response)


# -- the document itself ------------------------------------------------------------------


def test_every_component_schema_is_valid_json_schema(contract: Contract) -> None:
    schemas = contract.doc["components"]["schemas"]
    for name in schemas:
        jsonschema.Draft202012Validator.check_schema(schemas[name])
    for name in contract.doc["components"]["headers"]:
        jsonschema.Draft202012Validator.check_schema(
            contract.doc["components"]["headers"][name]["schema"]
        )


def test_every_ref_resolves(contract: Contract) -> None:
    def refs(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = list(refs(contract.doc))
    assert len(found) > 50
    for ref in found:
        contract.resolver.lookup(ref)  # raises Unresolvable on a dangling pointer


# -- the checker can fail -----------------------------------------------------------------


def test_the_checker_catches_drift_in_a_body(
    contract: Contract, sandbox: Callable[[str], httpx.Client]
) -> None:
    envelope = sandbox("ok").get(f"/v2/users/{USER}").json()
    validator = contract.validator("/components/schemas/UserEnvelope")
    validator.validate(envelope)
    for field, value in [("extension", 102), ("availability_status", "away"), ("id", "481002")]:
        broken = {"user": {**envelope["user"], field: value}}
        with pytest.raises(jsonschema.ValidationError) as caught:
            validator.validate(broken)
        assert list(caught.value.absolute_path) == ["user", field]
    missing = {"user": {k: v for k, v in envelope["user"].items() if k != "created_at"}}
    with pytest.raises(jsonschema.ValidationError, match="'created_at' is a required property"):
        validator.validate(missing)
    # extension and substatus may be absent, as on the live API.
    absent = {"user": {k: v for k, v in envelope["user"].items() if k != "extension"}}
    validator.validate(absent)


def test_the_checker_holds_the_live_key_rules(
    contract: Contract, sandbox: Callable[[str], httpx.Client]
) -> None:
    """A listed number with a routing flag or users, a team member with an extension, a
    meta without links, a reworded out-of-bound refusal: each fails the document."""
    client = sandbox("ok")
    numbers = client.get("/v1/numbers").json()
    page = contract.validator("/components/schemas/NumbersPage")
    page.validate(numbers)
    for extra in ({"flow_editor_enabled": True}, {"users": []}):
        with pytest.raises(jsonschema.ValidationError):
            page.validate({**numbers, "numbers": [{**numbers["numbers"][0], **extra}]})
    teams = client.get("/v1/teams").json()
    team_page = contract.validator("/components/schemas/TeamsPage")
    team_page.validate(teams)
    member = {**teams["teams"][0]["users"][0], "extension": "201"}
    with pytest.raises(jsonschema.ValidationError):
        team_page.validate({**teams, "teams": [{**teams["teams"][0], "users": [member]}]})
    short_meta = {"count": 1, "total": 1, "current_page": 1}
    with pytest.raises(jsonschema.ValidationError, match="per_page"):
        team_page.validate({**teams, "meta": short_meta})
    refusal = client.get("/v2/users", params={"page": 201, "per_page": 50}).json()
    out_of_bound = contract.validator("/components/schemas/OutOfBound")
    out_of_bound.validate(refusal)
    with pytest.raises(jsonschema.ValidationError):
        out_of_bound.validate({**refusal, "errors": "Bad Request"})


def test_the_checker_catches_an_undocumented_status_header_or_error(contract: Contract) -> None:
    good_headers = {
        "X-AircallApi-Limit": "60",
        "X-AircallApi-Remaining": "59",
        "X-AircallApi-Reset": str(int(NOW)),
        "Content-Type": "application/json",
    }
    error = {"error": "Not Found", "troubleshoot": "No user."}
    one = "/v2/users/{id}"
    contract.check(one, "GET", httpx.Response(404, json=error, headers=good_headers))
    with pytest.raises(AssertionError, match="HTTP 418 is not documented"):
        contract.check(one, "GET", httpx.Response(418, json=error, headers=good_headers))
    with pytest.raises(AssertionError, match="HTTP 422 is not documented"):
        contract.check(one, "GET", httpx.Response(422, json=error, headers=good_headers))
    no_reset = {k: v for k, v in good_headers.items() if k != "X-AircallApi-Reset"}
    contract.check(one, "GET", httpx.Response(404, json=error, headers=no_reset))  # as live
    with pytest.raises(AssertionError, match="no X-AircallApi-Reset header"):
        contract.check(one, "GET", httpx.Response(429, json=error, headers=no_reset))
    garbled = {**good_headers, "X-AircallApi-Remaining": "lots"}
    with pytest.raises(jsonschema.ValidationError):
        contract.check("/v2/users/{id}", "GET", httpx.Response(404, json=error, headers=garbled))
    with pytest.raises(jsonschema.ValidationError):
        contract.check("/v2/users/{id}", "GET", httpx.Response(404, json={}, headers=good_headers))
    gateway = {"message": "upstream timed out"}
    contract.check("/v1/company", "GET", httpx.Response(504, json=gateway, headers=good_headers))


# -- the client speaks the same contract ---------------------------------------------------


def test_the_clients_requests_match_the_documented_parameters_and_body(
    contract: Contract,
) -> None:
    sent: list[httpx.Request] = []
    app = SandboxApp(demo_account(), credentials=CREDENTIALS, rate_limit=RateLimit(1000, 60))

    class Recording(httpx.WSGITransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return super().handle_request(request)

    client = ApiClient(
        "http://127.0.0.1:1/v1", *CREDENTIALS, transport=Recording(app=app), sleep=lambda _s: None
    )
    client.list_users()
    client.list_numbers()
    client.set_extension(USER, "150")
    client.close()
    page_pointer, _page = contract.lookup("/components/parameters/Page")
    per_page_pointer, _per_page = contract.lookup("/components/parameters/PerPage")
    listings = [r for r in sent if r.method == "GET"]
    assert listings
    for request in listings:
        contract.validator(f"{page_pointer}/schema").validate(int(request.url.params["page"]))
        per_page = int(request.url.params["per_page"])
        contract.validator(f"{per_page_pointer}/schema").validate(per_page)
        assert per_page == 50  # every listing asks for pages of 50
    (put,) = [r for r in sent if r.method == "PUT"]
    body_pointer = f"/paths/{escape('/v2/users/{id}')}/put/requestBody/content/"
    body_pointer += f"{escape('application/json')}/schema"
    contract.validator(body_pointer).validate(json.loads(put.content))


# -- any request at all -------------------------------------------------------------------

_VERSIONS = st.sampled_from(["v1", "v2", "v2", "v3", "x"])
_IDS = [str(USER), str(OTHER_USER), str(NUMBER), str(TEAM), EMAIL, "1", "0"]
_SEGMENTS = st.sampled_from(["users", "numbers", "teams", "company", "ping", *_IDS, "x", ""])
_QUERY = st.dictionaries(
    st.sampled_from(["page", "per_page", "q"]),
    st.one_of(st.integers(-5, 300).map(str), st.text(max_size=4)),
    max_size=2,
)
_BODY = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"extension": st.from_regex(r"\A[0-9]{1,4}\Z")}),
    st.fixed_dictionaries(
        {"extension": st.one_of(st.integers(), st.none(), st.booleans(), st.text(max_size=4))}
    ),
    st.binary(max_size=20),
)


@settings(max_examples=PROPERTY_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]),
    version=_VERSIONS,
    segments=st.lists(_SEGMENTS, min_size=1, max_size=3),
    query=_QUERY,
    body=_BODY,
    situation=st.sampled_from(["ok", "ok", "ok", "wrong-token", "rate-limited", "503"]),
)
def test_any_request_gets_a_documented_answer(
    contract: Contract,
    method: str,
    version: str,
    segments: list[str],
    query: dict[str, str],
    body: object,
    situation: str,
) -> None:
    path = "/" + "/".join([version, *segments])
    client = sandbox_client(SITUATIONS[situation])
    try:
        # Absolute: httpx would read a relative "//x/y" as a URL with host "x".
        response = send(client, method, f"{SANDBOX_URL}{path}", body, params=query)
    finally:
        client.close()
    template = contract.template(path)
    if template is not None and (template, method) in contract.operations():
        contract.check(template, method, response)
    else:
        assert response.status_code >= 400
        contract.check_error_document(response)
