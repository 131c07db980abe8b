"""Unusual clients over stdio (issue 14, items 4-10 and 17): the server stays in sync, answers
everything, keeps stdout for protocol messages, and its memory stays bounded.

Every test is bounded in time (timeouts on every wait); memory is the server's peak RSS
(VmHWM in /proc/PID/status). Set TENANT_SERVICES_BINARY to run them against another build.
"""
import fcntl
import json
import os
import pathlib
import select
import subprocess
import time

import pytest

import conftest
from conftest import OPERATOR

BINARY = pathlib.Path(os.environ.get("TENANT_SERVICES_BINARY", str(conftest.BINARY)))


def command(*extra, log_level="error"):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `swift build` first")
    return [str(BINARY), "serve", "--in-memory", "--log-level", log_level, *extra]


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def set_nonblocking(fd):
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


class Reader:
    """Reads frames from a descriptor with a deadline for each."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""

    def _more(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
            raise AssertionError("no reply in time")
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def line(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            self._more(deadline)
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def lsp(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buffer:
            self._more(deadline)
        header, rest = self.buffer.split(b"\r\n\r\n", 1)
        length = int(header.split(b":")[1])
        self.buffer = rest
        while len(self.buffer) < length:
            self._more(deadline)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return json.loads(body)

    def rest(self, timeout=30):
        """Everything until EOF."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._more(deadline)
        except EOFError:
            pass
        data, self.buffer = self.buffer, b""
        return data


def start(*extra, log_level="error", **popen):
    popen.setdefault("stdin", subprocess.PIPE)
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(command(*extra, log_level=log_level), **popen)


def finish(process, timeout=30):
    if process.stdin:
        process.stdin.close()
    code = process.wait(timeout=timeout)
    if process.stdout:
        process.stdout.close()
    return code


def lsp_frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def unknown_method(id):
    return json.dumps({"jsonrpc": "2.0", "id": id, "method": "no.such.method"}).encode()


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Type application/json\r\nContent-Length: %d",  # bad line, usable length
        b"Content-Length: twelve",  # no usable length: resynchronize
        b"Content-Length %d",
    ],
)
def test_a_malformed_lsp_header_is_answered_and_the_next_frame_is_read(header):
    process = start("--framing", "lsp")
    reader = Reader(process.stdout.fileno())
    body = unknown_method(1)
    bad = (header % len(body) if b"%d" in header else header) + b"\r\n\r\n" + body
    process.stdin.write(bad + lsp_frame(unknown_method(2)) + lsp_frame(unknown_method(3)))
    process.stdin.flush()
    first = reader.lsp()
    assert first["error"]["code"] == -32700 and first["id"] is None, first
    assert reader.lsp()["id"] == 2
    assert reader.lsp()["id"] == 3
    assert finish(process) == 0


def test_a_long_ndjson_line_costs_linear_time():
    """A 2 MiB line sent in 4 KiB pieces: rescanning the pending line on each read costs the
    old reader seconds of CPU; one scan costs milliseconds."""
    process = start("--framing", "ndjson")
    reader = Reader(process.stdout.fileno())
    process.stdin.write(unknown_method(0) + b"\n")
    process.stdin.flush()
    reader.line(timeout=30)
    before = cpu_seconds(process.pid)
    line = b'{"jsonrpc":"2.0","id":1,"method":"no.such.method","params":{"x":"' + b"a" * (2 << 20) + b'"}}\n'
    deadline = time.monotonic() + 60
    for offset in range(0, len(line), 4096):
        process.stdin.write(line[offset : offset + 4096])
        process.stdin.flush()
        if offset % (64 << 10) == 0:
            time.sleep(0.001)  # let the server read the pieces one by one
        assert time.monotonic() < deadline, "the server stopped reading"
    assert reader.line(timeout=60)["id"] == 1
    spent = cpu_seconds(process.pid) - before
    assert spent < 1.5, f"{spent:.2f} s of CPU for one 2 MiB line"
    assert finish(process) == 0


def test_a_batch_over_the_limit_is_refused_before_it_is_parsed():
    """4 MiB of `{}` elements (1.4 million): parsing them takes hundreds of MB; counting them
    on the bytes takes none."""
    process = start("--framing", "ndjson", "--max-message-bytes", str(8 << 20))
    reader = Reader(process.stdout.fileno())
    process.stdin.write(unknown_method(0) + b"\n")
    process.stdin.flush()
    reader.line()
    baseline = status_kib(process.pid, "VmHWM")
    count = (4 << 20) // 3
    process.stdin.write(b"[" + b",".join([b"{}"] * count) + b"]\n")
    process.stdin.flush()
    reply = reader.line(timeout=60)
    assert reply["error"]["code"] == -32001, reply
    assert reply["error"]["data"]["limit"] == "maxBatchSize"
    growth = status_kib(process.pid, "VmHWM") - baseline
    assert growth < 64 << 10, f"peak RSS grew by {growth} KiB"
    assert finish(process) == 0


def test_schema_errors_of_one_request_are_capped_at_one_hundred():
    process = start("--framing", "ndjson")
    reader = Reader(process.stdout.fileno())
    params = {"actor": OPERATOR, "partnerId": "P1", "tenants": [{}] * 10_000}
    process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tenant.import", "params": params}).encode() + b"\n")
    process.stdin.flush()
    reply = reader.line(timeout=30)
    error = reply["error"]
    assert error["code"] == -32602
    assert len(error["data"]["errors"]) == 100
    assert error["data"]["total"] == 20_000
    assert len(json.dumps(reply)) < 30_000
    assert finish(process) == 0


def test_a_client_that_never_reads_keeps_the_server_bounded():
    """Batches of 100 requests sent for four seconds, never read. The old server queued 2,048
    frames whatever their size (a debug build grew by 60-100 MB in these four seconds, a release
    build by gigabytes in thirty); now the requests in flight are bounded by count and the bytes
    in flight by 32 MiB, so the growth stays below that bound plus 8 MiB of slack (a debug build
    grows by about 11 MB). Then every reply still arrives."""
    process = start("--framing", "ndjson")
    out = process.stdout.fileno()
    inp = process.stdin.fileno()
    set_nonblocking(inp)
    batch = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "no.such.method"} for i in range(100)]).encode() + b"\n"
    time.sleep(0.3)
    baseline = status_kib(process.pid, "VmHWM")
    sent = 0
    deadline = time.monotonic() + 4
    try:
        while time.monotonic() < deadline:
            try:
                sent += os.write(inp, batch[sent % len(batch) :])
            except BlockingIOError:
                time.sleep(0.01)
            rss = status_kib(process.pid, "VmRSS")
            assert rss - baseline < 1 << 20, f"RSS grew by {rss - baseline} KiB"
        peak = status_kib(process.pid, "VmHWM") - baseline
        assert peak < 40 << 10, f"peak RSS grew by {peak} KiB after {sent // len(batch)} batches"
    except AssertionError:
        process.kill()
        process.wait(timeout=10)
        raise
    # Finish the batch in progress, then read everything.
    reader = Reader(out)
    set_nonblocking(out)
    while sent % len(batch):
        try:
            sent += os.write(inp, batch[sent % len(batch) :])
        except BlockingIOError:
            try:
                reader.buffer += os.read(out, 1 << 20)
            except BlockingIOError:
                time.sleep(0.01)
    process.stdin.close()
    data = reader.rest(timeout=60)
    replies = data.split(b"\n")[:-1]
    assert len(replies) == sent // len(batch)
    assert process.wait(timeout=30) == 0
    process.stdout.close()


def test_a_non_blocking_stdout_is_waited_for():
    read_end, write_end = os.pipe()
    set_nonblocking(write_end)
    process = start("--framing", "ndjson", stdout=write_end)
    os.close(write_end)
    requests = b"".join(unknown_method(i) + b"\n" for i in range(5000))  # about 500 KB of replies
    process.stdin.write(requests)
    process.stdin.close()
    time.sleep(0.5)  # the replies fill the pipe: the server's writes would block
    data = Reader(read_end).rest(timeout=60)
    os.close(read_end)
    assert process.wait(timeout=30) == 0
    ids = [json.loads(line)["id"] for line in data.split(b"\n")[:-1]]
    assert ids == list(range(5000))


def test_with_stderr_closed_stdout_carries_only_protocol_messages():
    process = start("--framing", "ndjson", log_level="info", stderr=None, preexec_fn=lambda: os.close(2))
    process.stdin.write(unknown_method(1) + b"\n")
    process.stdin.close()
    data = Reader(process.stdout.fileno()).rest(timeout=30)
    assert process.wait(timeout=30) == 0
    process.stdout.close()
    lines = data.split(b"\n")[:-1]
    assert [json.loads(line).get("id") for line in lines] == [1], data[:500]


def test_a_last_line_without_newline_is_answered():
    process = start("--framing", "auto")
    process.stdin.write(unknown_method(1) + b"\n" + unknown_method(2))
    process.stdin.close()
    data = Reader(process.stdout.fileno()).rest(timeout=30)
    assert process.wait(timeout=30) == 0
    process.stdout.close()
    assert [json.loads(line)["id"] for line in data.split(b"\n")[:-1]] == [1, 2]
