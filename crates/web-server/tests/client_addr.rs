//! The client address the throttles count (`TRUSTED_PROXIES`): behind a trusted proxy, the
//! rightmost address of `X-Forwarded-For` that is not itself trusted; otherwise the TCP peer,
//! whatever the header says. Seen through the login throttle per address.

mod common;

use common::spawn_app_with;
use lib_core::Config;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};

const FAILS_PER_ADDR: u32 = 3;

/// Only the per-address login throttle can answer 429 here: every attempt names a new user, and
/// the password-work budget per address is out of reach.
fn throttle_per_addr_only(config: &mut Config, trusted: &[&str]) {
    config.login_fails_per_addr = FAILS_PER_ADDR;
    config.login_fails_per_user = 1000;
    config.pwd_work_per_addr = 100_000;
    config.trusted_proxies = trusted.iter().map(|network| network.parse().unwrap()).collect();
}

/// A failed login (a user that does not exist) with one `X-Forwarded-For` line per entry of
/// `forwarded`.
async fn failed_login(app: &common::TestApp, forwarded: &[&str]) -> StatusCode {
    static ATTEMPT: AtomicU32 = AtomicU32::new(0);
    let username = format!("nobody{}", ATTEMPT.fetch_add(1, Ordering::Relaxed));
    let mut request = reqwest::Client::new()
        .post(app.url("/api/login"))
        .json(&json!({"username": username, "pwd": "wrong password"}));
    for line in forwarded {
        request = request.header("x-forwarded-for", *line);
    }
    request.send().await.unwrap().status()
}

/// Fails `FAILS_PER_ADDR` times as `forwarded`, all answered 401.
async fn use_up_the_address(app: &common::TestApp, forwarded: &[&str]) {
    for attempt in 0..FAILS_PER_ADDR {
        assert_eq!(failed_login(app, forwarded).await, StatusCode::UNAUTHORIZED, "attempt {attempt} as {forwarded:?}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_throttle() {
    let app = spawn_app_with(|config| throttle_per_addr_only(config, &["127.0.0.1/32"])).await;
    use_up_the_address(&app, &["10.0.0.1"]).await;
    assert_eq!(failed_login(&app, &["10.0.0.1"]).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(failed_login(&app, &["10.0.0.2"]).await, StatusCode::UNAUTHORIZED, "another client");
    assert_eq!(failed_login(&app, &[]).await, StatusCode::UNAUTHORIZED, "the proxy's own address");
}

#[tokio::test]
async fn without_trusted_proxies_a_changing_x_forwarded_for_does_not_escape_the_throttle() {
    let app = spawn_app_with(|config| throttle_per_addr_only(config, &[])).await;
    for attempt in 0..FAILS_PER_ADDR {
        let forwarded = format!("10.0.0.{attempt}");
        assert_eq!(failed_login(&app, &[&forwarded]).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(failed_login(&app, &["10.0.0.99"]).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(failed_login(&app, &[]).await, StatusCode::TOO_MANY_REQUESTS, "the TCP peer is counted");
}

#[tokio::test]
async fn a_peer_that_is_not_trusted_cannot_pick_its_address() {
    // Trusted: another proxy, not the test's own 127.0.0.1.
    let app = spawn_app_with(|config| throttle_per_addr_only(config, &["127.0.0.2/32"])).await;
    use_up_the_address(&app, &["10.0.0.1"]).await;
    assert_eq!(failed_login(&app, &["10.0.0.2"]).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_rightmost_address_that_is_not_trusted_is_the_client() {
    let app = spawn_app_with(|config| throttle_per_addr_only(config, &["127.0.0.1/32"])).await;
    use_up_the_address(&app, &["10.9.9.9, 10.0.0.1"]).await;
    assert_eq!(failed_login(&app, &["10.0.0.1"]).await, StatusCode::TOO_MANY_REQUESTS, "keyed on 10.0.0.1");
    assert_eq!(failed_login(&app, &["10.9.9.9"]).await, StatusCode::UNAUTHORIZED, "written by the client");
}

#[tokio::test]
async fn trusted_hops_are_skipped_from_the_right() {
    let app = spawn_app_with(|config| throttle_per_addr_only(config, &["127.0.0.1/32", "10.0.0.1/32"])).await;
    use_up_the_address(&app, &["10.9.9.9, 10.0.0.1"]).await;
    assert_eq!(failed_login(&app, &["10.9.9.9"]).await, StatusCode::TOO_MANY_REQUESTS, "keyed on 10.9.9.9");
    assert_eq!(failed_login(&app, &["10.0.0.1"]).await, StatusCode::UNAUTHORIZED, "only trusted: itself");
    // Two header lines are one list; the client's own garbage left of its address is never read.
    assert_eq!(
        failed_login(&app, &["garbage", "10.9.9.9, 10.0.0.1"]).await,
        StatusCode::TOO_MANY_REQUESTS,
        "still keyed on 10.9.9.9"
    );
}
