"""The OpenAPI 3.1 document of the REST API, generated from the route table.

Nothing here is written by hand per endpoint: paths, parameters, request bodies (the JSON
schemas of the pydantic body models, their ``$defs`` hoisted into ``components``), success and
error answers all come from :data:`tradekit.api.endpoints.ROUTES`, the table the server serves.

Examples
--------
>>> from tradekit.api.endpoints import ROUTES
>>> doc = openapi_document(ROUTES)
>>> doc["openapi"], "/api/auto-trade/kill-switch" in doc["paths"]
('3.1.0', True)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import pydantic

from tradekit.api.rest import Param, Route

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"


def _param_schema(p: Param) -> dict[str, Any]:
    if p.type == "integer":
        s: dict[str, Any] = {"type": "integer"}
    elif p.type == "number":
        s = {"type": "number"}
    elif p.type == "boolean":
        s = {"type": "boolean"}
    elif p.type == "time":
        s = {
            "type": "string",
            "description": "ISO-8601 (naive = UTC) or int nanoseconds",
            "pattern": r"^(-?[0-9]{1,19}|[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)$",
        }
    elif p.type == "csv":
        s = {
            "type": "string",
            "pattern": r"^[A-Za-z0-9_.\-]+(,[A-Za-z0-9_.\-]+)*$",
            "maxLength": 256,
        }
    else:
        s = {"type": "string", "minLength": 1, "maxLength": 256}
    if p.minimum is not None:
        s["minimum"] = p.minimum
    if p.maximum is not None:
        s["maximum"] = p.maximum
    if p.enum is not None:
        s["enum"] = list(p.enum)
    if p.default is not None:
        s["default"] = p.default
    return s


def _parameter(p: Param) -> dict[str, Any]:
    return {
        "name": p.name,
        "in": p.location,
        "required": p.required or p.location == "path",
        "description": p.description,
        "schema": _param_schema(p),
    }


@lru_cache(maxsize=32)
def _model_schema(model: type[pydantic.BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A body model's schema and the ``$defs`` it refers to (as component schemas)."""
    schema = model.model_json_schema(ref_template=_REF)
    defs = schema.pop("$defs", {})
    return schema, defs


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(route: Route, components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": [_parameter(p) for p in route.params],
        "responses": {str(route.status): _answer(HTTPStatus(route.status).phrase, route.response)},
    }
    if route.access == "public":
        op["security"] = []
    if route.body is not None:
        schema, defs = _model_schema(route.body)
        components.update(copy.deepcopy(defs))
        name = route.body.__name__
        components[name] = copy.deepcopy(schema)
        op["requestBody"] = {
            "required": not route.body_optional,
            "content": {"application/json": {"schema": {"$ref": _REF.format(model=name)}}},
        }
    err = {"$ref": "#/components/schemas/Error"}
    for code in route.error_statuses():
        op["responses"][str(code)] = _answer(HTTPStatus(code).phrase, err)
    if route.limited and route.access != "public":
        op["responses"]["429"]["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}
        }
    return op


def openapi_document(routes: Sequence[Route], *, version: str = "0.1.0") -> dict[str, Any]:
    """The OpenAPI 3.1 document describing ``routes``.

    Parameters
    ----------
    routes:
        The route table (:data:`tradekit.api.endpoints.ROUTES`).
    version:
        The API version shown in ``info``.
    """
    from tradekit.api.endpoints import COMPONENTS

    components: dict[str, Any] = copy.deepcopy(COMPONENTS)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tradekit auto-trader API",
            "version": version,
            "description": (
                "Control and observe the paper auto-trader. Bearer tokens: the operator token "
                "may do everything, the read-only token only GET. Errors are "
                '{"error": code, "detail": text}. Events stream on the WebSocket /ws/events.'
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
