//! Black-box test harness: the real app on port 0 against a fresh database, and one small
//! helper per call.

#![allow(dead_code, unreachable_pub)] // each test file uses a different part

pub mod binary;
pub mod proxy;
pub mod socket;
pub mod transactions;

use lib_core::{Clock, Config, ManualClock};
use lib_model::test_support::TestDb;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PWD: &str = "a good password";

pub struct TestApp {
    pub addr: SocketAddr,
    /// The admin listener (metrics, the dashboard).
    pub admin: SocketAddr,
    /// A second instance of the server on the same database, when the test asked for one.
    pub peer: Option<SocketAddr>,
    pub clock: Arc<ManualClock>,
    pub config: Config,
    /// The first instance's model manager, for what a test observes inside the server.
    pub mm: lib_model::ModelManager,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), web_server::StartError>>>,
    _db: TestDb,
}

/// The app with the test database's development configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app after `adjust` has changed its configuration (limits, lifetimes, database URL).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new().await;
    let mut config = db.config();
    config.log_filter = "warn".into();
    config.web_folder = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web-folder").into());
    adjust(&mut config);
    web_server::logging::init(&config);

    let clock = Arc::new(ManualClock::new());
    let mm = web_server::prepare(&config, clock.clone() as Arc<dyn Clock>).await.expect("prepare");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let (addr, admin_addr) = (listener.local_addr().unwrap(), admin.local_addr().unwrap());
    let (shutdown, stop) = oneshot::channel::<()>();
    let listeners = web_server::Listeners { public: listener, admin: Some(admin) };
    let server = tokio::spawn(web_server::serve(config.clone(), mm.clone(), listeners, async {
        let _ = stop.await;
    }));
    revocations_live(&mm).await;
    TestApp {
        addr,
        admin: admin_addr,
        peer: None,
        clock,
        config,
        mm,
        shutdown: Some(shutdown),
        server: Some(server),
        _db: db,
    }
}

/// Two instances of the server on one database, as behind a load balancer.
pub async fn spawn_two_instances() -> TestApp {
    spawn_two_instances_with(|_| {}).await
}

/// Two instances of the server on one database, with the configuration `adjust` made.
pub async fn spawn_two_instances_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut app = spawn_app_with(adjust).await;
    let peer_mm = web_server::prepare(&app.config, app.clock.clone() as Arc<dyn Clock>).await.expect("prepare");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    app.peer = Some(listener.local_addr().unwrap());
    // It stops with the test's runtime.
    let listeners = web_server::Listeners { public: listener, admin: None };
    tokio::spawn(web_server::serve(app.config.clone(), peer_mm.clone(), listeners, std::future::pending()));
    revocations_live(&peer_mm).await;
    app
}

/// Returns once the instance's revocation listener is connected, so that tests about cached
/// sessions start with the cache in use.
async fn revocations_live(mm: &lib_model::ModelManager) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !mm.revocations_live() {
        assert!(tokio::time::Instant::now() < deadline, "the revocation listener did not connect");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client with its own cookie jar: a browser of its own.
    pub fn client(&self) -> Api {
        Api { http: reqwest::Client::builder().cookie_store(true).build().unwrap(), base: self.url("") }
    }

    /// A client with its own cookie jar whose connections come from `source` (a loopback
    /// address such as 127.0.0.2): another client address, as the throttles see it.
    pub fn client_from(&self, source: &str) -> Api {
        let source: std::net::IpAddr = source.parse().expect("an IP address");
        let http = reqwest::Client::builder().cookie_store(true).local_address(source).build().unwrap();
        Api { http, base: self.url("") }
    }

    /// A client of the second instance that carries the cookie `cookie` (`auth-token=...`).
    pub fn peer_client(&self, cookie: &str) -> Api {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
        let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
        Api { http, base: format!("http://{}", self.peer.expect("spawn_two_instances")) }
    }

    /// A new user, signed up and logged in.
    pub async fn user(&self, name: &str) -> Api {
        let api = self.client();
        assert_eq!(api.post("/api/signup", json!({"username": name, "pwd": PWD})).await.0, StatusCode::OK);
        assert_eq!(api.post("/api/login", json!({"username": name, "pwd": PWD})).await.0, StatusCode::OK);
        api
    }

    /// Logs `username` in with a bare client and answers the `auth-token=...` pair of Set-Cookie,
    /// to be sent by hand (as a copied or stolen cookie would be).
    pub async fn login_cookie(&self, username: &str) -> String {
        let response = reqwest::Client::new()
            .post(self.url("/api/login"))
            .json(&json!({"username": username, "pwd": PWD}))
            .send()
            .await
            .unwrap();
        let cookie = response.headers().get(reqwest::header::SET_COOKIE).expect("a session cookie");
        cookie.to_str().unwrap().split(';').next().unwrap().to_string()
    }

    /// Logs off the session of `cookie` (an `auth-token=...` pair) with a bare client.
    pub async fn logoff_cookie(&self, cookie: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/api/logoff"))
            .header(reqwest::header::COOKIE, cookie)
            .json(&json!({"logoff": true}))
            .send()
            .await
            .unwrap()
    }

    pub fn begin_shutdown(&mut self) {
        let _ = self.shutdown.take().expect("shut down once").send(());
    }

    pub async fn wait_stopped(&mut self) -> Result<(), web_server::StartError> {
        self.server.take().unwrap().await.expect("the server task")
    }
}

/// One browser-like client.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    /// POSTs JSON; answers the status and the body parsed as JSON (`Null` when empty).
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    /// POSTs a raw body to /api/rpc; answers status and text.
    pub async fn rpc_raw(&self, body: &str) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}/api/rpc", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// One call with id 1: the whole response object. `Null` params are left out.
    pub async fn rpc(&self, method: &str, params: Value) -> Value {
        let mut request = json!({"jsonrpc": "2.0", "id": 1, "method": method});
        if !params.is_null() {
            request["params"] = params;
        }
        let (status, body) = self.post("/api/rpc", request).await;
        assert_eq!(status, StatusCode::OK, "{method}: {body}");
        if let Some(error) = body.get("error") {
            assert_documented(method, error);
        }
        body
    }

    /// One call that must succeed: its `result.data`.
    pub async fn ok(&self, method: &str, params: Value) -> Value {
        let response = self.rpc(method, params).await;
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"]["data"].clone()
    }

    /// One call that must fail: its `error`.
    pub async fn err(&self, method: &str, params: Value) -> Value {
        let response = self.rpc(method, params).await;
        assert!(response.get("result").is_none(), "{method} should fail: {response}");
        response["error"].clone()
    }
}

/// The OpenRPC document, as `rpc.discover` answers it.
static DOCUMENT: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| serde_json::from_str(lib_rpc::methods::router().discover().get()).unwrap());

/// Asserts that the OpenRPC document lists `error` (its code and kind) among the errors of
/// `method`, if it documents that method: every error a test meets must be documented.
pub fn assert_documented(method: &str, error: &Value) {
    let Some(doc) = DOCUMENT["methods"].as_array().unwrap().iter().find(|m| m["name"] == method) else {
        return;
    };
    let documented = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|listed| listed["code"] == error["code"] && listed["data"]["kind"] == error["data"]["kind"]);
    assert!(documented, "{method} answered an error its OpenRPC entry does not list: {error}");
}

/// Asserts the error's code and kind, and that it carries a request id.
pub fn assert_error(error: &Value, code: i64, kind: &str) {
    assert_eq!(error["code"], code, "{error}");
    assert_eq!(error["data"]["kind"], kind, "{error}");
    assert!(error["data"]["req_id"].as_str().is_some_and(|id| !id.is_empty()), "{error}");
}
