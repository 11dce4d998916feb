//! Teams (issue 19): invitations by mail (single use, seven days, for one address), roles
//! checked on every server function and on the browsable API, the founder always an owner, a
//! removed member refused from the next request on, and every change in the audit log.

use reqwest::header::{ACCEPT, ORIGIN};
use serde_json::Value;

use crate::support::{error_of, join_all, link_token, me, spawn_app, Merchant, TestApp};

/// Invites `email` with `role` from `app` (logged in); answers the mailed token.
async fn invite(app: &TestApp, email: &str, role: &str) -> String {
    let before = app.mails_to(email).len();
    let res = app
        .call_fn("invite_member", &[("email", email), ("role", role)])
        .await;
    assert_eq!(res.status(), 200, "invite {email} as {role}");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mails = app.mails_to(email);
        if mails.len() > before {
            let mail = mails.last().expect("mail").clone();
            assert!(mail.subject.contains("invites you"), "{}", mail.subject);
            return link_token(&mail.text, "/invite").expect("invitation link");
        }
        assert!(
            std::time::Instant::now() < until,
            "no invitation to {email}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A new browser that signs up as `email` (without verifying it) and accepts `token`.
async fn join(app: &TestApp, email: &str, token: &str) -> TestApp {
    let browser = app.new_browser();
    let mut m = Merchant::generate();
    m.email = email.to_string();
    assert_eq!(browser.sign_up_unverified(&m).await.status(), 200);
    let res = browser
        .call_fn("accept_invitation", &[("token", token)])
        .await;
    assert_eq!(res.status(), 200, "accept");
    browser
}

async fn change(who: &TestApp, account_id: &str, role: &str) -> u16 {
    who.call_fn("change_role", &[("account_id", account_id), ("role", role)])
        .await
        .status()
        .as_u16()
}

async fn get_fn(app: &TestApp, name: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/fn/{name}")))
        .send()
        .await
        .expect("GET server fn")
}

/// The fields of a confidential client registered from the OAuth tab.
const CLIENT_FORM: [(&str, &str); 5] = [
    ("name", "Backend"),
    ("client_type", "confidential"),
    ("redirect_uris", ""),
    ("scopes", "customers:read"),
    ("audiences", ""),
];

fn tag() -> String {
    subgate::crypto::random_token(6).to_lowercase()
}

/// A business (its owner logged in to `app`) with one member of each other role, each in its
/// own browser: (owner, admin, developer, viewer).
async fn team(app: &TestApp) -> (Merchant, TestApp, TestApp, TestApp) {
    let owner = app.signed_up().await;
    let t = tag();
    let mut members = Vec::new();
    for role in ["admin", "developer", "viewer"] {
        let email = format!("{role}-{t}@team.test");
        let token = invite(app, &email, role).await;
        members.push(join(app, &email, &token).await);
    }
    let viewer = members.pop().expect("viewer");
    let developer = members.pop().expect("developer");
    let admin = members.pop().expect("admin");
    (owner, admin, developer, viewer)
}

#[tokio::test]
async fn an_invitation_joins_once_only_for_its_address_and_not_after_seven_days() {
    let app = spawn_app().await;
    let owner = app.signed_up().await;
    let business = app.merchant_id().await;
    let email = format!("Dev-{}@Team.test", tag());
    let token = invite(&app, &email, "developer").await;

    // opening the link changes nothing and says what it offers
    let preview: Value = app
        .new_browser()
        .client
        .get(app.url(&format!("/fn/invitation?token={token}")))
        .send()
        .await
        .expect("preview")
        .json()
        .await
        .expect("json");
    assert_eq!(preview["role"], "developer");
    assert_eq!(preview["business_name"], owner.business_name.as_str());
    assert_eq!(preview["email"], email.to_lowercase().as_str());

    // another address cannot use it, and does not use it up
    let stranger = app.new_browser();
    stranger.signed_up().await;
    let res = stranger
        .call_fn("accept_invitation", &[("token", &token)])
        .await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("another address"));

    // the invited address (any case) joins with the role, and its address counts as verified;
    // concurrent accepts: exactly one joins
    let invitee = app.new_browser();
    let mut m = Merchant::generate();
    m.email = email.to_uppercase();
    assert_eq!(invitee.sign_up_unverified(&m).await.status(), 200);
    let invitee = &invitee;
    let token = token.as_str();
    let tries = (0..10).map(|_| async move {
        invitee
            .call_fn("accept_invitation", &[("token", token)])
            .await
    });
    let statuses: Vec<u16> = join_all(tries)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 404 || *s == 409),
        "{statuses:?}"
    );
    let now = me(invitee).await;
    assert_eq!(
        now["id"],
        business.as_str(),
        "the dashboard shows the business joined"
    );
    assert_eq!(now["role"], "developer");
    assert_eq!(now["email_verified"], true);

    // used: a replay is refused
    let res = invitee
        .call_fn("accept_invitation", &[("token", token)])
        .await;
    assert_eq!(res.status(), 404);

    // seven days and a second later, an unused invitation is dead
    let late = format!("late-{}@team.test", tag());
    let late_token = invite(&app, &late, "viewer").await;
    app.clock.advance(7 * 86_400 + 1);
    let latecomer = app.new_browser();
    let mut m = Merchant::generate();
    m.email = late;
    assert_eq!(latecomer.sign_up_unverified(&m).await.status(), 200);
    let res = latecomer
        .call_fn("accept_invitation", &[("token", &late_token)])
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        me(&latecomer).await["role"],
        "owner",
        "still only its own business"
    );
}

/// Each action with the lowest role allowed to do it; every role below is refused with 403.
#[tokio::test]
async fn every_role_is_refused_each_action_above_it_and_allowed_the_rest() {
    let app = spawn_app().await;
    let (_, admin, developer, viewer) = team(&app).await;
    let roles: [(&str, &TestApp); 4] = [
        ("viewer", &viewer),
        ("developer", &developer),
        ("admin", &admin),
        ("owner", &app),
    ];
    let rank = |r: &str| {
        ["viewer", "developer", "admin", "owner"]
            .iter()
            .position(|x| *x == r)
    };
    let t = tag();
    for (role, who) in roles {
        let email = format!("new-{role}-{t}@team.test");
        // (the lowest role allowed, the server function, its fields)
        type Action<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);
        let actions: Vec<Action> = vec![
            ("developer", "create_client", CLIENT_FORM.to_vec()),
            ("developer", "push_demo_customer", vec![]),
            (
                "admin",
                "invite_member",
                vec![("email", &email), ("role", "viewer")],
            ),
            ("admin", "start_connect", vec![]),
            ("admin", "enable_sso", vec![]),
            ("admin", "reveal_sso_secrets", vec![]),
        ];
        for (needs, name, fields) in actions {
            let res = who.call_fn(name, &fields).await;
            let status = res.status().as_u16();
            if rank(role) < rank(needs) {
                let (status, body) = error_of(res).await;
                assert_eq!(status, 403, "{role} must not {name}");
                let message = body["message"].as_str().expect("message");
                assert!(
                    message.contains(&format!("is {role}")),
                    "{role} {name}: {message}"
                );
            } else {
                assert_ne!(status, 403, "{role} may {name}: {:?}", error_of(res).await);
                assert!(status < 500, "{role} {name}: {status}");
            }
        }
        // reading is for everyone
        for name in [
            "list_clients",
            "overview",
            "sso_status",
            "connection_status",
            "team",
        ] {
            assert_eq!(get_fn(who, name).await.status(), 200, "{role} reads {name}");
        }
        // the audit log (and its CSV) is for admins and owners
        let csv = who.get_page("/dashboard/account/audit.csv").await.status();
        assert_eq!(
            csv == 200,
            rank(role) >= rank("admin"),
            "{role} audit.csv: {csv}"
        );
        // the browsable API: a viewer reads, but does not write
        let token = who.csrf_token().await;
        let res = who
            .client
            .post(who.url("/api/customers"))
            .header(ORIGIN, &who.address)
            .header(ACCEPT, "application/json")
            .header("x-csrf-token", &token)
            .json(&serde_json::json!({"subscriber_id": "1", "customer_id": "cus_x"}))
            .send()
            .await
            .expect("api");
        assert_eq!(
            res.status() == 403,
            role == "viewer",
            "{role} POST /api/customers: {}",
            res.status()
        );
        let res = who
            .client
            .get(who.url("/api/customers"))
            .send()
            .await
            .expect("api");
        assert_eq!(res.status(), 200, "{role} GET /api/customers");
    }
}

#[tokio::test]
async fn the_founder_stays_owner_and_only_owners_touch_owners() {
    let app = spawn_app().await;
    let (_, admin, developer, _) = team(&app).await;
    let founder = app.merchant_id().await;
    let members: Value = get_fn(&app, "team").await.json().await.expect("team");
    let id_of = |role: &str| {
        members["members"]
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["role"] == role)
            .map(|m| m["account_id"].as_str().expect("id").to_string())
            .expect("member")
    };
    let (admin_id, dev_id, viewer_id) = (id_of("admin"), id_of("developer"), id_of("viewer"));
    // an admin cannot demote the founder, make an owner, or remove one
    assert_eq!(change(&admin, &founder, "viewer").await, 403);
    assert_eq!(change(&admin, &dev_id, "owner").await, 403);
    assert_eq!(change(&admin, &dev_id, "viewer").await, 200);
    // an owner can make an owner; then an admin cannot remove that owner
    assert_eq!(change(&app, &dev_id, "owner").await, 200);
    let res = admin
        .call_fn("remove_member", &[("account_id", &dev_id)])
        .await;
    assert_eq!(res.status(), 403);
    // the second owner cannot demote or remove the founder; the founder cannot leave
    assert_eq!(change(&developer, &founder, "admin").await, 403);
    let res = developer
        .call_fn("remove_member", &[("account_id", &founder)])
        .await;
    assert_eq!(res.status(), 403);
    let res = app.call_fn("leave_business", &[]).await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("stay its owner"));
    // two owners demoting each other at once: the founder is untouched whatever the order
    let (a, b) = tokio::join!(
        change(&developer, &founder, "viewer"),
        change(&app, &dev_id, "viewer")
    );
    assert_eq!((a, b), (403, 200));
    // the second owner, now a viewer, may still leave; the others are unchanged
    let res = developer.call_fn("leave_business", &[]).await;
    assert_eq!(res.status(), 200);
    let members: Value = get_fn(&app, "team").await.json().await.expect("team");
    let roles: Vec<(String, String)> = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["account_id"].as_str().expect("id").into(),
                m["role"].as_str().expect("role").into(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            (founder, "owner".into()),
            (admin_id, "admin".into()),
            (viewer_id, "viewer".into())
        ]
    );
}

#[tokio::test]
async fn a_removed_member_is_refused_from_the_next_request_and_sees_its_own_business() {
    let app = spawn_app().await;
    app.signed_up().await;
    let email = format!("dev-{}@team.test", tag());
    let token = invite(&app, &email, "developer").await;
    let dev = join(&app, &email, &token).await;
    let business = app.merchant_id().await;
    // what the developer creates belongs to the business, not to the developer's own
    let res = dev.call_fn("create_client", &CLIENT_FORM).await;
    assert_eq!(res.status(), 200);
    let clients: Value = get_fn(&app, "list_clients")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        clients.as_array().expect("list").len(),
        1,
        "the owner sees it"
    );
    let dev_id = me(&dev).await["id"].as_str().expect("id").to_string();
    assert_eq!(dev_id, business);

    let members: Value = get_fn(&app, "team").await.json().await.expect("team");
    let account = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["role"] == "developer")
        .map(|m| m["account_id"].as_str().expect("id").to_string())
        .expect("dev");
    let res = app
        .call_fn("remove_member", &[("account_id", &account)])
        .await;
    assert_eq!(res.status(), 200);
    let res = get_fn(&dev, "list_clients").await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("no longer a member"));
    // the next request shows the account's own, empty business
    let own = me(&dev).await;
    assert_eq!(own["id"], account.as_str());
    assert_eq!(own["role"], "owner");
    let clients: Value = get_fn(&dev, "list_clients")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(clients.as_array().expect("list").len(), 0);
}

#[tokio::test]
async fn invitations_are_limited_per_hour_even_when_sent_at_once() {
    let app = spawn_app().await;
    app.signed_up().await;
    let t = tag();
    let emails: Vec<String> = (0..50).map(|i| format!("m{i}-{t}@team.test")).collect();
    let sends = emails.iter().map(|e| {
        let app = &app;
        async move {
            app.call_fn("invite_member", &[("email", e), ("role", "viewer")])
                .await
        }
    });
    let statuses: Vec<u16> = join_all(sends)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        30,
        "{statuses:?}"
    );
    let team: Value = get_fn(&app, "team").await.json().await.expect("team");
    assert_eq!(team["invitations"].as_array().expect("list").len(), 20);
}

#[tokio::test]
async fn each_team_change_is_in_the_audit_log_with_the_actors_role() {
    let app = spawn_app().await;
    app.signed_up().await;
    let email = format!("dev-{}@team.test", tag());
    let token = invite(&app, &email, "developer").await;
    app.clock.advance(1);
    let dev = join(&app, &email, &token).await;
    app.clock.advance(1);
    let other = format!("gone-{}@team.test", tag());
    invite(&app, &other, "viewer").await;
    app.clock.advance(1);
    let team: Value = get_fn(&app, "team").await.json().await.expect("team");
    let invitation = team["invitations"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let res = app
        .call_fn("revoke_invitation", &[("id", &invitation)])
        .await;
    assert_eq!(res.status(), 200);
    app.clock.advance(1);
    let dev_id = team["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["role"] == "developer")
        .map(|m| m["account_id"].as_str().expect("id").to_string())
        .expect("dev");
    let res = app
        .call_fn("change_role", &[("account_id", &dev_id), ("role", "admin")])
        .await;
    assert_eq!(res.status(), 200);
    app.clock.advance(1);
    // the developer, now admin, creates a client: the business's log names them and their role
    let res = dev.call_fn("create_client", &CLIENT_FORM).await;
    assert_eq!(res.status(), 200);
    app.clock.advance(1);
    let res = app
        .call_fn("remove_member", &[("account_id", &dev_id)])
        .await;
    assert_eq!(res.status(), 200);

    let account: Value = get_fn(&app, "account?action=member.")
        .await
        .json()
        .await
        .expect("json");
    let lines: Vec<(String, String, String)> = account["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_string(),
                e["role"].as_str().unwrap_or_default().to_string(),
                e["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let actions: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "member.removed",
            "member.role_changed",
            "member.invitation_revoked",
            "member.invited",
            "member.joined",
            "member.invited",
        ],
        "{lines:?}"
    );
    assert_eq!(lines[1].1, "owner");
    assert!(lines[1].2.contains("developer → admin"), "{lines:?}");
    assert_eq!(lines[4].1, "developer", "joined with the invited role");
    let everything: Value = get_fn(&app, "account?action=client.")
        .await
        .json()
        .await
        .expect("json");
    let created = &everything["audit"][0];
    assert_eq!(created["action"], "client.created");
    assert_eq!(created["actor"], email.as_str());
    assert_eq!(created["role"], "admin");
}
