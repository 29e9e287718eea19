"""The OpenAPI document is generated from the route table: complete, consistent, resolvable."""

from __future__ import annotations

import json
from typing import Any

from tradekit.api import ApiClient, ServerThread
from tradekit.api.endpoints import ROUTES
from tradekit.api.openapi import openapi_document


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_route_is_documented_once_with_its_errors() -> None:
    doc = openapi_document(ROUTES)
    assert doc["openapi"] == "3.1.0"
    ops = [(m.upper(), p) for p, item in doc["paths"].items() for m in item]
    assert sorted(ops) == sorted((r.method, r.path) for r in ROUTES)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    kill = doc["paths"]["/api/auto-trade/kill-switch"]["post"]["responses"]
    assert "429" not in kill and {"401", "403", "413", "422"} <= set(kill)
    status = doc["paths"]["/api/auto-trade/status"]["get"]["responses"]
    assert "Retry-After" in status["429"]["headers"]
    assert doc["paths"]["/api/health"]["get"]["security"] == []


def test_every_reference_resolves_inside_the_document() -> None:
    doc = openapi_document(ROUTES)
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref
    assert "AlgorithmConfig" in schemas and "BacktestRequest" in schemas
    json.dumps(doc)  # plain JSON


def test_the_server_serves_the_same_document(served: ServerThread) -> None:
    served_doc = ApiClient(served.url).get("/api/openapi.json")
    assert served_doc == json.loads(
        json.dumps(openapi_document(ROUTES, version=served_doc["info"]["version"]))
    )
