"""An NDJSON client over subprocess: a Sales person's ordering session, errors, EOF behaviour."""
import json
import subprocess

from conftest import ADDRESS, OPERATOR, NDJSONClient, sales, server_command


def test_ordering_session(client):
    assert client.request("partner.create", {"actor": OPERATOR, "name": "Muster IT"})["result"]["partner"]["id"] == "P1"
    tenant = client.request(
        "tenant.create",
        {"actor": sales(), "name": "Muster AG", "contact": {"email": "it@muster.ch"}, "address": ADDRESS},
    )["result"]["tenant"]
    assert tenant["region"] == "CH" and tenant["currency"] == "CHF" and tenant["contact"]["phone"] is None
    domain = client.request(
        "domain.add",
        {"actor": sales(), "tenantId": tenant["id"], "name": "Muster.CH", "mode": "inline", "services": ["SC-F-OUTBOUND"]},
    )["result"]["domain"]
    assert domain["name"] == "muster.ch"
    assert [s["code"] for s in domain["services"]] == ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND"]
    assert "domain.confirm" in domain["actions"]
    listed = client.request("tenant.list", {"actor": sales()})["result"]
    assert listed["nextCursor"] is None
    assert listed["tenants"][0]["managedDomains"] == 1 and listed["tenants"][0]["totalServices"] == 3


def test_errors_are_specific(client):
    client.request("partner.create", {"actor": OPERATOR, "name": "P"})
    reply = client.request("tenant.get", {"actor": sales(), "tenantId": "T404"})
    assert reply["error"]["code"] == 1000 and reply["error"]["data"]["reason"] == "not-found"
    reply = client.request("tenant.list", {"actor": sales(), "limit": 0})
    assert reply["error"]["code"] == -32602
    assert reply["error"]["data"]["errors"][0] == {"path": "/limit", "keyword": "minimum", "message": "must be at least 1"}
    assert client.request("no.such.method", {})["error"]["code"] == -32601
    assert client.raw(b'{"jsonrpc":"2.0","id":1,"method":\n')["error"]["code"] == -32700


def test_notifications_get_no_reply_and_eof_exits_zero():
    requests = [
        {"jsonrpc": "2.0", "method": "partner.create", "params": {"actor": OPERATOR, "name": "Quiet"}},
        {"jsonrpc": "2.0", "id": "last", "method": "partner.list", "params": {"actor": OPERATOR}},
    ]
    done = subprocess.run(
        server_command(), input="".join(json.dumps(r) + "\n" for r in requests).encode(), capture_output=True, timeout=60
    )
    assert done.returncode == 0
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1, "only the request gets a reply"
    reply = json.loads(lines[0])
    assert reply["id"] == "last" and reply["result"]["partners"][0]["name"] == "Quiet"


def test_pipelined_requests_all_answered_before_exit():
    body = "".join(
        json.dumps({"jsonrpc": "2.0", "id": i, "method": "catalog.get", "params": {"actor": OPERATOR}}) + "\n"
        for i in range(200)
    )
    done = subprocess.run(server_command(), input=body.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0
    ids = sorted(json.loads(line)["id"] for line in done.stdout.decode().splitlines())
    assert ids == list(range(200))


def test_clock_methods_only_with_a_fixed_clock():
    c = NDJSONClient()
    assert c.request("clock.get", {"actor": OPERATOR})["result"]["now"] == "2026-11-18T11:06:40Z"
    c.close()
    plain = subprocess.Popen(
        [server_command()[0], "serve", "--in-memory", "--log-level", "error"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    out, _ = plain.communicate(b'{"jsonrpc":"2.0","id":1,"method":"clock.get","params":{"actor":{"id":"o","kind":"operator"}}}\n', timeout=60)
    assert json.loads(out)["error"]["code"] == -32601
