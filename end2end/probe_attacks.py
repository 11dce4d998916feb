"""Issue 15: the attacks an outside tester tried first, made over HTTP against any build, each
check named after its item. Bursts fire 50 requests at once from 50 browsers (threads released
together by a barrier) and sample the server's resident memory from /proc while they run.
"""

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import requests

from probe import Probe, SCOPES, free_port, wait_for

BURST = 50
MAX_GROWTH_MIB = 300


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakMemory:
    """The server's peak resident memory over its memory when sampling started, in MiB."""

    def __init__(self, pid: int):
        self.pid, self.baseline = pid, rss_kib(pid)
        self.peak, self.stop = self.baseline, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.002)

    def growth_mib(self) -> int:
        self.stop.set()
        self.thread.join()
        return (self.peak - self.baseline) // 1024


def fresh_browser(p: Probe) -> tuple[requests.Session, str]:
    s = requests.Session()
    html = s.get(p.base + "/login", headers={"accept": "text/html"}).text
    return s, re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def post_fn(p: Probe, browser: tuple[requests.Session, str], name: str, fields: dict,
            forwarded_for: str | None = None) -> int:
    s, token = browser
    headers = {"accept": "application/json", "origin": p.base}
    if forwarded_for:
        headers["x-forwarded-for"] = forwarded_for
    return s.post(f"{p.base}/fn/{name}", data={**fields, "csrf_token": token},
                  headers=headers).status_code


def at_once(calls) -> list:
    """Runs every call at the same moment, each in its own thread; their results in order."""
    barrier = threading.Barrier(len(calls))

    def go(call):
        barrier.wait()
        return call()
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def rows(p: Probe, sql: str) -> int:
    with sqlite3.connect(p.db) as db:
        return db.execute(sql).fetchone()[0]


def sso_hash(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sso_login(p: Probe, subscriber: str, body: dict) -> requests.Response:
    path = f"/api/v1/stores/{p.store}/subscribers/{urllib.parse.quote(subscriber, safe='')}/login"
    return requests.post(p.base + path, json=body, headers={"user-agent": "merchant-backend/1.0"})


def sso_ready(p: Probe) -> None:
    if not getattr(p, "store", None):
        assert p.call_fn("enable_sso", {}).status_code == 200
        p.store = p.session.get(p.base + "/fn/sso_status").json()["store"]
        p.sso_secret = p.call_fn("reveal_sso_secrets", {}).json()["current"]
    if not getattr(p, "second_subscriber", False):
        # a subscriber no check sends wrong hashes for, so that the link checks do not depend
        # on how the lock-out checks went
        customer = requests.post(f"{p.sim}/_sim/accounts/{p.account}/customers",
                                 json={"email": "probe-2@example.com"}).json()["id"]
        res = requests.post(p.base + "/api/customers", headers=p.auth,
                            json={"subscriber_id": "probe-2", "customer_id": customer})
        assert res.status_code == 201, f"push probe-2: {res.status_code} {res.text[:200]}"
        p.second_subscriber = True


def link(p: Probe, subscriber: str) -> str:
    """A one-time link from the merchant's login call (Recurpay's envelope, or a bare body)."""
    res = sso_login(p, subscriber, {"customer_hash": sso_hash(p.sso_secret, subscriber)})
    assert res.status_code == 200, f"login call: {res.status_code} {res.text[:200]}"
    body = res.json()
    return body.get("data", body)["redirection_url"]


def follow(p: Probe, url: str) -> requests.Session:
    """A subscriber's browser opening the link (and pressing Continue where there is one)."""
    s = requests.Session()
    page = s.get(url, headers={"accept": "text/html"}, allow_redirects=False)
    if page.status_code == 200 and 'id="confirm-sso"' in page.text:
        s.post(url, headers={"accept": "text/html", "origin": p.base}, allow_redirects=False)
    return s


def portal_view(p: Probe, s: requests.Session):
    return s.get(p.base + "/fn/portal_view").json()


# ---------------------------------------------------------------------------------------------

def login_burst(p: Probe) -> None:
    # an account of its own (signed up from another address), no failures yet
    email = f"burst-target-{secrets.token_hex(3)}@acme.test"
    assert post_fn(p, fresh_browser(p), "signup", {
        "business_name": "Burst target", "email": email,
        "password": "correct horse battery staple"}, forwarded_for="198.51.100.50") == 200
    browsers = [fresh_browser(p) for _ in range(BURST)]
    memory = PeakMemory(p.server.pid)
    statuses = at_once([lambda b=b: post_fn(p, b, "login", {
        "email": email, "password": "not the right password"}) for b in browsers])
    growth = memory.growth_mib()
    wrong = statuses.count(401)
    p.check(f"#15.1 {BURST} concurrent wrong passwords for one account: at most 10 are checked, "
            f"the rest 429/503, memory grows < {MAX_GROWTH_MIB} MiB",
            wrong <= 10 and wrong + statuses.count(429) + statuses.count(503) == BURST
            and growth < MAX_GROWTH_MIB,
            f"401×{wrong}, 429×{statuses.count(429)}, 503×{statuses.count(503)}, "
            f"memory +{growth} MiB")


def signup_burst(p: Probe) -> None:
    before = rows(p, "SELECT COUNT(*) FROM merchants")
    browsers = [fresh_browser(p) for _ in range(BURST)]
    memory = PeakMemory(p.server.pid)
    statuses = at_once([lambda b=b, i=i: post_fn(p, b, "signup", {
        "business_name": f"Burst {i}", "email": f"burst-{i}-{secrets.token_hex(3)}@acme.test",
        "password": "correct horse battery staple"}) for i, b in enumerate(browsers)])
    growth = memory.growth_mib()
    made = rows(p, "SELECT COUNT(*) FROM merchants") - before
    p.check(f"#15.2 {BURST} concurrent sign-ups from one IP make at most 10 accounts, memory "
            f"grows < {MAX_GROWTH_MIB} MiB", made <= 10 and growth < MAX_GROWTH_MIB,
            f"{made} accounts; 200×{statuses.count(200)}, 429×{statuses.count(429)}, "
            f"503×{statuses.count(503)}; memory +{growth} MiB")


def lockout_by_email(p: Probe) -> None:
    guesser = fresh_browser(p)
    last = 0
    for _ in range(12):
        last = post_fn(p, guesser, "login", {"email": p.email, "password": "a guess"},
                       forwarded_for="203.0.113.66")
    owner = post_fn(p, fresh_browser(p), "login",
                    {"email": p.email, "password": "correct horse battery staple"},
                    forwarded_for="198.51.100.7")
    p.check("#15.10 a guesser on another IP who is stopped (429) does not lock the owner out",
            last == 429 and owner == 200, f"guesser's last answer {last}, the owner's {owner}")


def sso_strangers_cannot_lock_out(p: Probe) -> None:
    sso_ready(p)
    for _ in range(12):
        sso_login(p, "probe-1", {"customer_hash": sso_hash("guess", "probe-1")})
    res = sso_login(p, "probe-1", {"customer_hash": sso_hash(p.sso_secret, "probe-1")})
    p.check("#15.3 after 12 wrong hashes from a stranger the merchant's right hash still logs "
            "the subscriber in", res.status_code == 200, f"{res.status_code} {res.text[:200]}")


def sso_burst(p: Probe) -> None:
    sso_ready(p)
    before = rows(p, "SELECT COUNT(*) FROM sso_logins")
    memory = PeakMemory(p.server.pid)
    statuses = at_once([lambda i=i: sso_login(p, "burst-7", {
        "customer_hash": sso_hash(f"guess {i}", "burst-7")}).status_code for i in range(BURST)])
    growth = memory.growth_mib()
    logged = rows(p, "SELECT COUNT(*) FROM sso_logins") - before
    p.check(f"#15.3/#15.11 {BURST} concurrent wrong hashes: exactly 10 are counted, the rest "
            "429, and refused ones write no log rows", statuses.count(401) == 10
            and statuses.count(429) == BURST - 10 and logged <= 10 and growth < MAX_GROWTH_MIB,
            f"401×{statuses.count(401)}, 429×{statuses.count(429)}, log rows +{logged}, "
            f"memory +{growth} MiB")


def dotted_id_replay(p: Probe) -> None:
    sso_ready(p)
    ts, nonce = int(time.time()), secrets.token_hex(8)
    # an end user whose id is "probe-1.<ts>.<nonce>" got their own classic hash from the merchant
    their_own = sso_hash(p.sso_secret, f"probe-1.{ts}.{nonce}")
    res = sso_login(p, "probe-1", {"customer_hash": their_own, "timestamp": ts, "nonce": nonce})
    p.check("#15.4 a classic hash of the id 'probe-1.<ts>.<nonce>' is not a signed login as "
            "probe-1", res.status_code == 401, f"{res.status_code} {res.text[:200]}")


def get_of_a_link_signs_no_one_in(p: Probe) -> None:
    sso_ready(p)
    url = link(p, "probe-2")
    victim = requests.Session()
    res = victim.get(url, headers={"accept": "text/html"}, allow_redirects=False)
    view = portal_view(p, victim)
    p.check("#15.16 a link loaded by another site (<img src>, a redirect) signs no one in "
            "(a GET only shows a Continue page)", view is None and "set-cookie" not in res.headers,
            f"GET {res.status_code}, set-cookie {res.headers.get('set-cookie', '')[:60]!r}, "
            f"portal {str(view)[:100]}")


def hash_testers_curl(p: Probe) -> None:
    sso_ready(p)
    wrong = []
    # the id, and one whose quote count lets `;id;` out of the quotes of a naive command
    for evil in ["o'brien';id;'", "x';id;'"]:
        curl = p.call_fn("test_sso_hash", {"subscriber_id": evil}).json()["curl"]
        # the command as pasted, with curl replaced by printf: each argument on its own line
        out = subprocess.run(["sh", "-c", curl.replace("curl", "printf '%s\\n'", 1)],
                             capture_output=True, text=True, timeout=10).stdout
        args = out.splitlines()
        url = args[2] if len(args) > 2 else ""
        if "uid=" in out or not url.endswith(f"/subscribers/{evil}/login"):
            wrong.append(f"{evil!r}: the URL argument is {url!r}"
                         + ("; pasting it ran `id`" if "uid=" in out else ""))
    p.check("#15.13 the hash tester's curl keeps a quoted subscriber id one shell word",
            not wrong, "; ".join(wrong))


def sso_off_ends_portal_sessions(p: Probe) -> None:
    sso_ready(p)
    url = link(p, "probe-2")
    subscriber = follow(p, url)
    signed_in = (portal_view(p, subscriber) or {}).get("subscriber_id") == "probe-2"
    # the store's name typed as a confirmation (older builds ignore the field)
    assert p.call_fn("disable_sso", {"confirm": p.store}).status_code == 200
    after = portal_view(p, subscriber)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"',
                      subscriber.get(p.base + "/portal", headers={"accept": "text/html"}).text)
    billing = subscriber.post(p.base + "/fn/open_billing",
                              data={"csrf_token": token.group(1) if token else ""},
                              headers={"accept": "application/json", "origin": p.base})
    p.check("#15.8 turning SSO off ends open portal sessions (no subscriber, no billing portal)",
            signed_in and after is None and billing.status_code in (401, 403),
            f"signed in first: {signed_in}; after: {str(after)[:100]}; open_billing "
            f"{billing.status_code}")
    p.store = None


def refresh_follows_the_client(p: Probe) -> None:
    redirect = "http://localhost:5000/callback/"
    res = p.call_fn("create_client", {"name": "CLI", "client_type": "public",
                                      "redirect_uris": redirect, "scopes": SCOPES,
                                      "audiences": ""})
    cid = res.json()["client"]["id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": cid, "redirect_uri": redirect, "scope": SCOPES,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    code = p.consent_code(query)
    first = requests.post(p.base + "/o/token/", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "client_id": cid, "code_verifier": verifier}).json()
    # the merchant narrows the client to reading customers
    res = p.call_fn("update_client", {"client_id": cid, "name": "CLI", "client_type": "public",
                                      "redirect_uris": redirect, "scopes": "customers:read",
                                      "audiences": ""})
    assert res.status_code == 200, f"update_client {res.status_code} {res.text[:200]}"
    second = requests.post(p.base + "/o/token/", data={
        "grant_type": "refresh_token", "client_id": cid,
        "refresh_token": first["refresh_token"]}).json()
    p.check("#15.5 a refresh after the client lost scopes gets only what it is allowed now",
            second.get("scope") == "customers:read", f"first {first.get('scope')!r}, after "
            f"narrowing the refresh got {second.get('scope')!r}")


def foreign_audience(p: Probe) -> None:
    res = p.client(name="Minting", audiences="https://api.another-merchant.example")
    p.check("#15.6 a merchant cannot register another service's audience (tokens for it)",
            res.status_code in (400, 422), f"{res.status_code} {res.text[:200]}")


def pkce_downgrade(p: Probe) -> None:
    redirect = "https://app.acme.test/callback"
    issued = p.client(name="Web app", redirect_uris=redirect).json()
    cid, secret = issued["client"]["id"], issued["secret"]
    query = urllib.parse.urlencode({"response_type": "code", "client_id": cid,
                                    "redirect_uri": redirect, "scope": "customers:read"})
    code = p.consent_code(query)
    res = requests.post(p.base + "/o/token/", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "code_verifier": secrets.token_urlsafe(48)}, auth=(cid, secret))
    p.check("#15.7 a code issued without code_challenge is refused with a code_verifier "
            "(PKCE downgrade, RFC 9700 §4.8.2)", res.status_code == 400,
            f"{res.status_code} {res.text[:200]}")


def cookieless_views(p: Probe) -> None:
    before = rows(p, "SELECT COUNT(*) FROM sessions")
    for _ in range(20):
        requests.get(p.base + "/login", headers={"accept": "text/html"})
    added = rows(p, "SELECT COUNT(*) FROM sessions") - before
    p.check("#15.11 20 cookieless page views write no session rows", added == 0,
            f"{added} rows")


def sweep(p: Probe, subgate: str) -> None:
    issued = p.client(name="Sweep").json()
    for _ in range(10):
        requests.post(p.base + "/o/token/", data={
            "grant_type": "client_credentials", "audience": f"{p.base}/api"},
            auth=(issued["client"]["id"], issued["secret"]))
    before = rows(p, "SELECT COUNT(*) FROM oauth_access_tokens")
    # two hours on: the tokens (an hour) are expired, the merchant's session (12 idle hours) not
    run = subprocess.run([subgate, "sweep", "--at", str(int(time.time()) + 2 * 3600)],
                         env=p.env, capture_output=True, text=True, timeout=60)
    after = rows(p, "SELECT COUNT(*) FROM oauth_access_tokens")
    # the probe's own token was among them: a fresh one for the checks after this
    p.auth = p.bearer()
    p.check("#15.11 expired tokens are swept (`subgate sweep`, as of two hours from now)",
            run.returncode == 0 and after < before,
            f"exit {run.returncode} {(run.stderr or '').strip()[-200:]}; oauth_access_tokens "
            f"{before} → {after}")


def csrf_against_public_origin(p: Probe) -> None:
    # DNS rebinding or a proxy that passes Host through: Origin equal to Host, but not subgate's
    port = urllib.parse.urlsplit(p.base).port
    evil = f"evil.example:{port}"
    # on a connection of its own: the server refuses before reading the body and then closes
    # the connection, which a pooled session would try to reuse for the next check
    res = requests.post(f"{p.base}/fn/create_client", data={
        "name": "Rebound", "client_type": "confidential", "redirect_uris": "",
        "scopes": "customers:read", "audiences": f"{p.base}/api", "csrf_token": p.csrf()},
        # the session's cookie as the browser sends it (a cookie jar would hold it back from
        # another host name)
        headers={"host": evil, "origin": f"http://{evil}", "accept": "application/json",
                 "cookie": "; ".join(f"{c.name}={c.value}" for c in p.session.cookies)})
    p.check("#15.12 a POST whose Origin matches its Host but not the public origin is refused",
            res.status_code == 403, f"{res.status_code} {res.text[:160]}")


def no_store(p: Probe) -> None:
    missing = []
    for path in ["/fn/current_merchant", "/dashboard/oauth", "/portal", "/o/authorize/"]:
        res = p.session.get(p.base + path, headers={"accept": "text/html"}, allow_redirects=False)
        if "no-store" not in res.headers.get("cache-control", ""):
            missing.append(f"{path} ({res.headers.get('cache-control')})")
    res = requests.get(p.base + "/api/customers", headers=p.auth)
    if "no-store" not in res.headers.get("cache-control", ""):
        missing.append(f"/api/customers ({res.headers.get('cache-control')})")
    p.check("#15.14 private responses carry Cache-Control: no-store", not missing,
            "without: " + ", ".join(missing))


def idempotency_race(p: Probe) -> None:
    # two bodies that differ in everything: two subscribers, two Stripe customers nobody pushed
    customers = [requests.post(f"{p.sim}/_sim/accounts/{p.account}/customers",
                               json={"email": f"race-{n}@example.com"}).json()["id"]
                 for n in ("alice", "bob")]
    rounds = []
    # ten rounds, each with its own key: the race is a matter of timing
    for i in range(10):
        key = "order-" + secrets.token_hex(4)

        def push(subscriber, customer, key=key):
            return lambda: requests.post(p.base + "/api/customers", headers={
                **p.auth, "idempotency-key": key}, json={"subscriber_id": subscriber,
                                                        "customer_id": customer}).status_code
        rounds.append(sorted(at_once([push(f"race-{i}-alice", customers[0]),
                                      push(f"race-{i}-bob", customers[1])])))
        requests.delete(f"{p.base}/api/customers/race-{i}-alice", headers=p.auth)
        requests.delete(f"{p.base}/api/customers/race-{i}-bob", headers=p.auth)
    bad = [r for r in rounds if not (r[0] == 201 and r[1] in (409, 422))]
    p.check("#15.15 two concurrent pushes with one Idempotency-Key and two bodies: one does "
            "the work (10 rounds)", not bad, f"rounds where both or neither did: {bad}")


def oversize_is_json(p: Probe) -> None:
    res = requests.post(p.base + "/api/customers", headers={**p.auth,
                        "content-type": "application/json"}, data=b"{" + b" " * 2_000_000 + b"}")
    p.check("#15.16 an oversize body gets 413 in JSON",
            res.status_code == 413
            and res.headers.get("content-type", "").startswith("application/json"),
            f"{res.status_code} {res.headers.get('content-type')}")


def production_health(subgate: str, env: dict) -> tuple[int, int]:
    port = free_port()
    env = {k: v for k, v in env.items() if k != "SUBGATE_TRUSTED_PROXIES"}
    proc = subprocess.Popen([subgate, "serve"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={
        **env, "SUBGATE_ENV": "production", "SUBGATE_PUBLIC_URL": "https://subgate.example",
        "SMTP_URL": "smtps://mail.subgate.example:465",
        "SUBGATE_SECRET_KEY": secrets.token_hex(32), "LEPTOS_SITE_ADDR": f"127.0.0.1:{port}"})
    try:
        wait_for(f"http://127.0.0.1:{port}/login", proc)
        health = requests.get(f"http://127.0.0.1:{port}/healthz",
                              headers={"accept": "application/json"}).status_code
        page = requests.get(f"http://127.0.0.1:{port}/login").status_code
        return health, page
    finally:
        proc.terminate()
        proc.wait()


def run(p: Probe, subgate: str) -> None:
    """In an order that keeps each check's preconditions: the account's own login first, SSO
    off after the SSO checks, the bursts (which use up the IP's limits) last."""
    p.attempt("#15.14 no-store", lambda: no_store(p))
    p.attempt("#15.12 csrf origin", lambda: csrf_against_public_origin(p))
    p.attempt("#15.6 audience", lambda: foreign_audience(p))
    p.attempt("#15.7 pkce downgrade", lambda: pkce_downgrade(p))
    p.attempt("#15.5 refresh scopes", lambda: refresh_follows_the_client(p))
    p.attempt("#15.15 idempotency race", lambda: idempotency_race(p))
    p.attempt("#15.16 413", lambda: oversize_is_json(p))
    p.attempt("#15.11 cookieless", lambda: cookieless_views(p))
    p.attempt("#15.11 sweep", lambda: sweep(p, subgate))
    # the dotted id's wrong hash before the stranger's 12: after them, probe-1's failures are
    # at their limit (429), whatever the hash
    p.attempt("#15.4 dotted id", lambda: dotted_id_replay(p))
    p.attempt("#15.3 sso lock-out", lambda: sso_strangers_cannot_lock_out(p))
    p.attempt("#15.16 GET link", lambda: get_of_a_link_signs_no_one_in(p))
    p.attempt("#15.13 curl", lambda: hash_testers_curl(p))
    p.attempt("#15.3 sso burst", lambda: sso_burst(p))
    p.attempt("#15.8 sso off", lambda: sso_off_ends_portal_sessions(p))
    p.attempt("#15.10 lock-out by email", lambda: lockout_by_email(p))
    p.attempt("#15.1 login burst", lambda: login_burst(p))
    p.attempt("#15.2 sign-up burst", lambda: signup_burst(p))

    def health():
        h, page = production_health(subgate, p.env)
        p.check("#15.16 in production a load balancer's plain-HTTP /healthz gets 200 "
                "(pages still need HTTPS)", h == 200 and page == 403, f"/healthz {h}, /login {page}")
    p.attempt("#15.16 production health", health)
