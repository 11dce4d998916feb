"""Issue 14, items 2 to 7 and issue 15, item 9: what Stripe does after a customer is pushed,
made to happen at the Stripe simulator (its own process) as it happens at Stripe, and what the
product's API says about it. Each check names the item it shows; `run(probe)` needs a probe that
has connected and pushed `probe-1`.
"""

import hashlib
import hmac
import json
import subprocess
import time
import urllib.parse

import requests

from probe import Probe

PINNED_ELSEWHERE = "2024-06-20"


def stripe(p: Probe, method: str, path: str, **kw) -> requests.Response:
    """The Stripe API as the merchant's own code (or Stripe's Dashboard) calls it."""
    return requests.request(method, p.sim + path, headers={
        "authorization": "Bearer sk_test_simulator", "stripe-account": p.account}, **kw)


def settle(p: Probe) -> None:
    """Until every event the simulator queued has been delivered to the product."""
    requests.post(p.sim + "/_sim/deliveries/wait", timeout=40)


def mirrored(p: Probe) -> dict:
    res = requests.get(p.base + "/api/customers/probe-1/subscriptions", headers=p.auth)
    assert res.status_code == 200, f"{res.status_code} {res.text[:200]}"
    return next(s for s in res.json()["data"] if s["id"] == p.subscription)


def set_cancel_flag(p: Probe, cancel: bool) -> None:
    res = requests.post(f"{p.sim}/_sim/accounts/{p.account}/subscriptions/{p.subscription}",
                        json={"cancel_at_period_end": cancel})
    assert res.status_code == 200, res.text
    settle(p)


def connect_landing(p: Probe) -> None:
    landing = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(p.connect_url).query)).get(
        "stripe_landing")
    p.check("#14.4 Connect sends a merchant with an account to Stripe's login "
            "(stripe_landing=login)", landing == "login", f"stripe_landing={landing!r}")


def product_names_survive_events(p: Probe) -> None:
    before = mirrored(p)["items"][0]["product_name"]
    set_cancel_flag(p, True)
    after = mirrored(p)
    name = after["items"][0]["product_name"]
    p.check("#14.2 a customer.subscription.updated event (price.product an id) keeps the "
            "product's name in the mirror",
            after["cancel_at_period_end"] is True and name == before
            and not str(name).startswith("prod_"),
            f"before the event {before!r}, after it {name!r} "
            f"(cancel_at_period_end {after['cancel_at_period_end']})")
    set_cancel_flag(p, False)


def portal_cancellation_ends(p: Probe) -> None:
    res = requests.post(p.base + "/api/customers/probe-1/portal-session", headers=p.auth,
                        json={"return_url": "https://shop.example/account"})
    assert res.status_code == 201, f"portal session: {res.status_code} {res.text[:200]}"
    portal = res.json()["url"]
    # the subscriber presses "Cancel plan" in Stripe's customer portal
    res = requests.post(portal, data={"subscription": p.subscription,
                                      "action": "cancel_at_period_end"}, allow_redirects=False)
    assert res.status_code == 303, f"portal: {res.status_code}"
    settle(p)
    at_stripe = stripe(p, "GET", f"/v1/subscriptions/{p.subscription}").json()
    ours = mirrored(p)
    p.check("#14.3 cancelled in the portal in flexible billing mode (cancel_at set, "
            "cancel_at_period_end false): the API says when it ends (ends_at)",
            at_stripe.get("cancel_at") is not None and ours.get("ends_at") == at_stripe["cancel_at"],
            f"Stripe: billing_mode {at_stripe.get('billing_mode')}, cancel_at "
            f"{at_stripe.get('cancel_at')}, cancel_at_period_end "
            f"{at_stripe.get('cancel_at_period_end')}; subgate: ends_at "
            f"{ours.get('ends_at', 'absent')!r}, cancel_at_period_end "
            f"{ours.get('cancel_at_period_end')}")
    requests.post(portal, data={"subscription": p.subscription, "action": "renew"})
    settle(p)


def portal_configuration_by_listing(p: Probe) -> None:
    # the merchant has no default configuration, but made one through the API (as `subgate
    # doctor --fix` or their own code does): Stripe then needs it named in the session request
    res = requests.post(f"{p.sim}/_sim/accounts/{p.account}/portal_configuration",
                        json={"configured": False})
    assert res.status_code == 200, res.text
    made = stripe(p, "POST", "/v1/billing_portal/configurations",
                  data={"features[invoice_history][enabled]": "true"})
    assert made.status_code == 200, f"configuration: {made.status_code} {made.text[:200]}"
    res = requests.post(p.base + "/api/customers/probe-1/portal-session", headers=p.auth,
                        json={"return_url": "https://shop.example/account"})
    p.check("#14.5 a portal session opens with the account's configuration found by asking "
            "Stripe (no default configuration)", res.status_code == 201,
            f"{res.status_code} {res.text[:300]}")
    requests.post(f"{p.sim}/_sim/accounts/{p.account}/portal_configuration",
                  json={"configured": True})


def sign(p: Probe, body: str) -> str:
    t = int(time.time())
    v1 = hmac.new(p.env["STRIPE_WEBHOOK_SECRET"].encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def other_version_acknowledged_first(p: Probe) -> None:
    # the subscription as an endpoint on another API version receives it: periods on the
    # subscription, products as ids
    obj = stripe(p, "GET", f"/v1/subscriptions/{p.subscription}").json()
    obj["current_period_end"] = obj["items"]["data"][0].get("current_period_end")
    for item in obj["items"]["data"]:
        item.pop("current_period_start", None)
        item.pop("current_period_end", None)
        product = item["price"]["product"]
        item["price"]["product"] = product["id"] if isinstance(product, dict) else product
    body = json.dumps({
        "id": "evt_probe_other_version", "object": "event", "account": p.account,
        "api_version": PINNED_ELSEWHERE, "created": int(time.time()),
        "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "customer.subscription.updated"})
    # Stripe answers slowly now (under the product's per-call timeout): the webhook must not wait
    requests.post(p.sim + "/_sim/faults", json={"latency_ms": 1800, "fail_next": 0,
                                                "fail_status": 0, "rate_limit_next": 0})
    try:
        started = time.monotonic()
        res = requests.post(p.base + "/webhooks/stripe", data=body, headers={
            "content-type": "application/json", "stripe-signature": sign(p, body)}, timeout=30)
        took = time.monotonic() - started
    finally:
        requests.delete(p.sim + "/_sim/faults")
    p.check("#14.6 an event in another API version is acknowledged before Stripe is asked "
            "(200 in under 1 s while Stripe takes 1.8 s)",
            res.status_code == 200 and took < 1.0, f"{res.status_code} in {took:.2f} s")


def missed_deliveries_caught_up(p: Probe, subgate: str) -> None:
    endpoints = requests.get(p.sim + "/_sim/webhook_endpoints").json()
    assert endpoints, "the platform has a webhook endpoint"
    for e in endpoints:
        requests.post(f"{p.sim}/_sim/webhook_endpoints/{e['id']}", json={"enabled": False})
    try:
        # while subgate is down (deliveries failing for three days, then disabled), the
        # subscriber cancels
        set_cancel_flag(p, True)
        drifted = mirrored(p)["cancel_at_period_end"] is False
    finally:
        for e in endpoints:
            requests.post(f"{p.sim}/_sim/webhook_endpoints/{e['id']}", json={"enabled": True})
    run = subprocess.run([subgate, "stripe", "reconcile"], env=p.env, capture_output=True,
                         text=True, timeout=60)
    caught_up = mirrored(p)["cancel_at_period_end"] is True
    p.check("#14.7 after missed deliveries the mirror catches up from Stripe's events "
            "(`subgate stripe reconcile`)", drifted and run.returncode == 0 and caught_up,
            f"drifted first: {drifted}; reconcile exit {run.returncode}: "
            f"{(run.stderr or run.stdout).strip()[-300:]}; caught up: {caught_up}")
    set_cancel_flag(p, False)


def reconnecting(p: Probe) -> None:
    old = p.account
    p.email = "other-" + p.email
    new = p.connect()
    customer = requests.get(p.base + "/api/customers/probe-1", headers=p.auth)
    # the merchant then removes subgate from the old account at Stripe
    requests.post(f"{p.sim}/_sim/accounts/{old}/deauthorize")
    settle(p)
    portal = requests.post(p.base + "/api/customers/probe-1/portal-session", headers=p.auth,
                           json={"return_url": "https://shop.example/"})
    status = p.session.get(p.base + "/fn/connection_status").json()
    p.check("#15.9 reconnecting another Stripe account forgets the old account's customers "
            "and the new connection stays connected",
            new != old and customer.status_code == 404 and portal.status_code == 404
            and status.get("state") == "connected" and status.get("account_id") == new,
            f"customer {customer.status_code}, portal session {portal.status_code}, "
            f"connection {status.get('state')} {status.get('account_id')} (new {new})")


def run(p: Probe, subgate: str) -> None:
    p.attempt("#14.4 stripe_landing", lambda: connect_landing(p))
    if p.subscription is None:
        p.check("#14.2–14.7 need a pushed customer", False, "the push failed")
        return
    p.attempt("#14.2 product names after an event", lambda: product_names_survive_events(p))
    p.attempt("#14.3 ends_at", lambda: portal_cancellation_ends(p))
    p.attempt("#14.5 portal configuration", lambda: portal_configuration_by_listing(p))
    p.attempt("#14.6 acknowledge first", lambda: other_version_acknowledged_first(p))
    p.attempt("#14.7 reconcile", lambda: missed_deliveries_caught_up(p, subgate))
