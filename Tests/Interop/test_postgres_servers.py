"""Several `tenant-services serve` processes on one real PostgreSQL database: one global
order of writes, no lost update, every acknowledged write seen by later requests on any server.

Run inside `Tests/Postgres/with-cluster.sh`, which starts a private cluster and sets
TENANT_SERVICES_TEST_POSTGRES_URL. Without it these tests are skipped locally and fail under CI.
The SIGKILL rounds use PG_CRASH_SEED (printed on failure) and PG_CRASH_ROUNDS.
"""
import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid

import pytest

from conftest import ADDRESS, BINARY, OPERATOR

URL_VARIABLE = "TENANT_SERVICES_TEST_POSTGRES_URL"
ROUNDS = int(os.environ.get("PG_CRASH_ROUNDS", "6"))
SEED = int(os.environ.get("PG_CRASH_SEED", "2026"))
HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, "..", "Postgres", "with-cluster.sh")


def cluster_url():
    url = os.environ.get(URL_VARIABLE)
    if url:
        return url
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{URL_VARIABLE} is not set: under CI these tests must run inside Tests/Postgres/with-cluster.sh")
    pytest.skip(f"{URL_VARIABLE} is not set (run through Tests/Postgres/with-cluster.sh)")


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True, capture_output=True)


@pytest.fixture
def database():
    url = cluster_url()
    name = "ts_py_" + uuid.uuid4().hex[:16]
    psql(url, f"CREATE DATABASE {name}")
    base, _ = url.rsplit("/", 1)
    yield f"{base}/{name}"
    psql(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def message(id, method, params):
    return (json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params}) + "\n").encode()


def tenant_create(id, name):
    return message(id, "tenant.create", {"actor": OPERATOR, "partnerId": "P1", "name": name, "contact": {"email": "it@x.ch"}, "address": ADDRESS})


class Server:
    def __init__(self, url, *extra):
        if not BINARY.exists():
            pytest.fail(f"{BINARY} is missing: run `swift build` first")
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--store", url, "--log-level", "error", *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lock = threading.Lock()
        self.next = 0

    def call(self, method, params):
        with self.lock:
            self.next += 1
            self.process.stdin.write(message(self.next, method, params))
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        assert line, f"no reply to {method}; stderr: {self.process.stderr.read().decode()}"
        reply = json.loads(line)
        assert reply["id"] == self.next
        return reply

    def pipeline(self, lines):
        """Writes every line at once (from a thread) and reads the replies in order."""
        writer = threading.Thread(target=lambda: (self.process.stdin.write(b"".join(lines)), self.process.stdin.flush()))
        writer.start()
        replies = [json.loads(self.process.stdout.readline()) for _ in lines]
        writer.join()
        return replies

    def stop(self):
        self.process.stdin.close()
        code = self.process.wait(timeout=60)
        stderr = self.process.stderr.read().decode()
        self.process.stdout.close()
        self.process.stderr.close()
        assert code == 0, stderr

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except BrokenPipeError:
                pass


def all_tenants(server):
    tenants, cursor = [], None
    while True:
        params = {"actor": OPERATOR, "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        result = server.call("tenant.list", params)["result"]
        tenants += result["tenants"]
        cursor = result["nextCursor"]
        if cursor is None:
            return tenants


def setup_partner(server):
    assert server.call("partner.create", {"actor": OPERATOR, "name": "Acme"})["result"]["partner"]["id"] == "P1"


def test_a_write_on_one_server_is_seen_by_the_very_next_request_on_another(database):
    a, b = Server(database), Server(database)
    setup_partner(a)
    for i in range(20):
        writer, reader = (a, b) if i % 2 == 0 else (b, a)
        tenant = writer.call("tenant.create", {"actor": OPERATOR, "partnerId": "P1", "name": f"T{i}", "contact": {"email": "it@x.ch"}, "address": ADDRESS})["result"]["tenant"]
        seen = reader.call("tenant.get", {"actor": OPERATOR, "tenantId": tenant["id"]})
        assert seen["result"]["tenant"]["name"] == f"T{i}", seen
    a.stop()
    b.stop()


def test_two_servers_with_300_pipelined_creates_each_keep_every_one_once(database):
    a, b = Server(database), Server(database)
    setup_partner(a)
    results = {}

    def run(server, label):
        results[label] = server.pipeline([tenant_create(i, f"{label}-{i}") for i in range(300)])

    threads = [threading.Thread(target=run, args=(s, label)) for s, label in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = []
    for label in ("A", "B"):
        for reply in results[label]:
            assert "result" in reply, reply
            ids.append(reply["result"]["tenant"]["id"])
    assert len(ids) == 600 and len(set(ids)) == 600, "duplicate tenant IDs"
    c = Server(database)
    tenants = all_tenants(c)
    names = [t["name"] for t in tenants]
    assert len(names) == 600 and len(set(names)) == 600
    assert sorted(t["id"] for t in tenants) == sorted(ids)
    for s in (a, b, c):
        s.stop()


def test_the_same_domain_from_three_servers_at_once_is_booked_once(database):
    servers = [Server(database) for _ in range(3)]
    setup_partner(servers[0])
    tenants = [servers[0].call("tenant.create", {"actor": OPERATOR, "partnerId": "P1", "name": f"T{i}", "contact": {"email": "it@x.ch"}, "address": ADDRESS})["result"]["tenant"]["id"] for i in range(3)]
    for round in range(8):
        name = f"race{round}.ch"
        replies = [None] * 3
        barrier = threading.Barrier(3)

        def add(i):
            barrier.wait()
            replies[i] = servers[i].call("domain.add", {"actor": OPERATOR, "tenantId": tenants[i], "name": name, "mode": "inline"})

        threads = [threading.Thread(target=add, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        won = [r for r in replies if "result" in r]
        lost = [r for r in replies if "error" in r]
        assert len(won) == 1, replies
        assert all(r["error"]["code"] == 1002 for r in lost), replies
    for s in servers:
        s.stop()


def test_expected_version_races_between_servers_let_exactly_one_through(database):
    servers = [Server(database) for _ in range(3)]
    setup_partner(servers[0])
    tenant = servers[0].call("tenant.create", {"actor": OPERATOR, "partnerId": "P1", "name": "T", "contact": {"email": "it@x.ch"}, "address": ADDRESS})["result"]["tenant"]
    version = tenant["version"]
    for round in range(8):
        replies = [None] * 3
        barrier = threading.Barrier(3)

        def update(i):
            barrier.wait()
            replies[i] = servers[i].call("tenant.update", {"actor": OPERATOR, "tenantId": tenant["id"], "expectedVersion": version, "name": f"R{round}-{i}"})

        threads = [threading.Thread(target=update, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        won = [r for r in replies if "result" in r]
        assert len(won) == 1, replies
        for r in replies:
            if "error" in r:
                assert r["error"]["code"] == 1002 and r["error"]["data"]["currentVersion"] == version + 1, r
        version += 1
        for s in servers:
            assert s.call("tenant.get", {"actor": OPERATOR, "tenantId": tenant["id"]})["result"]["tenant"]["version"] == version
    for s in servers:
        s.stop()


def test_a_request_key_sent_to_one_server_then_another_applies_once(database):
    a, b = Server(database), Server(database)
    setup_partner(a)
    params = {"actor": OPERATOR, "partnerId": "P1", "name": "Once", "contact": {"email": "it@x.ch"}, "address": ADDRESS, "requestKey": "k-1"}
    first = a.call("tenant.create", params)["result"]["tenant"]
    second = b.call("tenant.create", params)
    assert second.get("result", {}).get("tenant", {}).get("id") == first["id"], second
    assert [t["name"] for t in all_tenants(b)] == ["Once"]
    a.stop()
    b.stop()


def test_sigkill_of_a_server_during_pipelined_writes_loses_no_acknowledged_write(database):
    rng = random.Random(SEED)
    survivor = Server(database)
    setup_partner(survivor)
    acknowledged = {}
    sent = set()
    for round in range(ROUNDS):
        victim = Server(database)
        names = [f"K{round}-{i}" for i in range(200)]
        sent.update(names)
        lines = [tenant_create(i, n) for i, n in enumerate(names)]
        replies = []

        def read():
            for _ in lines:
                line = victim.process.stdout.readline()
                if not line:
                    return
                replies.append(json.loads(line))

        reader = threading.Thread(target=read)
        reader.start()
        try:
            victim.process.stdin.write(b"".join(lines))
            victim.process.stdin.flush()
        except BrokenPipeError:
            pass
        # Meanwhile the other server writes too.
        survivor.call("tenant.create", {"actor": OPERATOR, "partnerId": "P1", "name": f"S{round}", "contact": {"email": "it@x.ch"}, "address": ADDRESS})
        acknowledged[f"S{round}"] = True
        time.sleep(rng.uniform(0.0, 0.25))
        victim.kill()
        reader.join()
        for reply in replies:
            if "result" in reply:
                acknowledged[reply["result"]["tenant"]["name"]] = True
        tenants = all_tenants(survivor)
        names_now = [t["name"] for t in tenants]
        context = f"(round {round}, PG_CRASH_SEED={SEED})"
        assert len(names_now) == len(set(names_now)), f"a tenant twice {context}"
        missing = [n for n in acknowledged if n not in names_now]
        assert not missing, f"acknowledged but lost: {missing[:5]} {context}"
        assert set(names_now) <= sent | {f"S{r}" for r in range(ROUNDS)}
        # Every record is whole: a new server loads the lot.
        fresh = Server(database)
        assert len(all_tenants(fresh)) == len(names_now)
        fresh.stop()
    survivor.stop()


def test_postgres_stopped_and_started_under_load_fails_cleanly_and_recovers(database):
    if not os.environ.get("TENANT_SERVICES_TEST_POSTGRES_DATA"):
        pytest.fail("TENANT_SERVICES_TEST_POSTGRES_DATA is not set: run inside Tests/Postgres/with-cluster.sh")
    a, b = Server(database), Server(database)
    setup_partner(a)
    outcomes = {}  # name -> True (acknowledged) / error
    stop_flag = threading.Event()

    def load(server, label):
        i = 0
        while not stop_flag.is_set():
            name = f"{label}{i}"
            reply = server.call("tenant.create", {"actor": OPERATOR, "partnerId": "P1", "name": name, "contact": {"email": "it@x.ch"}, "address": ADDRESS})
            outcomes[name] = True if "result" in reply else reply["error"]
            i += 1

    threads = [threading.Thread(target=load, args=(s, label)) for s, label in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    time.sleep(0.5)
    subprocess.run(["bash", CLUSTER, "ctl", "stop"], check=True)
    time.sleep(1.0)
    during = a.call("tenant.get", {"actor": OPERATOR, "tenantId": "T1"})
    subprocess.run(["bash", CLUSTER, "ctl", "start"], check=True)
    # Both servers reconnect by themselves: writes succeed again within a few seconds.
    deadline = time.time() + 15
    recovered = set()
    while time.time() < deadline and len(recovered) < 2:
        for label, server in (("A", a), ("B", b)):
            reply = server.call("tenant.get", {"actor": OPERATOR, "tenantId": "T1"})
            if "result" in reply:
                recovered.add(label)
        time.sleep(0.1)
    time.sleep(0.5)
    stop_flag.set()
    for t in threads:
        t.join()
    assert recovered == {"A", "B"}, "a server did not reconnect"
    assert "error" in during and during["error"]["code"] == -32000, during
    failures = [e for e in outcomes.values() if e is not True]
    assert failures, "no request failed while the database was down"
    for e in failures:
        assert e["code"] == -32000, e
        assert e["message"], e
        assert "password" not in e["message"].lower() or "authentication" in e["message"].lower()
    names = {t["name"] for t in all_tenants(a)}
    acknowledged = {n for n, o in outcomes.items() if o is True}
    assert acknowledged <= names, f"acknowledged but lost: {sorted(acknowledged - names)[:5]}"
    # A write answered storage-failure was not applied (unless its commit's reply was lost: then
    # the server says so and it may be there).
    applied_failed = [n for n, o in outcomes.items() if o is not True and n in names and "confirmed" not in o["message"]]
    assert not applied_failed, applied_failed
    after = a.call("tenant.create", {"actor": OPERATOR, "partnerId": "P1", "name": "After", "contact": {"email": "it@x.ch"}, "address": ADDRESS})
    assert "result" in after, after
    a.stop()
    b.stop()


def test_a_wrong_password_or_unknown_database_exits_with_one_line(database):
    scheme, rest = database.split("://", 1)
    credentials, location = rest.split("@", 1)
    user = credentials.split(":", 1)[0]
    wrong = f"{scheme}://{user}:not-the-password@{location}"
    for url, expected in ((wrong, "password authentication failed"), (database.rsplit("/", 1)[0] + "/no_such_db", "no_such_db")):
        run = subprocess.run([str(BINARY), "serve", "--store", url], input=b"", capture_output=True, timeout=60)
        assert run.returncode != 0
        lines = run.stderr.decode().strip().splitlines()
        assert len(lines) == 1, lines
        assert expected in lines[0], lines
        assert "not-the-password" not in lines[0]
        password = credentials.split(":", 1)[1] if ":" in credentials else None
        if password:
            assert password not in lines[0]


def test_sessions_terminated_under_pipelined_load_lose_no_acknowledged_write_and_apply_no_failed_one(database):
    """pg_terminate_backend on every session of the database, again and again, while two servers
    take pipelined writes: an acknowledged write is there, a write answered storage-failure is not
    (unless the answer says it may be), no tenant is there twice, and both servers then agree
    with a fresh one."""
    rng = random.Random(SEED)
    a, b = Server(database), Server(database)
    setup_partner(a)
    outcomes = {}  # name -> True (acknowledged) / error
    stop_flag = threading.Event()

    def load(server, label):
        batch = 0
        while not stop_flag.is_set():
            names = [f"{label}{batch}-{i}" for i in range(40)]
            replies = server.pipeline([tenant_create(i, n) for i, n in enumerate(names)])
            for name, reply in zip(names, replies):
                outcomes[name] = True if "result" in reply else reply["error"]
            batch += 1

    threads = [threading.Thread(target=load, args=(s, label)) for s, label in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    kill = ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")
    for _ in range(30):
        time.sleep(rng.uniform(0.02, 0.15))
        psql(database, kill)
    time.sleep(0.5)
    stop_flag.set()
    for t in threads:
        t.join()
    # Both servers go on by themselves.
    for server in (a, b):
        deadline = time.time() + 15
        while True:
            reply = server.call("tenant.create", {"actor": OPERATOR, "partnerId": "P1", "name": f"After-{id(server)}", "contact": {"email": "it@x.ch"}, "address": ADDRESS})
            if "result" in reply or time.time() > deadline:
                break
            time.sleep(0.1)
        assert "result" in reply, reply
    fresh = Server(database)
    tenants = all_tenants(fresh)
    names = [t["name"] for t in tenants]
    context = f"(PG_CRASH_SEED={SEED})"
    assert len(names) == len(set(names)), f"a tenant twice {context}"
    ids = [t["id"] for t in tenants]
    assert len(ids) == len(set(ids)), f"an ID twice {context}"
    failures = [e for e in outcomes.values() if e is not True]
    assert failures, "no write failed: the sessions were not terminated under load"
    acknowledged = {n for n, o in outcomes.items() if o is True}
    assert acknowledged <= set(names), f"acknowledged but lost: {sorted(acknowledged - set(names))[:5]} {context}"
    applied_failed = [n for n, o in outcomes.items() if o is not True and n in names and "may be there" not in o["message"]]
    assert not applied_failed, f"told failed, but there: {[(n, outcomes[n]['message']) for n in applied_failed[:3]]} {context}"
    for server in (a, b):
        assert sorted(t["name"] for t in all_tenants(server)) == sorted(names)
    fresh.stop()
    a.stop()
    b.stop()
