#!/usr/bin/env python3
"""A small TenantServices client in Python: start the server, order for a customer, read the month's statement.

    python3 Tests/Interop/examples/client.py [path/to/tenant-services] [--store DIR]

Only the standard library is needed. The server speaks JSON-RPC 2.0, one JSON message per line.
"""
import itertools
import json
import subprocess
import sys


class TenantServicesError(Exception):
    """A JSON-RPC error: `code`, the human message, and `data` (with `reason`)."""

    def __init__(self, error):
        super().__init__(f"{error['code']} {error['message']}")
        self.code, self.data = error["code"], error.get("data", {})


class Client:
    def __init__(self, binary="tenant-services", *arguments):
        self.process = subprocess.Popen(
            [binary, "serve", *arguments], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
        )
        self.ids = itertools.count(1)

    def call(self, method, **params):
        request = {"jsonrpc": "2.0", "id": next(self.ids), "method": method, "params": params}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        if "error" in reply:
            raise TenantServicesError(reply["error"])
        return reply["result"]

    def close(self):
        self.process.stdin.close()
        return self.process.wait()


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "tenant-services"
    store = sys.argv[sys.argv.index("--store") + 1] if "--store" in sys.argv else None
    client = Client(
        binary, *(["--store", store] if store else ["--in-memory"]), "--clock", "2026-11-02T08:00:00Z", "--log-level", "warning"
    )
    operator = {"id": "ops", "kind": "operator"}
    partner = client.call("partner.create", actor=operator, name="Muster IT")["partner"]
    sales = {"id": "u-anna", "kind": "partnerAdmin", "partnerId": partner["id"], "roles": ["ALL"]}
    tenant = client.call(
        "tenant.create",
        actor=sales,
        name="Muster AG",
        contact={"email": "it@muster.ch"},
        address={"street": "Bahnhofstrasse 1", "postalCode": "8001", "city": "Zürich", "country": "CH"},
    )["tenant"]
    domain = client.call("domain.add", actor=sales, tenantId=tenant["id"], name="muster.ch", mode="inline")["domain"]
    client.call("domain.confirm", actor=sales, domainId=domain["id"])
    tasks = client.call("domain.deploy", actor=sales, domainId=domain["id"])["tasks"]
    for task in tasks:
        print(f"set {task['record']['type']} {task['record']['name']} -> {task['record']['value']}")
        client.call("task.complete", actor=sales, taskId=task["id"])
    client.call(
        "users.import",
        actor=sales,
        domainId=domain["id"],
        users=[{"address": "anna@muster.ch", "protection": "none"}, {"address": "ben@muster.ch", "protection": "none"}],
    )
    try:
        client.call("domain.add", actor=sales, tenantId=tenant["id"], name="gmail.com", mode="inline")
    except TenantServicesError as refusal:
        print(f"refused: {refusal.data['reason']}: {refusal}")
    statement = client.call("billing.statement", actor=sales, month="2026-11")
    for line in statement["lines"]:
        print(f"{line['domain']:12} {line['service']:14} {line['quantity']:3} x {line['unitPrice'] / 100:.2f} = {line['total'] / 100:.2f} {line['currency']}")
    for total in statement["totals"]:
        print(f"total {total['currency']} {total['total'] / 100:.2f}")
    return client.close()


if __name__ == "__main__":
    sys.exit(main())
