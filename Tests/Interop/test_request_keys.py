"""requestKey over stdio (a retry is answered with the first reply): kept in the store, so a retry after the server was killed
replays the first reply byte for byte; memory of kept keys is bounded by their replies and
freed after the retention."""
import json
import os
import signal
import subprocess
import tempfile

from conftest import ADDRESS, BINARY, OPERATOR, server_command

import pytest


def serve_store(directory, *extra):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `swift build` first")
    return subprocess.Popen(
        [str(BINARY), "serve", "--store", directory, "--clock", "2026-11-18T11:06:40Z", "--log-level", "error",
         *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def exchange(process, message):
    """Sends one request and returns the reply line's bytes."""
    process.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
    process.stdin.flush()
    line = process.stdout.readline()
    assert line, f"server closed stdout; stderr: {process.stderr.read().decode()}"
    return line


def kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    for stream in (process.stdin, process.stdout, process.stderr):
        stream.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


CALLS = [
    ("partner.create", {"actor": OPERATOR, "name": "Acme", "requestKey": "p"}),
    ("tenant.create", {"actor": OPERATOR, "partnerId": "P1", "name": "Muster AG",
                       "contact": {"email": "it@muster.ch"}, "address": ADDRESS, "requestKey": "t"}),
    ("tenant.import", {"actor": OPERATOR, "partnerId": "P1", "requestKey": "i1",
                       "tenants": [{"name": "CRM AG", "address": ADDRESS, "externalId": "crm-1"}]}),
    # Unchanged: records no event, only its key.
    ("tenant.import", {"actor": OPERATOR, "partnerId": "P1", "requestKey": "i2",
                       "tenants": [{"name": "CRM AG", "address": ADDRESS, "externalId": "crm-1"}]}),
]


def test_a_retry_after_sigkill_replays_the_first_reply_byte_for_byte():
    with tempfile.TemporaryDirectory() as directory:
        server = serve_store(directory)
        first = [exchange(server, {"jsonrpc": "2.0", "id": i, "method": m, "params": p})
                 for i, (m, p) in enumerate(CALLS)]
        assert all(b'"result"' in reply for reply in first), first
        kill(server)  # acknowledged means durable, key included

        server = serve_store(directory)
        again = [exchange(server, {"jsonrpc": "2.0", "id": i, "method": m, "params": p})
                 for i, (m, p) in enumerate(CALLS)]
        assert again == first
        listed = json.loads(exchange(server, {"jsonrpc": "2.0", "id": 99, "method": "tenant.list",
                                               "params": {"actor": OPERATOR}}))
        assert len(listed["result"]["tenants"]) == 2, "nothing was applied twice"
        reused = json.loads(exchange(server, {"jsonrpc": "2.0", "id": 100, "method": "tenant.import", "params": {
            "actor": OPERATOR, "partnerId": "P1", "requestKey": "i2",
            "tenants": [{"name": "Other AG", "address": ADDRESS}]}}))
        assert reused["error"]["code"] == 1006
        kill(server)


def test_request_key_hours_below_24_is_refused():
    result = subprocess.run([str(BINARY), "serve", "--in-memory", "--request-key-hours", "1"],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    assert result.returncode != 0
    assert b"at least 24 hours" in result.stderr
    assert result.stdout == b""


IMPORTED = 300
KEYED_IMPORTS = 100


@pytest.mark.parametrize("backend", ["in-memory", "file"])
def test_memory_of_unchanged_imports_with_keys_is_one_reply(backend, tmp_path):
    """Prints the figures: RSS before, after 100 keyed unchanged imports (equal results are held
    once), after eviction."""
    if backend == "file":
        process = serve_store(str(tmp_path))
    else:
        process = subprocess.Popen(server_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
    entries = [{"name": f"CRM {i}", "address": ADDRESS, "externalId": f"crm-{i}"} for i in range(IMPORTED)]
    exchange(process, {"jsonrpc": "2.0", "id": 0, "method": "partner.create",
                       "params": {"actor": OPERATOR, "name": "Acme"}})
    reply = exchange(process, {"jsonrpc": "2.0", "id": 1, "method": "tenant.import",
                               "params": {"actor": OPERATOR, "partnerId": "P1", "tenants": entries}})
    # Warm up allocator pools with the same work, unkeyed.
    for i in range(3):
        exchange(process, {"jsonrpc": "2.0", "id": 2, "method": "tenant.import",
                           "params": {"actor": OPERATOR, "partnerId": "P1", "tenants": entries}})
    before = rss_kib(process.pid)
    for i in range(KEYED_IMPORTS):
        exchange(process, {"jsonrpc": "2.0", "id": 3, "method": "tenant.import",
                           "params": {"actor": OPERATOR, "partnerId": "P1", "tenants": entries,
                                      "requestKey": f"sync-{i}"}})
    after = rss_kib(process.pid)
    exchange(process, {"jsonrpc": "2.0", "id": 4, "method": "clock.set",
                       "params": {"actor": OPERATOR, "now": "2026-11-19T11:06:41Z"}})
    exchange(process, {"jsonrpc": "2.0", "id": 5, "method": "partner.create",
                       "params": {"actor": OPERATOR, "name": "Later"}})
    evicted = rss_kib(process.pid)
    # After eviction the same keys are new again: applied, not refused as reused.
    again = json.loads(exchange(process, {"jsonrpc": "2.0", "id": 6, "method": "tenant.import", "params": {
        "actor": OPERATOR, "partnerId": "P1", "tenants": entries[:1], "requestKey": "sync-0"}}))
    assert "result" in again, again
    process.stdin.close()
    assert process.wait(timeout=60) == 0
    process.stdout.close()
    process.stderr.close()
    replies = KEYED_IMPORTS * len(reply) / 1024
    print(f"\n{backend}: reply {len(reply) / 1024:.0f} KiB; RSS before {before / 1024:.1f} MiB, "
          f"after {KEYED_IMPORTS} keyed unchanged imports of {IMPORTED} tenants {after / 1024:.1f} MiB "
          f"(+{(after - before) / 1024:.1f} MiB; replies {replies / 1024:.1f} MiB), "
          f"after eviction {evicted / 1024:.1f} MiB")
    # Equal results are held once: far less than the replies' size (12 MiB); allow for allocator slack.
    assert after - before < replies / 3
