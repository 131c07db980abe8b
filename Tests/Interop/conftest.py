"""Shared helpers for the interop tests: they drive the built `tenant-services serve` over stdio."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# TENANT_SERVICES_BINARY runs the tests against another build (e.g. .build/release/tenant-services).
BINARY = pathlib.Path(os.environ.get("TENANT_SERVICES_BINARY") or ROOT / ".build" / "debug" / "tenant-services")
SCHEMAS = ROOT / "Schemas"


def server_command(*extra):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `swift build` first")
    return [str(BINARY), "serve", "--in-memory", "--clock", "2026-11-18T11:06:40Z", "--log-level", "error", *extra]


class NDJSONClient:
    """A newline-delimited JSON client over a subprocess's stdin/stdout."""

    def __init__(self, *extra):
        self.process = subprocess.Popen(
            server_command(*extra), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.next_id = 0

    def request(self, method, params=None):
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"server closed stdout; stderr: {self.process.stderr.read().decode()}"
        reply = json.loads(line)
        assert reply["id"] == self.next_id
        return reply

    def raw(self, data: bytes):
        """Sends raw bytes and reads one reply line."""
        self.process.stdin.write(data)
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        code = self.process.wait(timeout=30)
        self.process.stdout.close()
        self.process.stderr.close()
        return code


@pytest.fixture
def client():
    c = NDJSONClient()
    yield c
    assert c.close() == 0


OPERATOR = {"id": "ops", "kind": "operator"}


def sales(partner="P1", roles=("Sales",), expert=False):
    return {"id": "u-anna", "kind": "partnerAdmin", "partnerId": partner, "roles": list(roles), "expertMode": expert}


ADDRESS = {"street": "Bahnhofstrasse 1", "postalCode": "8001", "city": "Zürich", "country": "CH"}
