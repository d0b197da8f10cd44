//! Accounts under hostile load, over HTTP: the signup limit per client address (shared by every
//! instance), and device cookies that keep an owner logging in from a browser they used before
//! while others' failures lock their username.

mod common;

use common::{Api, PWD, TestApp, assert_error, spawn_app_with};
use lib_core::{Clock, Config};
use reqwest::StatusCode;
use reqwest::header::{RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const SIGNUPS_PER_ADDR: u32 = 3;
const SIGNUP_WINDOW: Duration = Duration::from_secs(3600);
const FAILS_PER_USER: u32 = 3;

fn small_signup_limit(config: &mut Config) {
    config.signups_per_addr = SIGNUPS_PER_ADDR;
    config.signup_window = SIGNUP_WINDOW;
}

fn small_login_limit(config: &mut Config) {
    config.login_fails_per_user = FAILS_PER_USER;
}

async fn signup(api: &Api, username: &str) -> (StatusCode, Value) {
    api.post("/api/signup", json!({"username": username, "pwd": PWD})).await
}

async fn login(api: &Api, username: &str, pwd: &str) -> StatusCode {
    api.post("/api/login", json!({"username": username, "pwd": pwd})).await.0
}

/// Asserts a throttled answer: 429, `TooManyAttempts`, `Retry-After` and `retry_after_ms`
/// within `window`.
async fn assert_throttled(response: reqwest::Response, window: Duration) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers().get(RETRY_AFTER).expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=window.as_secs()).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_error(&body["error"], -32029, "TooManyAttempts");
    let ms = body["error"]["data"]["retry_after_ms"].as_u64().expect("retry_after_ms");
    assert!(ms >= 1 && u128::from(ms) <= window.as_millis(), "{body}");
}

/// A second instance of the server with the same configuration, database and clock, as behind a
/// load balancer; answers a client of it.
async fn second_instance(app: &TestApp) -> Api {
    let mm = web_server::prepare(&app.config, app.clock.clone() as Arc<dyn Clock>).await.expect("prepare");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // It stops with the test's runtime.
    let listeners = web_server::Listeners { public: listener, admin: None };
    tokio::spawn(web_server::serve(app.config.clone(), mm, listeners, std::future::pending()));
    Api { http: reqwest::Client::builder().cookie_store(true).build().unwrap(), base }
}

/// `FAILS_PER_USER` wrong passwords for `username`, each from its own loopback address.
async fn fail_from_elsewhere(app: &TestApp, username: &str) {
    for i in 0..FAILS_PER_USER {
        let attacker = app.client_from(&format!("127.0.0.{}", 10 + i));
        assert_eq!(login(&attacker, username, "wrong password").await, StatusCode::UNAUTHORIZED);
    }
}

/// The `Set-Cookie` values of a response, by cookie name.
fn set_cookies(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| {
            let value = value.to_str().unwrap().to_string();
            (value.split('=').next().unwrap().to_string(), value)
        })
        .collect()
}

fn device_token(set_cookie: &str) -> &str {
    set_cookie.strip_prefix("device=").unwrap().split(';').next().unwrap()
}

#[tokio::test]
async fn signups_from_one_address_stop_at_the_limit_while_other_addresses_sign_up() {
    let app = spawn_app_with(small_signup_limit).await;
    let here = app.client();
    assert_eq!(signup(&here, "alice").await.0, StatusCode::OK);
    // A taken name counts too: it cost the check, and it tells the caller the name exists.
    assert_eq!(signup(&here, "ALICE").await.0, StatusCode::CONFLICT);
    assert_eq!(signup(&here, "bob").await.0, StatusCode::OK);

    let refused = here.http.post(app.url("/api/signup")).json(&json!({"username": "carol", "pwd": PWD}));
    assert_throttled(refused.send().await.unwrap(), SIGNUP_WINDOW).await;
    assert_eq!(login(&here, "carol", PWD).await, StatusCode::UNAUTHORIZED, "the refused signup made nothing");
    assert_eq!(login(&here, "bob", PWD).await, StatusCode::OK, "the address may still log in");

    let elsewhere = app.client_from("127.0.0.2");
    assert_eq!(signup(&elsewhere, "carol").await.0, StatusCode::OK, "another address has its own limit");

    app.clock.advance(SIGNUP_WINDOW);
    assert_eq!(signup(&here, "dave").await.0, StatusCode::OK, "the window has passed");
}

#[tokio::test]
async fn the_signup_limit_holds_across_instances() {
    let app = spawn_app_with(small_signup_limit).await;
    let peer = second_instance(&app).await;
    let here = app.client();
    for i in 0..SIGNUPS_PER_ADDR {
        let api = if i % 2 == 0 { &here } else { &peer };
        assert_eq!(signup(api, &format!("user{i}")).await.0, StatusCode::OK, "signup {i}");
    }
    for api in [&here, &peer] {
        let refused = api.http.post(format!("{}/api/signup", api.base)).json(&json!({"username": "late", "pwd": PWD}));
        assert_throttled(refused.send().await.unwrap(), SIGNUP_WINDOW).await;
    }
}

#[tokio::test]
async fn failures_from_elsewhere_lock_the_username_but_not_the_owners_device() {
    let app = spawn_app_with(small_login_limit).await;
    let owner = app.client();
    assert_eq!(signup(&owner, "alice").await.0, StatusCode::OK);
    assert_eq!(login(&owner, "alice", PWD).await, StatusCode::OK, "the owner's browser gets its device cookie");

    fail_from_elsewhere(&app, "alice").await;
    let attacker = app.client_from("127.0.0.20");
    let with_the_password = attacker.http.post(app.url("/api/login")).json(&json!({"username": "alice", "pwd": PWD}));
    assert_throttled(with_the_password.send().await.unwrap(), app.config.login_window).await;
    assert_eq!(
        login(&app.client(), "alice", PWD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "another browser at the owner's address has no device cookie: the v1 rules hold"
    );

    assert_eq!(login(&owner, "alice", PWD).await, StatusCode::OK, "the owner's browser logs in");
    assert_eq!(owner.ok("get_me", json!({})).await["username"], "alice");
    assert_eq!(login(&attacker, "alice", PWD).await, StatusCode::TOO_MANY_REQUESTS, "still locked for others");
}

#[tokio::test]
async fn a_devices_own_failures_throttle_that_device_and_not_the_username() {
    let app = spawn_app_with(small_login_limit).await;
    let owner = app.client();
    signup(&owner, "alice").await;
    assert_eq!(login(&owner, "alice", PWD).await, StatusCode::OK);
    for _ in 0..FAILS_PER_USER {
        assert_eq!(login(&owner, "alice", "wrong password").await, StatusCode::UNAUTHORIZED);
    }
    let again = owner.http.post(app.url("/api/login")).json(&json!({"username": "alice", "pwd": PWD}));
    assert_throttled(again.send().await.unwrap(), app.config.login_window).await;

    let other_browser = app.client_from("127.0.0.2");
    assert_eq!(login(&other_browser, "alice", PWD).await, StatusCode::OK, "the device's failures are its own");
    app.clock.advance(app.config.login_window);
    assert_eq!(login(&owner, "alice", PWD).await, StatusCode::OK, "the device's window has passed");
}

#[tokio::test]
async fn a_device_cookie_helps_only_the_account_it_was_issued_for() {
    let app = spawn_app_with(small_login_limit).await;
    let browser = app.client();
    signup(&browser, "alice").await;
    signup(&browser, "bob").await;
    assert_eq!(login(&browser, "alice", PWD).await, StatusCode::OK, "the browser's device is alice's");

    fail_from_elsewhere(&app, "bob").await;
    assert_eq!(login(&browser, "bob", PWD).await, StatusCode::TOO_MANY_REQUESTS, "alice's device does not help bob");
}

#[tokio::test]
async fn made_up_and_expired_device_cookies_get_the_v1_rules() {
    let app = spawn_app_with(small_login_limit).await;
    let owner = app.client();
    signup(&owner, "alice").await;
    assert_eq!(login(&owner, "alice", PWD).await, StatusCode::OK);
    // A year without a login with it: the device is forgotten.
    app.clock.advance(Duration::from_secs(365 * 24 * 3600));
    fail_from_elsewhere(&app, "alice").await;
    assert_eq!(login(&owner, "alice", PWD).await, StatusCode::TOO_MANY_REQUESTS);

    let made_up = format!("device={}", lib_auth::SessionToken::generate().as_str());
    for cookie in [made_up.as_str(), "device=", "device=not a token"] {
        let response = reqwest::Client::new()
            .post(app.url("/api/login"))
            .header(reqwest::header::COOKIE, cookie)
            .json(&json!({"username": "alice", "pwd": PWD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{cookie}");
    }
}

#[tokio::test]
async fn login_sets_a_long_lived_strict_device_cookie_for_the_login_path_only() {
    for secure in [false, true] {
        let app = spawn_app_with(|config| config.cookie_secure = secure).await;
        let browser = app.client();
        signup(&browser, "alice").await;
        let response = browser
            .http
            .post(app.url("/api/login"))
            .json(&json!({"username": "alice", "pwd": PWD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cookies = set_cookies(&response);
        let names: Vec<&str> = cookies.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["auth-token", "device"], "the session cookie first, as before");
        let device = &cookies[1].1;
        assert_eq!(device_token(device).len(), 43, "256 random bits in base64url: {device}");
        let attributes: Vec<&str> = device.split("; ").skip(1).collect();
        let mut expected = vec!["HttpOnly", "SameSite=Strict", "Path=/api/login", "Max-Age=31536000"];
        if secure {
            expected.push("Secure");
        }
        assert_eq!(attributes, expected, "{device}");

        // The browser sends it back: the same device is kept and its cookie renewed.
        let again = browser
            .http
            .post(app.url("/api/login"))
            .json(&json!({"username": "alice", "pwd": PWD}))
            .send()
            .await
            .unwrap();
        let renewed = &set_cookies(&again)[1].1;
        assert_eq!(device_token(renewed), device_token(device));
        // Another browser gets a device of its own.
        let other = app.client().http.post(app.url("/api/login")).json(&json!({"username": "alice", "pwd": PWD}));
        let other = other.send().await.unwrap();
        assert_ne!(device_token(&set_cookies(&other)[1].1), device_token(device));
    }
}

#[tokio::test]
async fn others_exhausting_the_usernames_password_work_do_not_block_the_owners_device() {
    let app = spawn_app_with(|config| {
        config.pwd_work_per_user = 4;
        // Only the password-work budget is under test here.
        config.login_fails_per_user = 100;
    })
    .await;
    let owner = app.client();
    signup(&owner, "alice").await;
    assert_eq!(login(&owner, "alice", PWD).await, StatusCode::OK, "one unit of alice's four");

    let mut refused = None;
    for i in 0..10 {
        let attacker = app.client_from(&format!("127.0.0.{}", 10 + i));
        match login(&attacker, "alice", "wrong password").await {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => {
                refused = Some(i);
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refused, Some(3), "three failures used up alice's budget");
    let attacker = app.client_from("127.0.0.30");
    let with_the_password = attacker.http.post(app.url("/api/login")).json(&json!({"username": "alice", "pwd": PWD}));
    assert_throttled(with_the_password.send().await.unwrap(), app.config.pwd_work_window).await;

    assert_eq!(login(&owner, "alice", PWD).await, StatusCode::OK, "the device has a budget of its own");
}
