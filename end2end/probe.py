"""What a merchant moving to subgate does first, against a build of subgate and a Stripe that
subgate's product code does not share a process with:

  - the Stripe simulator runs as its own process (`subgate stripe-simulator`, from SIMULATOR_BIN),
    and the product reaches it only by base URL, with keys, as it would reach Stripe;
  - the product (SUBGATE_BIN, any build: the current one, or an older one to show what it broke)
    runs on its own SQLite file with the audience and SSO domain the seeds' clients use.

Each check is one published client's request, made as that client makes it: recursiv's Flask
client (a 40-character verifier, its redirect URI on another origin), Riverty's token request at
its own path with its own audience and its subscription read, Recurpay's login call at its path
on the store's host, and a customer pushed while Stripe's
own rules hold (4-level expansion, unknown parameters, Stripe-Account). Prints one line per check
and exits 1 when any fails.

Then (unless --seeds-only) what issues 14 and 15 found, one check per item: Stripe's events,
billing modes and missed deliveries (probe_stripe.py), and the attacks of an outside tester
(probe_attacks.py).

    python end2end/probe.py SUBGATE_BIN [SIMULATOR_BIN] [--seeds-only]
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

RIVERTY_AUDIENCE = "https://api.horizonafs.io"
WEBHOOK_SECRET = "whsec_probe" + secrets.token_hex(8)
SCOPES = "customers:read customers:write subscriptions:read portal:write"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[0]} exited with {proc.returncode} before {url} answered")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered")


def code_in(res: requests.Response) -> str | None:
    """The `code` of the redirect back to the client, if the response is one."""
    location = urllib.parse.urlsplit(res.headers.get("location", ""))
    return dict(urllib.parse.parse_qsl(location.query)).get("code")


class Probe:
    def __init__(self, base: str, sim: str, server: subprocess.Popen | None = None,
                 db: str = "", env: dict | None = None):
        self.base, self.sim = base, sim
        self.server, self.db, self.env = server, db, env or {}
        self.session = requests.Session()
        self.results: list[tuple[str, bool, str]] = []

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + ("" if ok else f"\n      {detail}"), flush=True)
        return ok

    def attempt(self, name: str, step) -> None:
        """Runs one check's steps; a step that fails before the check counts as the check failing
        (an older build may lack an endpoint a later step needs)."""
        try:
            step()
        except Exception as e:  # noqa: BLE001: every failure is reported, none stops the run
            self.check(name, False, f"{type(e).__name__}: {e}"[:600])

    def csrf(self) -> str:
        html = self.session.get(self.base + "/", headers={"accept": "text/html"}).text
        m = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
        assert m, "the page has a csrf-token meta tag"
        return m.group(1)

    def call_fn(self, name: str, fields: dict) -> requests.Response:
        """A server function, posted as the hydrated page posts it."""
        return self.session.post(
            f"{self.base}/fn/{name}",
            data={**fields, "csrf_token": self.csrf()},
            headers={"accept": "application/json", "origin": self.base},
        )

    def merchant(self) -> None:
        email = f"probe-{secrets.token_hex(4)}@acme.test"
        res = self.call_fn("signup", {"business_name": "Probe Ltd", "email": email,
                                      "password": "correct horse battery staple"})
        assert res.status_code == 200, f"sign-up: {res.status_code} {res.text}"
        self.email = email
        self.verify_by_mail()

    def verify_by_mail(self) -> None:
        """Verifies the address with the link in the development outbox (`/dev/outbox`, where the
        mail goes without SMTP_URL), as a newcomer on `make run` would; Stripe waits for it."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            html = requests.get(self.base + "/dev/outbox").text
            for article in html.split("<article>"):
                token = re.search(r"/verify-email\?token=([A-Za-z0-9_-]+)", article)
                if f"To: {self.email}" in article and token:
                    res = self.call_fn("verify_email", {"token": token.group(1)})
                    assert res.status_code == 200, f"verify: {res.status_code} {res.text}"
                    return
            time.sleep(0.05)
        raise AssertionError(f"no verification mail to {self.email} in /dev/outbox")

    def connect(self) -> str:
        """Connect with Stripe: the product sends the browser to Stripe's page, Stripe approves."""
        url = self.connect_url = self.call_fn("start_connect", {}).json()
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert url.startswith(self.sim + "/oauth/authorize"), url
        back = requests.post(self.sim + "/oauth/authorize", data={
            "client_id": q["client_id"], "redirect_uri": q["redirect_uri"], "state": q["state"],
            "scope": q.get("scope", "read_write"), "decision": "approve",
            "business_name": "Probe Ltd", "email": self.email,
        }, allow_redirects=False)
        res = self.session.get(back.headers["location"], allow_redirects=False,
                               headers={"accept": "text/html"})
        assert res.status_code in (302, 303), f"callback: {res.status_code}"
        status = self.session.get(self.base + "/fn/connection_status").json()
        assert status["state"] == "connected", status
        return status["account_id"]

    def client(self, **fields) -> requests.Response:
        form = {"name": "Backend", "client_type": "confidential", "redirect_uris": "",
                "scopes": SCOPES, "audiences": f"{self.base}/api"}
        form.update(fields)
        return self.call_fn("create_client", form)

    def stripe_customer(self, account: str) -> str:
        """A customer of the connected account with a subscription, read from Stripe as a
        merchant would (some demo customers have none)."""
        res = requests.get(self.sim + "/v1/subscriptions", params={"limit": 1},
                           headers={"authorization": "Bearer sk_test_simulator",
                                    "stripe-account": account})
        assert res.status_code == 200, res.text
        return res.json()["data"][0]["customer"]

    def allow(self, query: str) -> requests.Response:
        """The merchant presses Allow on the consent page of the authorization request `query`."""
        return self.session.post(f"{self.base}/o/authorize/", data={
            "csrf_token": self.csrf(), "request": query, "decision": "allow"},
            headers={"origin": self.base}, allow_redirects=False)

    def consent_code(self, query: str) -> str:
        """The code of an authorization request, through the consent page as a browser goes."""
        self.session.get(f"{self.base}/o/authorize/?{query}", headers={"accept": "text/html"})
        code = code_in(self.allow(query))
        assert code, "consent redirects back with a code"
        return code

    # ---------------------------------------------------------------------------------------

    def bearer(self, scopes: str = SCOPES) -> dict:
        issued = self.client(scopes=scopes).json()
        token = requests.post(self.base + "/o/token/", data={
            "grant_type": "client_credentials", "audience": f"{self.base}/api"},
            auth=(issued["client"]["id"], issued["secret"])).json()["access_token"]
        return {"authorization": f"Bearer {token}"}

    def stripe_reality(self, account: str) -> str | None:
        self.account = account
        self.auth = bearer = self.bearer()
        customer = self.stripe_customer(account)
        pushed = requests.post(self.base + "/api/customers", headers=bearer,
                               json={"subscriber_id": "probe-1", "customer_id": customer})
        if not self.check("a merchant pushes a Stripe customer (POST /api/customers → 201)",
                          pushed.status_code == 201, f"{pushed.status_code} {pushed.text[:300]}"):
            # what the later checks look at comes after the push: with Stripe's rules recorded
            # but not enforced, an older build gets that far and each later check shows its own
            # item (the violations check below still fails)
            requests.post(self.sim + "/_sim/rules", json={"enforced": False})
            print("      (from here Stripe's rules are recorded, not enforced: the push again)")
            requests.post(self.base + "/api/customers", headers=bearer,
                          json={"subscriber_id": "probe-1", "customer_id": customer})
        subs = requests.get(self.base + "/api/customers/probe-1/subscriptions", headers=bearer)
        ok = subs.status_code == 200 and bool(subs.json().get("data"))
        self.check("and reads its subscriptions (GET …/subscriptions → 200, not empty)", ok,
                   f"{subs.status_code} {subs.text[:300]}")
        violations = requests.get(self.sim + "/_sim/violations").json()
        self.check("no request the product sent broke one of Stripe's rules (/_sim/violations)",
                   violations == [] or violations == {"data": []},
                   json.dumps(violations)[:600])
        self.subscription = subs.json()["data"][0]["id"] if ok else None
        return self.subscription

    def riverty(self, subscription: str | None) -> None:
        res = self.client(name="Riverty backend", audiences=RIVERTY_AUDIENCE)
        if not self.check(f"a client with Riverty's audience {RIVERTY_AUDIENCE} is registered",
                          res.status_code == 200, f"{res.status_code} {res.text[:300]}"):
            return
        issued = res.json()
        cid, secret = issued["client"]["id"], issued["secret"]
        # Riverty's page, verbatim but for the host: a form body with the credentials in it
        res = requests.post(self.base + "/oauth/token", headers={
            "content-type": "application/x-www-form-urlencoded"},
            data=f"client_id={cid}&client_secret={secret}&grant_type=client_credentials"
                 f"&audience={RIVERTY_AUDIENCE}")
        body = res.json() if res.headers.get("content-type", "").startswith("application/json") else {}
        if not self.check("Riverty's token request at POST /oauth/token → 200 Bearer",
                          res.status_code == 200 and body.get("token_type") == "Bearer",
                          f"{res.status_code} {res.text[:300]}"):
            return
        if subscription is None:
            self.check("Riverty's subscription read", False, "no subscription to read")
            return
        res = requests.get(
            f"{self.base}/subscription/v1/clients/{cid}/subscriptions/{subscription}",
            headers={"authorization": f"Bearer {body['access_token']}"})
        self.check("Riverty's GET /subscription/v1/clients/{id}/subscriptions/{number} → 200",
                   res.status_code == 200 and res.json().get("id") == subscription,
                   f"{res.status_code} {res.text[:300]}")

    def recurpay(self) -> None:
        """Recurpay's login call at its own path on the store's host, with subscriber probe-1."""
        assert self.call_fn("enable_sso", {}).status_code == 200
        store = self.session.get(self.base + "/fn/sso_status").json()["store"]
        secret = self.call_fn("reveal_sso_secrets", {}).json()["current"]
        self.store, self.sso_secret = store, secret
        # the Node snippet: crypto.createHmac('sha256', secret).update(subscriberId).digest('hex')
        customer_hash = hmac.new(secret.encode(), b"probe-1", hashlib.sha256).hexdigest()
        port = urllib.parse.urlsplit(self.base).port
        # `https://{subdomain}.recurpay.com/admin/api/…`: the store's host under SUBGATE_SSO_DOMAIN
        res = requests.post(
            f"{self.base}/admin/api/2024-01/subscribers/probe-1/login",
            headers={"host": f"{store}.sso.localhost:{port}"}, json={"customer_hash": customer_hash})
        body = res.json() if res.headers.get("content-type", "").startswith("application/json") else {}
        self.check("Recurpay's POST /admin/api/{version}/subscribers/{id}/login on the store's host",
                   res.status_code == 200 and body.get("success") is True
                   and "redirection_url" in body.get("data", {}),
                   f"{res.status_code} {res.text[:300]}")

    def recursiv(self) -> None:
        origin = "http://localhost:5000"
        redirect = origin + "/callback/"
        res = self.call_fn("create_client", {"name": "recursiv Flask app", "client_type": "public",
                                             "redirect_uris": redirect, "scopes": "",
                                             "audiences": ""})
        assert res.status_code == 200, res.text
        cid = res.json()["client"]["id"]
        # the Flask client's verifier: base64url of 30 random bytes, 40 characters
        verifier = base64.urlsafe_b64encode(os.urandom(30)).rstrip(b"=").decode()
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = (f"response_type=code&client_id={cid}&redirect_uri={redirect}"
                 f"&code_challenge={challenge}&code_challenge_method=S256&approval_prompt=auto")
        page = self.session.get(f"{self.base}/o/authorize/?{query}", headers={"accept": "text/html"})
        csp = page.headers.get("content-security-policy", "")
        form_action = next((d.strip() for d in csp.split(";") if d.strip().startswith("form-action")), "")
        self.check("the consent form may end on the client's origin (CSP form-action names it)",
                   page.status_code == 200 and origin in form_action,
                   f"{page.status_code}; {form_action or 'no form-action'}: Chromium blocks the "
                   "redirect to the client after Allow")
        res = self.allow(query)
        code = code_in(res)
        if not self.check("consent redirects back with a code", res.status_code == 303 and bool(code),
                          f"{res.status_code} {res.headers.get('location')}"):
            return
        res = requests.post(self.base + "/o/token/", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
            "client_id": cid, "code_verifier": verifier})
        self.check("recursiv's 40-character PKCE verifier gets a token (POST /o/token/ → 200)",
                   res.status_code == 200, f"{res.status_code} {res.text[:300]}")


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    subgate = os.path.abspath(args[0])
    simulator = os.path.abspath(args[1] if len(args) > 1 else args[0])
    work = tempfile.mkdtemp(prefix="subgate-probe.")
    sim_port, port = free_port(), free_port()
    sim, base = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "servers.log"), "w")
    procs = [subprocess.Popen(
        [simulator, "stripe-simulator", "--addr", f"127.0.0.1:{sim_port}",
         "--webhook-url", f"{base}/webhooks/stripe", "--webhook-secret", WEBHOOK_SECRET],
        stdout=log, stderr=log, env={**os.environ, "RUST_LOG": "warn"})]
    try:
        wait_for(sim + "/_sim/", procs[0])
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite://{work}/probe.db?mode=rwc", "SUBGATE_DATA_DIR": work,
            "LEPTOS_SITE_ADDR": f"127.0.0.1:{port}", "LEPTOS_SITE_ROOT": "target/site",
            "LEPTOS_SITE_PKG_DIR": "pkg", "LEPTOS_OUTPUT_NAME": "subgate", "RUST_LOG": "warn",
            "STRIPE_SECRET_KEY": "sk_test_simulator", "STRIPE_CLIENT_ID": "ca_simulator",
            "STRIPE_API_BASE": sim + "/", "STRIPE_CONNECT_BASE": sim + "/",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SUBGATE_API_AUDIENCES": RIVERTY_AUDIENCE, "SUBGATE_SSO_DOMAIN": "sso.localhost",
            # subgate's own origin, and a proxy on loopback that names the client's address
            "SUBGATE_PUBLIC_URL": base, "SUBGATE_TRUSTED_PROXIES": "127.0.0.1",
        }
        procs.append(subprocess.Popen([subgate, "serve"], stdout=log, stderr=log, env=env))
        wait_for(base + "/healthz", procs[1])
        probe = Probe(base, sim, procs[1], f"{work}/probe.db", env)
        probe.merchant()
        account = probe.connect()
        subscription = probe.stripe_reality(account)
        probe.riverty(subscription)
        probe.recurpay()
        probe.recursiv()
        if "--seeds-only" not in sys.argv:
            import probe_attacks
            import probe_stripe
            probe_stripe.run(probe, subgate)
            probe_attacks.run(probe, subgate)
            probe.attempt("#15.9 reconnecting", lambda: probe_stripe.reconnecting(probe))
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        log.close()
    failed = [name for name, ok, _ in probe.results if not ok]
    print(f"\n{len(probe.results) - len(failed)} of {len(probe.results)} checks passed"
          + (f"; servers' log: {work}/servers.log" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
