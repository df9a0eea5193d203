"""``/api/v1/openapi.json`` and the readable reference page at ``/api/``. Thin: both render
the dict `apiref.openapi.build_document` makes, so they cannot disagree."""
from __future__ import annotations

import json

from flask import Blueprint, jsonify, render_template, request

from apiref.openapi import build_document

bp = Blueprint("apiref", __name__)

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@bp.get("/api/v1/openapi.json")
def openapi_json():
    """The OpenAPI document; public, like any API's description of itself."""
    return jsonify(build_document(server_url=request.host_url.rstrip("/")))


@bp.get("/api/")
def reference():
    """Endpoints grouped by tag, with parameters, bodies and examples."""
    document = build_document(server_url=request.host_url.rstrip("/"))
    groups: dict[str, list[dict]] = {tag["name"]: [] for tag in document["tags"]}
    for path, operations in document["paths"].items():
        for method in METHOD_ORDER:
            if method in operations:
                op = operations[method]
                groups.setdefault(op["tags"][0], []).append({
                    "method": method.upper(), "path": path, "op": op,
                    "body": _example(op.get("requestBody")),
                    "answer": _example(next((r for code, r in sorted(op["responses"].items())
                                             if code.startswith("2")), None)),
                })
    return render_template("apiref/reference.html", document=document, groups=groups)


def _example(part: dict | None) -> str | None:
    """The JSON example of a body or response, pretty-printed, if it has one."""
    for media in ((part or {}).get("content") or {}).values():
        if "example" in media:
            return json.dumps(media["example"], ensure_ascii=False, indent=2)
    return None
