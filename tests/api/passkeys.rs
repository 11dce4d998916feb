//! Passkeys against an authenticator written here from the WebAuthn Level 3 and CTAP2 specs
//! (CBOR by hand, ES256 signatures by OpenSSL), not from webauthn-rs: what it checks is the
//! browser's and authenticator's side of the protocol as published. Chromium's own virtual
//! authenticator drives the same ceremonies in `end2end/tests/passkeys.spec.ts`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{error_of, join_all, me, spawn_app, Merchant, TestApp};

/// One discoverable ES256 credential on a platform authenticator that verifies its user.
struct Authenticator {
    key: PKey<Private>,
    credential_id: Vec<u8>,
    /// The WebAuthn user id the credential was made for (its `userHandle`).
    user_handle: Vec<u8>,
    rp_id: String,
    counter: u32,
}

/// CBOR (RFC 8949) heads: major type and length.
fn cbor_head(major: u8, len: usize, out: &mut Vec<u8>) {
    let m = major << 5;
    match len {
        0..=23 => out.push(m | len as u8),
        24..=0xff => out.extend([m | 24, len as u8]),
        _ => {
            out.push(m | 25);
            out.extend((len as u16).to_be_bytes());
        }
    }
}

fn cbor_text(s: &str, out: &mut Vec<u8>) {
    cbor_head(3, s.len(), out);
    out.extend(s.as_bytes());
}

fn cbor_bytes(b: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, b.len(), out);
    out.extend(b);
}

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

fn b64(data: &[u8]) -> String {
    B64.encode(data)
}

fn unb64(s: &str) -> Vec<u8> {
    B64.decode(s.trim_end_matches('=')).expect("base64url")
}

/// `http://localhost:PORT`: the relying party's origin for the app's loopback public URL.
fn origin(app: &TestApp) -> String {
    app.address.replace("127.0.0.1", "localhost")
}

impl Authenticator {
    /// `authenticatorMakeCredential` for `navigator.credentials.create(options)`: the JSON the
    /// browser posts back (webauthn-rs's `RegisterPublicKeyCredential`).
    fn create(options: &Value, origin: &str) -> (Self, String) {
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id").to_string();
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
        let ec = EcKey::generate(&group).expect("key");
        let (mut x, mut y) = (BigNum::new().expect("bn"), BigNum::new().expect("bn"));
        ec.public_key()
            .affine_coordinates(
                &group,
                &mut x,
                &mut y,
                &mut BigNumContext::new().expect("ctx"),
            )
            .expect("coordinates");
        let mut credential_id = vec![0u8; 32];
        openssl::rand::rand_bytes(&mut credential_id).expect("random");
        let auth = Self {
            key: PKey::from_ec_key(ec).expect("pkey"),
            credential_id,
            user_handle: unb64(pk["user"]["id"].as_str().expect("user.id")),
            rp_id,
            counter: 1,
        };
        // COSE_Key (RFC 9053): kty EC2, alg ES256, crv P-256, x, y
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&x.to_vec_padded(32).expect("x"), &mut cose);
        cose.push(0x22);
        cbor_bytes(&y.to_vec_padded(32).expect("y"), &mut cose);
        // flags: user present, user verified, attested credential data
        let mut auth_data = auth.auth_data(0x45);
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((auth.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&auth.credential_id);
        auth_data.extend(cose);
        let mut attestation = vec![0xa3];
        cbor_text("fmt", &mut attestation);
        cbor_text("none", &mut attestation);
        cbor_text("attStmt", &mut attestation);
        attestation.push(0xa0);
        cbor_text("authData", &mut attestation);
        cbor_bytes(&auth_data, &mut attestation);
        let client_data = client_data("webauthn.create", pk, origin);
        let answer = json!({
            "id": b64(&auth.credential_id),
            "rawId": b64(&auth.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(client_data.as_bytes()),
                "transports": ["internal"],
            },
            "extensions": {},
        });
        (auth, answer.to_string())
    }

    /// rpIdHash, flags, signCount (WebAuthn §6.1).
    fn auth_data(&self, flags: u8) -> Vec<u8> {
        let mut data = sha256(self.rp_id.as_bytes());
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        data
    }

    /// `authenticatorGetAssertion` for `navigator.credentials.get(options)`, with the counter
    /// as it is now (`next` moves it on first, as a real authenticator does).
    fn get(&mut self, options: &Value, origin: &str, next: bool) -> String {
        let pk = &options["publicKey"];
        if next {
            self.counter += 1;
        }
        let auth_data = self.auth_data(0x05);
        let client_data = client_data("webauthn.get", pk, origin);
        let mut signed = auth_data.clone();
        signed.extend(sha256(client_data.as_bytes()));
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).expect("signer");
        signer.update(&signed).expect("sign");
        let signature = signer.sign_to_vec().expect("signature");
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(client_data.as_bytes()),
                "signature": b64(&signature),
                "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        })
        .to_string()
    }
}

/// CollectedClientData (WebAuthn §5.8.1) for the options' challenge.
fn client_data(kind: &str, pk: &Value, origin: &str) -> String {
    json!({
        "type": kind,
        "challenge": pk["challenge"].as_str().expect("challenge"),
        "origin": origin,
        "crossOrigin": false,
    })
    .to_string()
}

/// A 422 that says the answer did not verify (not a malformed request or an expired attempt).
async fn assert_unverified(res: reqwest::Response) {
    let (status, body) = error_of(res).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["message"],
        "Passkey: the browser's answer could not be verified. Try again."
    );
}

async fn json_of(res: reqwest::Response, what: &str) -> Value {
    assert_eq!(res.status(), 200, "{what}");
    res.json().await.expect("json")
}

async fn account(app: &TestApp) -> Value {
    json_of(
        app.client
            .get(app.url("/fn/account"))
            .send()
            .await
            .expect("account"),
        "account",
    )
    .await
}

/// Registers a passkey for the logged-in account; answers its authenticator.
async fn register(app: &TestApp, name: &str) -> Authenticator {
    let options = json_of(app.call_fn("passkey_register_start", &[]).await, "start").await;
    let (auth, answer) = Authenticator::create(&options, &origin(app));
    let res = app
        .call_fn(
            "passkey_register_finish",
            &[("credential", &answer), ("name", name)],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", error_of(res).await);
    auth
}

/// A password-less login attempt with `auth` from `app`'s browser.
async fn passkey_login(app: &TestApp, auth: &mut Authenticator) -> reqwest::Response {
    let options = json_of(app.call_fn("passkey_login_start", &[]).await, "login start").await;
    let answer = auth.get(&options, &origin(app), true);
    app.call_fn("passkey_login_finish", &[("credential", &answer)])
        .await
}

#[tokio::test]
async fn a_passkey_made_by_an_authenticator_logs_in_alone_and_its_answer_works_once() {
    let app = spawn_app().await;
    let m = app.signed_up().await;
    let options = json_of(app.call_fn("passkey_register_start", &[]).await, "start").await;
    let pk = &options["publicKey"];
    // bound to localhost (the loopback alias), discoverable, always user-verified, and the
    // user id it stores on the device names nobody
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    let user_id = unb64(pk["user"]["id"].as_str().expect("user id"));
    assert_eq!(user_id.len(), 16);
    assert!(!String::from_utf8_lossy(&user_id).contains(&m.email));
    let (mut auth, answer) = Authenticator::create(&options, &origin(&app));
    let added = app
        .call_fn(
            "passkey_register_finish",
            &[("credential", &answer), ("name", "Work laptop")],
        )
        .await;
    assert_eq!(added.status(), 200, "{:?}", error_of(added).await);
    // the same answer again: its challenge is used up
    let again = app
        .call_fn(
            "passkey_register_finish",
            &[("credential", &answer), ("name", "Again")],
        )
        .await;
    let (status, body) = error_of(again).await;
    assert_eq!(status, 422);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("already used"));
    let list = account(&app).await["passkeys"]["list"].clone();
    assert_eq!(list.as_array().expect("list").len(), 1);
    assert_eq!(list[0]["name"], "Work laptop");
    assert_eq!(list[0]["last_used_at"], Value::Null);

    // another browser: no address, no password
    let other = app.new_browser();
    let options = json_of(
        other.call_fn("passkey_login_start", &[]).await,
        "login start",
    )
    .await;
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "a password-less login names no account: {options}"
    );
    let answer = auth.get(&options, &origin(&other), true);
    let res = other
        .call_fn("passkey_login_finish", &[("credential", &answer)])
        .await;
    assert_eq!(res.status(), 200, "{:?}", error_of(res).await);
    assert_eq!(me(&other).await["email"], m.email.as_str());
    // its answer is spent: replayed from a third browser, or by the same one, it opens nothing
    let third = app.new_browser();
    json_of(third.call_fn("passkey_login_start", &[]).await, "start").await;
    let replayed = third
        .call_fn("passkey_login_finish", &[("credential", &answer)])
        .await;
    assert_eq!(replayed.status(), 422);
    assert_eq!(me(&third).await, Value::Null);
    let audit = account(&app).await["audit"].clone();
    let lines: Vec<(String, String)> = audit
        .as_array()
        .expect("audit")
        .iter()
        .map(|l| {
            (
                l["action"].as_str().unwrap_or_default().to_string(),
                l["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(lines.contains(&("account.passkey_added".into(), "Work laptop".into())));
    assert!(lines.contains(&(
        "account.signed_in".into(),
        "with the passkey Work laptop".into()
    )));
    assert!(account(&app).await["passkeys"]["list"][0]["last_used_at"].is_i64());
}

#[tokio::test]
async fn a_counter_that_does_not_move_on_is_refused_as_a_cloned_passkey() {
    let app = spawn_app().await;
    app.signed_up().await;
    let mut auth = register(&app, "Key").await;
    let browser = app.new_browser();
    let ok = passkey_login(&browser, &mut auth).await;
    assert_eq!(ok.status(), 200);
    // a copy of the key that kept the old counter signs a fresh challenge
    let clone = app.new_browser();
    let options = json_of(clone.call_fn("passkey_login_start", &[]).await, "start").await;
    let answer = auth.get(&options, &origin(&clone), false);
    let res = clone
        .call_fn("passkey_login_finish", &[("credential", &answer)])
        .await;
    assert_unverified(res).await;
    assert_eq!(me(&clone).await, Value::Null);
    // a signature by another key under the same credential id
    let (mut forger, _) = Authenticator::create(
        &json!({"publicKey": {"rp": {"id": "localhost"}, "user": {"id": b64(&auth.user_handle)}, "challenge": "AA"}}),
        &origin(&app),
    );
    forger.credential_id = auth.credential_id.clone();
    forger.counter = auth.counter + 10;
    let res = passkey_login(&clone, &mut forger).await;
    assert_unverified(res).await;
    assert_eq!(me(&clone).await, Value::Null);
    // an answer for another site (origin) is refused too
    let options = json_of(clone.call_fn("passkey_login_start", &[]).await, "start").await;
    let answer = auth.get(&options, "https://evil.example", true);
    let res = clone
        .call_fn("passkey_login_finish", &[("credential", &answer)])
        .await;
    assert_unverified(res).await;
    assert_eq!(me(&clone).await, Value::Null);
    // and the real key, its counter moved on, still works
    let res = passkey_login(&clone, &mut auth).await;
    assert_eq!(res.status(), 200, "{:?}", error_of(res).await);
    assert!(me(&clone).await["email"].is_string());
}

#[tokio::test]
async fn fifty_browsers_racing_with_one_answer_log_in_once() {
    let app = spawn_app().await;
    app.signed_up().await;
    let mut auth = register(&app, "Key").await;
    let browser = app.new_browser();
    let options = json_of(browser.call_fn("passkey_login_start", &[]).await, "start").await;
    let answer = auth.get(&options, &origin(&browser), true);
    let token = browser.csrf_token().await;
    let statuses = join_all((0..50).map(|_| {
        browser
            .client
            .post(browser.url("/fn/passkey_login_finish"))
            .header("accept", "application/json")
            .header("origin", &browser.address)
            .form(&[("credential", answer.as_str()), ("csrf_token", &token)])
            .send()
    }))
    .await
    .into_iter()
    .map(|r| r.expect("response").status().as_u16())
    .collect::<Vec<_>>();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "exactly one login: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 403, 422, 429].contains(s)),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn adding_a_passkey_needs_a_fresh_login_and_an_account_has_at_most_ten() {
    let app = spawn_app().await;
    app.signed_up().await;
    app.clock.advance(301);
    let res = app.call_fn("passkey_register_start", &[]).await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("confirm"));
    app.confirm_identity().await;
    for i in 0..10 {
        register(&app, &format!("Key {i}")).await;
    }
    let res = app.call_fn("passkey_register_start", &[]).await;
    assert_eq!(res.status(), 409);
    // a name is bounded too
    let list = account(&app).await["passkeys"]["list"].clone();
    assert_eq!(list.as_array().expect("list").len(), 10);
    // nobody logged in adds none
    let stranger = app.new_browser();
    let res = stranger.call_fn("passkey_register_start", &[]).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_removed_passkey_or_another_accounts_opens_nothing_and_only_its_account_removes_it() {
    let app = spawn_app().await;
    app.signed_up().await;
    let mut mine = register(&app, "Mine").await;
    let id = account(&app).await["passkeys"]["list"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let other = app.new_browser();
    other.signed_up().await;
    let mut theirs = register(&other, "Theirs").await;

    // another account cannot remove it, nor confirm itself with it
    let res = other.call_fn("remove_passkey", &[("id", &id)]).await;
    assert_eq!(res.status(), 404);
    let options = json_of(other.call_fn("passkey_check_start", &[]).await, "check").await;
    let allowed: Vec<&str> = options["publicKey"]["allowCredentials"]
        .as_array()
        .expect("allowCredentials")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(allowed, vec![b64(&theirs.credential_id).as_str()]);
    let answer = mine.get(&options, &origin(&other), true);
    let res = other
        .call_fn("passkey_check_finish", &[("credential", &answer)])
        .await;
    assert_unverified(res).await;
    // its own passkey confirms it: the fresh-login window opens again after 5 minutes
    other.clock.advance(301);
    assert_eq!(
        other.call_fn("passkey_register_start", &[]).await.status(),
        403
    );
    let options = json_of(other.call_fn("passkey_check_start", &[]).await, "check").await;
    let answer = theirs.get(&options, &origin(&other), true);
    let res = other
        .call_fn("passkey_check_finish", &[("credential", &answer)])
        .await;
    assert_eq!(res.status(), 200, "{:?}", error_of(res).await);
    assert_eq!(
        other.call_fn("passkey_register_start", &[]).await.status(),
        200
    );

    // removed by its account, it logs in no more
    app.confirm_identity().await;
    let res = app.call_fn("remove_passkey", &[("id", &id)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        account(&app).await["passkeys"]["list"]
            .as_array()
            .expect("list")
            .len(),
        0
    );
    let browser = app.new_browser();
    let res = passkey_login(&browser, &mut mine).await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 422);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("not registered"));
    assert_eq!(me(&browser).await, Value::Null);
}

#[tokio::test]
async fn a_passkey_stands_in_for_the_app_code_at_the_second_step_only_for_its_account() {
    let app = spawn_app().await;
    let m = Merchant::generate();
    app.sign_up(&m).await;
    let mut auth = register(&app, "Phone").await;
    crate::account::turn_on_two_factor(&app, &m).await;
    app.log_out().await;

    // a password-less login is not stopped by two-factor: the passkey is both factors
    let res = passkey_login(&app.new_browser(), &mut auth).await;
    assert_eq!(res.status(), 200);

    // the password leads to the second step; a passkey finishes it
    let browser = app.new_browser();
    let res = browser.log_in(&m.email, &m.password).await;
    assert_eq!(res.status(), 200);
    assert_eq!(me(&browser).await, Value::Null);
    let options = json_of(browser.call_fn("passkey_check_start", &[]).await, "check").await;
    let answer = auth.get(&options, &origin(&browser), true);
    let res = browser
        .call_fn("passkey_check_finish", &[("credential", &answer)])
        .await;
    assert_eq!(res.status(), 200, "{:?}", error_of(res).await);
    assert_eq!(me(&browser).await["email"], m.email.as_str());

    // without a password first, the second step has nobody to check
    let stranger = app.new_browser();
    let res = stranger.call_fn("passkey_check_start", &[]).await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn the_login_page_offers_passkeys_by_a_small_hashed_script_and_says_where_they_work() {
    let app = spawn_app().await;
    let html = app.page_html("/login").await;
    let doc = scraper::Html::parse_document(&html);
    let attr = |selector: &str, name: &str| {
        let sel = scraper::Selector::parse(selector).expect("selector");
        doc.select(&sel)
            .next()
            .and_then(|e| e.value().attr(name).map(String::from))
    };
    assert_eq!(
        attr("meta[name='passkey-origin']", "content").as_deref(),
        Some(origin(&app).as_str())
    );
    // the button waits, hidden, for the script to find WebAuthn in the browser
    assert_eq!(
        attr("[data-passkey-box] button[data-passkey='login']", "id").as_deref(),
        Some("passkey-login")
    );
    assert!(attr("[data-passkey-box]", "hidden").is_some());
    let src = attr("script[type='module'][src^='/assets/auth/']", "src").expect("script");
    let res = app.client.get(app.url(&src)).send().await.expect("script");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let body = res.text().await.expect("body");
    assert!(body.contains("navigator.credentials.get"));
    assert!(body.len() < 16 * 1024, "{} bytes", body.len());
    // a name that is not today's is not cached as if it were
    let stale = app
        .client
        .get(app.url("/assets/auth/0000000000000000"))
        .send()
        .await
        .expect("stale");
    assert_eq!(stale.headers()["cache-control"], "no-cache");
}
