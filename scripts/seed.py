#!/usr/bin/env python3
"""Seeds a running subgate (with its built-in Stripe simulator) the way a merchant would, over
HTTP only: sign up, connect the simulated Stripe account, register a confidential client, get a
bearer token, push the demo customers, turn SSO on. Prints one JSON object with what benchmarks
and schemathesis need (token, store, SSO secret, subscriber ids, client id and secret).

    scripts/seed.py http://127.0.0.1:3000

Standard library only, so it runs before any virtualenv exists.
"""
import base64
import html.parser
import http.cookiejar
import json
import re
import secrets
import sys
import urllib.parse
import urllib.request


class Browser:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method, path, data=None, headers=None, form=None):
        url = path if path.startswith("http") else self.base + path
        headers = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif data is not None:
            body = json.dumps(data).encode()
            headers.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=30) as res:
                return res.status, res.geturl(), res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, url, e.read().decode()

    def csrf(self):
        _, _, page = self.request("GET", "/login", headers={"Accept": "text/html"})
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if not match:
            sys.exit("no csrf-token meta tag on /login")
        return match.group(1)

    def call_fn(self, fn, **fields):
        fields["csrf_token"] = self.csrf()
        status, _, body = self.request(
            "POST", f"/fn/{fn}", form=fields,
            headers={"Accept": "application/json", "Origin": self.base},
        )
        if status != 200:
            sys.exit(f"/fn/{fn}: {status} {body}")
        return json.loads(body)


class Inputs(html.parser.HTMLParser):
    """The name/value pairs of a page's <input> elements."""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")


def verify_by_mail(b, email):
    """Opens the sign-up's verification link from the development outbox (/dev/outbox: a server
    without SMTP_URL keeps its mail there); Stripe and SSO wait for a verified address."""
    import time
    for _ in range(200):
        _, _, page = b.request("GET", "/dev/outbox", headers={"Accept": "text/html"})
        for article in page.split("<article>"):
            token = re.search(r"/verify-email\?token=([A-Za-z0-9_-]+)", article)
            if f"To: {email}" in article and token:
                b.call_fn("verify_email", token=token.group(1))
                return
        time.sleep(0.05)
    sys.exit(f"no verification mail to {email} in /dev/outbox (is SMTP_URL set?)")


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
    b = Browser(base)
    tag = secrets.token_hex(4)
    business, email = f"Bench {tag}", f"bench-{tag}@example.test"
    b.call_fn("signup", business_name=business, email=email, password="correct horse battery staple")
    verify_by_mail(b, email)

    # Connect: subgate's authorize URL leads to the simulator's page; approve it like a person
    authorize = b.call_fn("start_connect")
    _, _, page = b.request("GET", authorize, headers={"Accept": "text/html"})
    inputs = Inputs()
    inputs.feed(page)
    fields = dict(inputs.fields, decision="approve", business_name=business, email=email)
    action = urllib.parse.urljoin(authorize, urllib.parse.urlparse(authorize).path)
    status, landed, _ = b.request("POST", action, form=fields, headers={"Accept": "text/html"})
    if "/dashboard/connect" not in landed:
        sys.exit(f"connect did not finish: {status} {landed}")
    connection = json.loads(b.request("GET", "/fn/connection_status")[2])
    if connection.get("state") != "connected":
        sys.exit(f"not connected: {connection}")

    scopes = "customers:read customers:write subscriptions:read portal:write"
    issued = b.call_fn("create_client", name="Bench backend", client_type="confidential",
                       redirect_uris="", scopes=scopes, audiences="")
    client_id, client_secret = issued["client"]["id"], issued["secret"]
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    status, _, body = b.request("POST", "/o/token/", form={"grant_type": "client_credentials"},
                                headers={"Authorization": f"Basic {basic}"})
    if status != 200:
        sys.exit(f"token: {status} {body}")
    token = json.loads(body)["access_token"]

    subscribers = []
    for i, customer in enumerate(connection["demo_customers"]):
        sid = f"user-{i + 1}"
        status, _, body = b.request("POST", "/api/customers",
                                    data={"subscriber_id": sid, "customer_id": customer["id"]},
                                    headers={"Authorization": f"Bearer {token}"})
        if status not in (200, 201):
            sys.exit(f"push {sid}: {status} {body}")
        subscribers.append(sid)

    b.call_fn("enable_sso")
    sso = json.loads(b.request("GET", "/fn/sso_status")[2])
    secret = b.call_fn("reveal_sso_secrets")["current"]
    print(json.dumps({
        "base": base,
        "token": token,
        "client_id": client_id,
        "client_secret": client_secret,
        "account": connection["account_id"],
        "email": email,
        "business_name": business,
        "subscribers": subscribers,
        "customers": [c["id"] for c in connection["demo_customers"]],
        "store": sso["store"],
        "sso_secret": secret,
        "session_cookie": "; ".join(f"{c.name}={c.value}" for c in b.jar),
    }))


if __name__ == "__main__":
    main()
