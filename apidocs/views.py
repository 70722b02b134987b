"""The API's description: the OpenAPI document at /api/v1/openapi.json and a page a person reads at /api/docs.

Both are public (they say what the API takes, never what the registry holds) and built once per application
from the routes themselves (common.openapi)."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, render_template

from accounts.bearer import api_blueprint
from common import openapi
from common.openapi import Answer, documented

api_bp = api_blueprint("openapi_api", __name__)
bp = Blueprint("apidocs", __name__)


def api_description() -> dict[str, Any]:
    """The document, made on first use: by then every blueprint has added its routes."""
    if "openapi" not in current_app.extensions:
        current_app.extensions["openapi"] = openapi.describe(current_app)
    return current_app.extensions["openapi"]


@api_bp.get("/openapi.json")
@documented("This description (OpenAPI 3.1)", tag="Documentation", public=True,
            responses={200: Answer("The OpenAPI 3.1 document.", {"application/json": {"type": "object"}})})
def description():
    return api_description(), 200, {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}


@bp.get("/api/docs")
def docs():
    document = api_description()
    by_tag: dict[str, list[dict[str, Any]]] = {tag["name"]: [] for tag in document["tags"]}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            by_tag[operation["tags"][0]].append({"method": method.upper(), "path": path, **operation})
    schemas = document["components"]["schemas"]
    return render_template("apidocs/docs.html", document=document, by_tag=by_tag, pretty=_pretty,
                           example=lambda schema: _pretty(openapi.example(schema, schemas)))


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
