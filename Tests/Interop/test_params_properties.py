"""hypothesis + hypothesis-jsonschema over every method's params schema in Schemas/:
schema-valid params never get -32602 or -32603; invalid ones always get -32602."""
import copy
import json
import os

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis_jsonschema import from_schema

from conftest import SCHEMAS, NDJSONClient

import hypothesis_jsonschema._from_schema as _from_schema


# hypothesis-jsonschema canonicalises and merges the same sub-schemas again on every draw of an
# object (tens of times per example); remembering them by their JSON text makes generation about
# ten times cheaper and draws the same examples (strategies depend only on the schema).
def _key(schema):
    return json.dumps(schema, sort_keys=True, default=repr)


def _remember_strategies(function):
    cache = {}

    def remembered(schema, **options):
        key = (_key(schema), id(options.get("alphabet")), id(options.get("custom_formats")))
        if key not in cache:
            cache[key] = function(schema, **options)
        return cache[key]

    return remembered


def _remember_schemas(function):
    cache = {}

    def remembered(schema, *args, **options):
        if args or options:
            return function(schema, *args, **options)
        key = _key(schema)
        if key not in cache:
            cache[key] = function(schema)
        return copy.deepcopy(cache[key])

    return remembered


setattr(_from_schema, "__from_schema", _remember_strategies(getattr(_from_schema, "__from_schema")))
_from_schema.merged_as_strategies = _remember_strategies(_from_schema.merged_as_strategies)
_from_schema.canonicalish = _remember_schemas(_from_schema.canonicalish)
_from_schema.merged = _remember_schemas(_from_schema.merged)

ENTITIES = json.loads((SCHEMAS / "entities.json").read_text())
METHODS = sorted(p.name[: -len(".params.json")] for p in (SCHEMAS / "methods").glob("*.params.json"))


def inline(node, defs):
    """Replaces every $ref with its target so hypothesis-jsonschema sees one self-contained schema."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].split("/")[-1]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            target = inline(defs[name], defs)
            return {**target, **inline(rest, defs)} if rest else target
        return {k: inline(v, defs) for k, v in node.items() if k not in ("$schema", "$id", "examples", "title", "description")}
    if isinstance(node, list):
        return [inline(v, defs) for v in node]
    return node


def params_schema(method):
    return inline(json.loads((SCHEMAS / "methods" / f"{method}.params.json").read_text()), ENTITIES["$defs"])


# Shrinking a failure of a server round trip can take minutes; the falsifying example is printed unshrunk.
NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]

VALIDATORS = {m: jsonschema.Draft202012Validator(params_schema(m), format_checker=jsonschema.FormatChecker()) for m in METHODS}


@pytest.fixture(scope="module")
def server():
    c = NDJSONClient()
    c.request("partner.create", {"actor": {"id": "ops", "kind": "operator"}, "name": "P"})
    yield c
    assert c.close() == 0


@pytest.mark.parametrize("method", METHODS)
def test_valid_params_are_never_refused_as_params(server, method):
    schema = params_schema(method)

    @settings(max_examples=int(os.environ.get("PARAMS_EXAMPLES", "12")), deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), phases=NO_SHRINK)
    @given(from_schema(schema))
    def check(params):
        if not VALIDATORS[method].is_valid(params):
            return  # a generator corner the reference validator disagrees with
        reply = server.request(method, params)
        error = reply.get("error")
        if opaque_cursor_refused(method, params, error):
            return
        assert error is None or error["code"] not in (-32602, -32603), (params, error)

    check()


def opaque_cursor_refused(method, params, error):
    """billing.statement's cursor is opaque: only a nextCursor the server gave continues a statement,
    so a made-up one (which a schema cannot tell apart) is -32602 by design, with a message naming it."""
    return (
        method == "billing.statement"
        and "cursor" in params
        and error is not None
        and error["code"] == -32602
        and error["message"].startswith("cursor ")
    )


def mutations(params, schema):
    """Invalid variants of valid params: an unknown member, a missing required member, a wrong type."""
    yield {**params, "unknownParam": 1}
    for name in schema.get("required", []):
        yield {k: v for k, v in params.items() if k != name}
    for name, value in params.items():
        wrong = 12345 if isinstance(value, (str, dict, list, bool)) or value is None else "not-a-number"
        yield {**params, name: wrong}


@pytest.mark.parametrize("method", METHODS)
def test_invalid_params_always_get_32602(server, method):
    schema = params_schema(method)

    @settings(max_examples=int(os.environ.get("INVALID_PARAMS_EXAMPLES", "6")), deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), phases=NO_SHRINK)
    @given(from_schema(schema))
    def check(params):
        for bad in mutations(params, schema):
            if VALIDATORS[method].is_valid(bad):
                continue
            reply = server.request(method, bad)
            assert reply.get("error", {}).get("code") == -32602, (bad, reply)

    check()
