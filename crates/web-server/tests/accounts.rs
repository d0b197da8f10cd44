//! Sign-up, login, cookies, logoff, tokens, expiry and throttling over HTTP.

mod common;

use common::{PWD, assert_error, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use reqwest::header::{RETRY_AFTER, SET_COOKIE};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn signup_validates_and_refuses_taken_usernames_in_any_case() {
    let app = spawn_app().await;
    let api = app.client();
    let (status, body) = api.post("/api/signup", json!({"username": "alice", "pwd": PWD})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["result"]["user_id"].as_i64().is_some(), "{body}");

    for (username, pwd, detail) in [
        ("al", PWD, "username"),
        ("has space", PWD, "username"),
        (&"x".repeat(65) as &str, PWD, "username"),
        ("bob", "short", "pwd"),
        ("bob", &"p".repeat(1025), "pwd"),
    ] {
        let (status, body) = api.post("/api/signup", json!({"username": username, "pwd": pwd})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{username}: {body}");
        assert_error(&body["error"], -32602, "InvalidInput");
        assert!(body["error"]["data"]["detail"].as_str().unwrap().contains(detail), "{body}");
    }
    let (status, body) = api.post("/api/signup", json!({"username": "ALICE", "pwd": PWD})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body["error"], -32009, "UsernameTaken");

    let (status, body) = api.post("/api/signup", json!({"username": "carol", "pwd": PWD, "admin": true})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body["error"], -32602, "InvalidInput");
    let response = api
        .http
        .post(app.url("/api/signup"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_error(&response.json::<serde_json::Value>().await.unwrap()["error"], -32700, "ParseError");
}

#[tokio::test]
async fn usernames_are_normalised_and_invisible_mixed_script_or_look_alike_ones_are_refused() {
    let app = spawn_app().await;
    let api = app.client();
    for username in ["ab\u{200b}cd", "\u{202e}evil", "ab\u{ad}cd", "раураl"] {
        let (status, body) = api.post("/api/signup", json!({"username": username, "pwd": PWD})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{username:?}: {body}");
        assert_error(&body["error"], -32602, "InvalidInput");
        assert!(body["error"]["data"]["detail"].as_str().unwrap().starts_with("username:"), "{body}");
    }
    assert_eq!(api.post("/api/signup", json!({"username": "paypal", "pwd": PWD})).await.0, StatusCode::OK);
    let (status, body) = api.post("/api/signup", json!({"username": "раураӏ", "pwd": PWD})).await;
    assert_eq!(status, StatusCode::CONFLICT, "all-Cyrillic look-alike: {body}");
    assert_error(&body["error"], -32009, "UsernameTaken");

    assert_eq!(api.post("/api/signup", json!({"username": "ＢＯＢ", "pwd": PWD})).await.0, StatusCode::OK);
    assert_eq!(api.post("/api/login", json!({"username": "Bob", "pwd": PWD})).await.0, StatusCode::OK);
    assert_eq!(api.ok("get_me", json!({})).await["username"], "bob", "stored width-mapped and case-folded");
}

#[tokio::test]
async fn login_sets_a_strict_http_only_session_cookie() {
    let app = spawn_app().await;
    let api = app.client();
    api.post("/api/signup", json!({"username": "alice", "pwd": PWD})).await;
    let response =
        api.http.post(app.url("/api/login")).json(&json!({"username": "Alice", "pwd": PWD})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(response.json::<serde_json::Value>().await.unwrap()["result"]["success"] == true);
    let token = cookie.strip_prefix("auth-token=").unwrap().split(';').next().unwrap();
    assert_eq!(token.len(), 43, "256 random bits in base64url: {cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", &format!("Max-Age={}", app.config.session_max.as_secs())]
    {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "development cookies are not Secure: {cookie}");
    assert_eq!(api.ok("get_me", json!({})).await["username"], "alice");

    // Each login issues a new token.
    let again =
        api.http.post(app.url("/api/login")).json(&json!({"username": "alice", "pwd": PWD})).send().await.unwrap();
    assert!(!again.headers().get(SET_COOKIE).unwrap().to_str().unwrap().contains(token));
}

#[tokio::test]
async fn secure_cookies_when_configured() {
    let app = spawn_app_with(|config| config.cookie_secure = true).await;
    let api = app.client();
    api.post("/api/signup", json!({"username": "alice", "pwd": PWD})).await;
    let response =
        api.http.post(app.url("/api/login")).json(&json!({"username": "alice", "pwd": PWD})).send().await.unwrap();
    assert!(response.headers().get(SET_COOKIE).unwrap().to_str().unwrap().contains("; Secure"));
}

#[tokio::test]
async fn unknown_user_and_wrong_password_answer_alike() {
    let app = spawn_app().await;
    let api = app.client();
    api.post("/api/signup", json!({"username": "alice", "pwd": PWD})).await;

    let mut answers = Vec::new();
    for (username, pwd) in
        [("alice", "wrong password"), ("nobody", "wrong password"), ("alice", "wrong password"), ("nobody", PWD)]
    {
        let runs_before = app.mm.argon2_runs();
        let (status, mut body) = api.post("/api/login", json!({"username": username, "pwd": pwd})).await;
        // Timing alike, counted rather than timed: each failure costs one argon2 verification,
        // an unknown user's against a dummy hash.
        assert_eq!(app.mm.argon2_runs() - runs_before, 1, "{username}: one argon2 run per failed login");
        body["error"]["data"]["req_id"] = json!("-");
        answers.push((status, body));
    }
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::UNAUTHORIZED);
        assert_eq!(*body, answers[0].1, "the same body for both failures");
        assert_error(
            &{
                let mut e = body["error"].clone();
                e["data"]["req_id"] = json!("x");
                e
            },
            -32001,
            "LoginFailed",
        );
    }
}

#[tokio::test]
async fn logoff_revokes_the_token_even_for_a_copy_and_other_sessions_live_on() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let second_device = app.client();
    second_device.post("/api/login", json!({"username": "alice", "pwd": PWD})).await;

    let cookie = app.login_cookie("alice").await;
    let copy = reqwest::Client::new();
    let call = |client: &reqwest::Client, cookie: &str| {
        client
            .post(app.url("/api/rpc"))
            .header("cookie", cookie)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"}))
            .send()
    };
    assert_eq!(call(&copy, &cookie).await.unwrap().status(), StatusCode::OK);

    let response = app.logoff_cookie(&cookie).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cleared = response.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(cleared.starts_with("auth-token=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({"result": {"logged_off": true}}));

    let after = call(&copy, &cookie).await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(alice.ok("get_me", json!({})).await["username"], "alice");
    assert_eq!(second_device.ok("get_me", json!({})).await["username"], "alice");
}

#[tokio::test]
async fn tampered_and_made_up_tokens_are_refused() {
    let app = spawn_app().await;
    app.user("alice").await;
    let real = app.login_cookie("alice").await;
    let mut tampered = real.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let made_up = format!("auth-token={}", lib_auth::SessionToken::generate().as_str());
    for cookie in [
        String::from_utf8(tampered).unwrap(),
        made_up,
        "auth-token=".into(),
        "auth-token=x; other=1".into(),
        "other=1".into(),
    ] {
        let response = reqwest::Client::new()
            .post(app.url("/api/rpc"))
            .header("cookie", &cookie)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{cookie}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["id"], serde_json::Value::Null);
        assert_eq!(body["jsonrpc"], "2.0");
        assert_error(&body["error"], -32001, "Unauthorized");
    }
}

#[tokio::test]
async fn sessions_expire_when_idle_and_at_the_absolute_maximum() {
    let app = spawn_app_with(|config| {
        config.session_idle = Duration::from_secs(600);
        config.session_max = Duration::from_secs(1800);
    })
    .await;
    let idle = app.user("alice").await;
    let active = app.client();
    active.post("/api/login", json!({"username": "alice", "pwd": PWD})).await;

    for _ in 0..3 {
        app.clock.advance(Duration::from_secs(500));
        assert_eq!(active.ok("get_me", json!({})).await["username"], "alice", "activity extends the idle deadline");
    }
    let (status, _) = idle.post("/api/rpc", json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "1500 s without activity is past the 600 s idle limit");

    app.clock.advance(Duration::from_secs(301));
    let (status, _) = active.post("/api/rpc", json!({"jsonrpc": "2.0", "id": 1, "method": "get_me"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "past the absolute maximum despite activity");
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after_even_for_the_right_password() {
    let app = spawn_app().await;
    let api = app.client();
    api.post("/api/signup", json!({"username": "alice", "pwd": PWD})).await;
    for _ in 0..app.config.login_fails_per_user {
        let (status, _) = api.post("/api/login", json!({"username": "alice", "pwd": "wrong password"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response =
        api.http.post(app.url("/api/login")).json(&json!({"username": "alice", "pwd": PWD})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers().get(RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=app.config.login_window.as_secs()).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_error(&body["error"], -32029, "TooManyAttempts");

    app.clock.advance(app.config.login_window + Duration::from_secs(1));
    let (status, _) = api.post("/api/login", json!({"username": "alice", "pwd": PWD})).await;
    assert_eq!(status, StatusCode::OK, "the window has passed");
}

#[tokio::test]
async fn logoff_needs_a_session_and_false_changes_nothing() {
    let app = spawn_app().await;
    let (status, body) = app.client().post("/api/logoff", json!({"logoff": true})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body["error"], -32001, "Unauthorized");
    let alice = app.user("alice").await;
    assert_eq!(alice.post("/api/logoff", json!({"logoff": false})).await.1, json!({"result": {"logged_off": false}}));
    assert_eq!(alice.ok("get_me", json!({})).await["username"], "alice");
}

#[tokio::test]
async fn the_development_seed_user_logs_in() {
    let app = spawn_app().await;
    let (status, _) = app.client().post("/api/login", json!({"username": "demo1", "pwd": "welcome"})).await;
    assert_eq!(status, StatusCode::OK);
}
