"""The OpenAPI 3.1 description of /api/v1, generated from the application itself so it cannot drift.

Each API view says what it takes and answers with `@documented(...)`, right above its code; the shapes of
the objects it answers with are registered with `schema(...)` next to the function that serialises them.
`describe(app)` walks the url_map: every /api/v1 rule becomes an operation, its path parameters come from
the rule's converters, its security from whether it is public, and the problem+json errors it can answer
from what it takes (a path parameter can be unknown, a body or a query can be invalid). A rule without
`@documented` is listed by `undocumented(app)`, and a test fails on it.

Hand-written rather than a library (apispec, flask-openapi3, spectree): those want request and response
models in their own terms (marshmallow, pydantic) and the views here validate with skills.validation, which
already writes translated messages per field; the walk over url_map is the part that keeps the description
true, and it is short.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from flask import Flask
from werkzeug.routing import Rule

from common.api import API_PREFIX

API_VERSION = "1.0.0"
JSON = "application/json"
PROBLEM = "application/problem+json"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})

# components/schemas, filled at import time by the serializer modules through schema().
SCHEMAS: dict[str, dict[str, Any]] = {}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def schema(name: str, definition: dict[str, Any]) -> dict[str, str]:
    """Register a named JSON Schema (2020-12, as OpenAPI 3.1 uses) and return a reference to it."""
    SCHEMAS[name] = definition
    return ref(name)


def obj(properties: dict[str, Any], *, required: tuple[str, ...] | None = None, extra: bool = False) -> dict:
    """An object schema; every property is required unless told otherwise (answers always carry them all)."""
    return {"type": "object", "properties": properties,
            "required": list(properties if required is None else required), "additionalProperties": extra}


def nullable(definition: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [definition, {"type": "null"}]}


def array(items: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **kw}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
TITLES = obj({"fr": STRING, "ar": STRING, "en": STRING})
# A track's titles also have an optional one in Tamazight (Tifinagh), printed on its certificates.
TRACK_TITLES = obj({"fr": STRING, "ar": STRING, "en": STRING, "zgh": nullable(STRING)})
TRACK_TITLES_IN = obj(TRACK_TITLES["properties"], required=("fr", "ar", "en"))


def enum(values) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    """The envelope every list answers with (see common.api.paginated)."""
    return obj({"items": array(item), "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1}, "total": {"type": "integer", "minimum": 0},
                "pages": {"type": "integer", "minimum": 0}})


@dataclass(frozen=True)
class Param:
    """A query (or form) parameter."""

    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False
    lookup: bool = False  # names a row by its code: an unknown one answers 404

    def describe(self, where: str = "query") -> dict[str, Any]:
        param = {"name": self.name, "in": where, "required": self.required, "schema": self.schema}
        if self.description:
            param["description"] = self.description
        return param


Q = Param("q", {"type": "string", "maxLength": 200}, "Case-insensitive search in codes, names and titles.")
PAGE = (Param("page", {"type": "integer", "minimum": 1, "maximum": 10**6, "default": 1}),
        Param("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 25},
              "At most 200 (API_MAX_PER_PAGE)."))
UPDATED_SINCE = Param("updated_since", {"type": "string", "format": "date-time"},
                      "Only what changed at or after this time (ISO 8601; without an offset, Morocco's time).")


@dataclass(frozen=True)
class Body:
    """A request body: a JSON object by default, or a multipart form (imports)."""

    schema: dict[str, Any]
    media_type: str = JSON
    required: bool = True

    def describe(self) -> dict[str, Any]:
        return {"required": self.required, "content": {self.media_type: {"schema": self.schema}}}


@dataclass(frozen=True)
class Answer:
    """A response other than a JSON object: a file, a JWS, nothing (204), or several media types."""

    description: str
    content: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"description": self.description}
        if self.content:
            answer["content"] = {media: {"schema": s} for media, s in self.content.items()}
        return answer


NO_CONTENT = Answer("Done; nothing to return.")
BINARY = {"type": "string", "format": "binary"}

ERROR_DESCRIPTIONS = {
    400: "Bad request: a parameter could not be read.",
    401: "No token, or a token that is missing, expired or revoked.",
    403: "The token's account may not do this.",
    404: "Not found, or not visible to this account.",
    409: "Conflicts with what exists.",
    413: "The upload is too large.",
    422: "Invalid input: `errors` maps each field at fault to its messages. Nothing was written.",
    429: "Too many requests; see Retry-After.",
}


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    responses: dict[int, Any] | Callable[[dict], dict[int, Any]]
    description: str = ""
    query: tuple[Param, ...] = ()
    body: Body | None = None
    errors: tuple[int, ...] = ()
    public: bool = False
    paginated: bool = False

    def describe(self, rule: Rule, method: str, roles: tuple[str, ...] | None = None) -> dict[str, Any]:
        defaults = dict(rule.defaults or {})
        path_params = [_path_param(name, converter) for name, converter in rule._converters.items()]
        query = (*self.query, *(PAGE if self.paginated else ()))
        responses = self.responses(defaults) if callable(self.responses) else self.responses
        operation: dict[str, Any] = {
            "operationId": _operation_id(rule, method),
            "summary": self.summary.format(**defaults),
            "tags": [self.tag],
            "parameters": [*path_params, *(p.describe() for p in query)],
            "responses": {str(status): _answer(status, answer) for status, answer in sorted(responses.items())},
        }
        if self.description:
            operation["description"] = self.description.format(**defaults)
        if roles is not None:
            operation["x-roles"] = list(roles) or ["any signed-in account"]
        if self.body is not None:
            operation["requestBody"] = self.body.describe()
        if self.public:
            operation["security"] = []
        for status in sorted(self._error_statuses(path_params, query)):
            operation["responses"].setdefault(str(status), {"$ref": f"#/components/responses/Problem{status}"})
        return operation

    def _error_statuses(self, path_params: list, query: tuple) -> set[int]:
        statuses = set(self.errors)
        if not self.public:
            statuses |= {401, 403}
        if path_params or any(p.lookup for p in query):
            statuses.add(404)
        if query or self.body is not None:
            statuses.add(422)
        return statuses


def documented(summary: str, *, tag: str, responses: dict[int, Any] | Callable[[dict], dict[int, Any]],
               **kw: Any) -> Callable:
    """Attach an operation's description to a view function. `responses` maps statuses to a JSON Schema of
    the JSON answered, or an Answer; it may be a function of the rule's defaults for a view serving several
    rules (exports), whose summary may name them as {kind}. Errors 401/403 (unless public), 404 (a path
    parameter), 422 (a body or query) are added; name others in `errors`."""
    operation = Operation(summary=summary, tag=tag, responses=responses, **kw)

    def attach(view: Callable) -> Callable:
        view.openapi = operation
        return view
    return attach


def _answer(status: int, answer: Any) -> dict[str, Any]:
    if isinstance(answer, Answer):
        return answer.describe()
    return {"description": "OK" if status < 300 else ERROR_DESCRIPTIONS.get(status, ""),
            "content": {JSON: {"schema": answer}}}


def _operation_id(rule: Rule, method: str) -> str:
    """The endpoint, made unique for views that serve several rules (their defaults tell them apart)."""
    parts = [rule.endpoint.replace(".", "_"), *(str(v) for _, v in sorted((rule.defaults or {}).items()))]
    return "_".join(parts) if method in ("GET",) else "_".join([*parts, method.lower()])


def _path_param(name: str, converter) -> dict[str, Any]:
    from werkzeug.routing import IntegerConverter

    if isinstance(converter, IntegerConverter):
        definition: dict[str, Any] = {"type": "integer", "minimum": 0}
        if converter.max is not None:
            definition["maximum"] = converter.max
    else:
        definition = {"type": "string", "pattern": "^[^/]+$"}
    return {"name": name, "in": "path", "required": True, "schema": definition}


def _api_rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith(API_PREFIX + "/")), key=lambda r: r.rule)


def _openapi_path(rule: Rule) -> str:
    path = rule.rule
    for name in rule.arguments - set(rule.defaults or {}):
        for converter in ("", "int:", "string:", "path:"):
            path = path.replace(f"<{converter}{name}>", f"{{{name}}}")
    return path


def undocumented(app: Flask) -> list[str]:
    """The /api/v1 routes no @documented describes: each is a gap in the description."""
    return [f"{' '.join(sorted(rule.methods - IGNORED_METHODS))} {rule.rule}" for rule in _api_rules(app)
            if getattr(app.view_functions[rule.endpoint], "openapi", None) is None]


def describe(app: Flask) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document. Routes without a description are left out (see undocumented)."""
    paths: dict[str, dict[str, Any]] = {}
    tags: list[str] = []
    for rule in _api_rules(app):
        operation: Operation | None = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if operation is None:
            continue
        if operation.tag not in tags:
            tags.append(operation.tag)
        for method in sorted(rule.methods - IGNORED_METHODS):
            roles = getattr(app.view_functions[rule.endpoint], "required_roles", None)
            paths.setdefault(_openapi_path(rule), {})[method.lower()] = operation.describe(rule, method, roles)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kafaa API", "version": API_VERSION,
                 "description": ("The registry of the Kafaa training programme: modules, tracks, trainees, "
                                 "cohorts, sessions, attendance, results, certificates and governance figures. "
                                 "Get a token with POST /api/v1/tokens and send it as `Authorization: Bearer "
                                 "TOKEN`. Errors are application/problem+json, in the language of "
                                 "Accept-Language (fr, ar, en); nothing is written on any error.")},
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in tags],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token from POST /api/v1/tokens."}},
            "schemas": {"Problem": PROBLEM_SCHEMA, **dict(sorted(SCHEMAS.items()))},
            "responses": {f"Problem{status}": {"description": text,
                                               "content": {PROBLEM: {"schema": ref("Problem")}}}
                          for status, text in ERROR_DESCRIPTIONS.items()},
        },
    }


SAMPLE_STRINGS = {"date": "2026-11-26", "date-time": "2026-11-26T09:00:00+01:00", "uri": "https://kafaa.ma/v/…",
                  "binary": "(file)"}


def example(definition: dict[str, Any], schemas: dict[str, dict[str, Any]], depth: int = 0) -> Any:
    """A plausible value of a schema for the documentation page: a schema's own `examples` first, else the
    first choice of every alternative."""
    if depth > 8:
        return None
    if "$ref" in definition:
        return example(schemas[definition["$ref"].rsplit("/", 1)[1]], schemas, depth + 1)
    for key in ("examples", "enum"):
        if definition.get(key):
            return definition[key][0]
    if "const" in definition:
        return definition["const"]
    if "anyOf" in definition:
        return example(definition["anyOf"][0], schemas, depth + 1)
    kind = definition.get("type")
    if kind == "object":
        properties = definition.get("properties", {})
        if not properties and isinstance(definition.get("additionalProperties"), dict):
            return {"total": example(definition["additionalProperties"], schemas, depth + 1)}
        return {name: example(sub, schemas, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        return [example(definition.get("items", {}), schemas, depth + 1)]
    if kind == "integer":
        return definition.get("default", max(definition.get("minimum", 1), 1))
    if kind == "number":
        return 6.0
    if kind == "boolean":
        return True
    if kind == "string":
        return SAMPLE_STRINGS.get(definition.get("format"), definition.get("default", "…"))
    return None


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem document (see common.errors.problem).",
    "properties": {"type": STRING, "status": INTEGER, "title": STRING, "detail": STRING,
                   "errors": {"type": "object", "additionalProperties": array(STRING)}},
    "required": ["type", "status", "title"],
}
