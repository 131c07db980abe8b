"""A real Content-Length client (python-lsp-jsonrpc) talking to the server."""
import subprocess
import threading

from pylsp_jsonrpc.streams import JsonRpcStreamReader, JsonRpcStreamWriter

from conftest import ADDRESS, OPERATOR, sales, server_command


def test_content_length_session():
    process = subprocess.Popen(server_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writer = JsonRpcStreamWriter(process.stdin)
    reader = JsonRpcStreamReader(process.stdout)
    replies = []
    done = threading.Event()

    def consume(message):
        replies.append(message)
        if len(replies) == 4:
            done.set()

    thread = threading.Thread(target=reader.listen, args=(consume,), daemon=True)
    thread.start()
    writer.write({"jsonrpc": "2.0", "id": 1, "method": "partner.create", "params": {"actor": OPERATOR, "name": "LSP AG"}})
    writer.write({"jsonrpc": "2.0", "method": "partner.create", "params": {"actor": OPERATOR, "name": "notified"}})
    writer.write(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tenant.create",
            "params": {"actor": sales(), "name": "Über AG", "contact": {"email": "a@b.ch"}, "address": ADDRESS},
        }
    )
    writer.write([{"jsonrpc": "2.0", "id": 3, "method": "partner.list", "params": {"actor": OPERATOR}}, {"jsonrpc": "2.0", "id": 4, "method": "nope"}])
    writer.write({"jsonrpc": "2.0", "id": 5, "method": "tenant.list", "params": {"actor": sales()}})
    assert done.wait(timeout=60), f"got {replies}"
    process.stdin.close()
    assert process.wait(timeout=30) == 0
    by_id = {}
    for reply in replies:
        for r in reply if isinstance(reply, list) else [reply]:
            by_id[r["id"]] = r
    assert by_id[1]["result"]["partner"]["name"] == "LSP AG"
    assert by_id[2]["result"]["tenant"]["name"] == "Über AG"
    assert [p["name"] for p in by_id[3]["result"]["partners"]] == ["LSP AG", "notified"]
    assert by_id[4]["error"]["code"] == -32601
    assert by_id[5]["result"]["tenants"][0]["name"] == "Über AG"
