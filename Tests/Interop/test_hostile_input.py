"""Hostile input over stdio: each input gets its documented error, the server keeps answering,
and the store is unchanged."""
import json
import subprocess

import pytest

from conftest import ADDRESS, OPERATOR, SCHEMAS, sales, server_command

LIMITS = ["--max-message-bytes", "4096", "--max-batch-size", "1000", "--max-depth", "64"]


class Server:
    def __init__(self, framing="ndjson"):
        self.framing = framing
        self.process = subprocess.Popen(
            server_command("--framing", framing, *LIMITS), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )

    def send_raw(self, data: bytes):
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def frame(self, body: bytes) -> bytes:
        return body + b"\n" if self.framing == "ndjson" else b"Content-Length: %d\r\n\r\n" % len(body) + body

    def read(self):
        if self.framing == "ndjson":
            line = self.process.stdout.readline()
            assert line, "server closed stdout"
            return json.loads(line)
        header = b""
        while not header.endswith(b"\r\n\r\n"):
            c = self.process.stdout.read(1)
            assert c, "server closed stdout"
            header += c
        length = int(header.split(b":")[1].strip())
        return json.loads(self.process.stdout.read(length))

    def call(self, method, params, id=1):
        self.send_raw(self.frame(json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).encode()))
        return self.read()

    def state(self):
        """What the operator sees: partners and tenants (the store)."""
        partners = self.call("partner.list", {"actor": OPERATOR}, id="probe-p")["result"]
        tenants = self.call("tenant.list", {"actor": sales()}, id="probe-t")["result"]
        return partners, tenants

    def close(self):
        self.process.stdin.close()
        assert self.process.wait(timeout=30) == 0


@pytest.fixture
def server():
    s = Server()
    s.call("partner.create", {"actor": OPERATOR, "name": "P"})
    s.call("tenant.create", {"actor": sales(), "name": "T", "contact": {"email": "a@b.ch"}, "address": ADDRESS})
    yield s
    s.close()


def write(name):
    return json.dumps({"jsonrpc": "2.0", "id": 9, "method": "partner.create", "params": {"actor": OPERATOR, "name": name}}).encode()


NDJSON_CASES = {
    "invalid UTF-8": (write("x")[:-3] + b'\xc3\x28"}}', -32700),
    "byte-order mark": (b"\xef\xbb\xbf" + write("bom"), -32700),
    "NUL byte outside strings": (write("nul").replace(b'"id"', b'\x00"id"'), -32700),
    "line over the size limit": (write("x" * 5000), -32001),
    "batch of 10,000": (b"[" + b",".join([write("b")] * 10000) + b"]", -32001),
    "nesting past the limit": (b'{"jsonrpc":"2.0","id":1,"method":"partner.create","params":' + b"[" * 100 + b"]" * 100 + b"}", -32001),
    "duplicate keys": (b'{"jsonrpc":"2.0","id":1,"id":2,"method":"partner.list","params":{"actor":{"id":"o","kind":"operator"}}}', -32700),
    "not JSON at all": (b"\x00\x01\x02garbage", -32700),
}


@pytest.mark.parametrize("name", NDJSON_CASES)
def test_hostile_ndjson(server, name):
    data, code = NDJSON_CASES[name]
    before = server.state()
    server.send_raw(data + b"\n")
    reply = server.read()
    assert reply["error"]["code"] == code, reply
    assert reply["id"] is None
    assert server.state() == before, "the store is unchanged"


def test_a_number_beyond_the_engine_is_refused_with_the_request_id(server):
    # Valid JSON, so no parse error: the reply carries the request's id, and the client stays in sync.
    before = server.state()
    server.send_raw(
        b'{"jsonrpc":"2.0","id":1,"method":"partner.create","params":{"actor":{"id":"o","kind":"operator"},"name":"N","x":100000000000000000000}}\n'
        b'{"jsonrpc":"2.0","method":"partner.create","params":{"actor":{"id":"o","kind":"operator"},"name":"N","x":-1e400}}\n'
        b'{"jsonrpc":"2.0","id":2,"method":"tenant.list","params":{"actor":{"id":"o","kind":"operator"},"limit":1e999}}\n'
    )
    first, second = server.read(), server.read()
    assert first["id"] == 1 and first["error"]["code"] == -32602, first
    assert first["error"]["data"]["errors"][0]["path"] == "/x", first
    assert second["id"] == 2 and second["error"]["data"]["errors"][0]["keyword"] == "range", second
    assert server.state() == before, "the store is unchanged"


CONTENT_LENGTH_CASES = {
    "negative": b"Content-Length: -5\r\n\r\n",
    "garbage": b"Content-Length: twelve\r\n\r\n",
    "missing": b"Content-Type: application/json\r\n\r\n",
    "beyond any integer": b"Content-Length: 99999999999999999999999999\r\n\r\n",
}


@pytest.mark.parametrize("name", CONTENT_LENGTH_CASES)
def test_hostile_content_length(name):
    s = Server("lsp")
    s.call("partner.create", {"actor": OPERATOR, "name": "P"})
    before = s.state()
    s.send_raw(CONTENT_LENGTH_CASES[name])
    reply = s.read()
    assert reply["error"]["code"] == -32700 and reply["id"] is None
    assert s.state() == before
    s.close()


def test_huge_content_length_is_skipped_in_sync():
    s = Server("lsp")
    before = s.state()
    body = write("y" * 20000)
    s.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert s.read()["error"]["code"] == -32001
    assert s.state() == before, "the oversized write was skipped, the next frames are read in sync"
    s.close()


ENTITIES = json.loads((SCHEMAS / "entities.json").read_text())
METHODS = sorted(p.name[: -len(".params.json")] for p in (SCHEMAS / "methods").glob("*.params.json"))


def wrong_value(schema):
    """A value no param allows: an object with an unknown member is the wrong type for scalars and
    arrays, and breaks additionalProperties for object params."""
    return {"wrong": [1]}


@pytest.mark.parametrize("method", METHODS)
def test_wrong_types_and_missing_fields_for_every_param(server, method):
    schema = json.loads((SCHEMAS / "methods" / f"{method}.params.json").read_text())
    example = schema["examples"][0]
    before = server.state()
    for name, prop in schema["properties"].items():
        bad = {**example, name: wrong_value(prop)}
        reply = server.call(method, bad)
        assert reply.get("error", {}).get("code") == -32602, (name, reply)
        assert reply["error"]["data"]["errors"], reply
    for name in schema.get("required", []):
        reply = server.call(method, {k: v for k, v in example.items() if k != name})
        assert reply.get("error", {}).get("code") == -32602, (name, reply)
    assert server.state() == before
