//! The frontend built into the binary (no `WEB_FOLDER`): content types, `ETag` and 304, the
//! precompressed twins chosen by `Accept-Encoding`, the 404 and trailing-slash rules; and the
//! headers around every answer: `Strict-Transport-Security` with `COOKIE_SECURE` only,
//! compressed RPC answers past a KiB.

mod common;

use common::binary::{self, Binary};
use common::{TestApp, spawn_app_with};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, VARY,
};
use serde_json::json;
use std::io::Read as _;
use std::process::Stdio;

async fn embedded_app() -> TestApp {
    spawn_app_with(|config| config.web_folder = None).await
}

fn source(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../web-folder/{name}", env!("CARGO_MANIFEST_DIR"))).expect("a frontend file")
}

/// A client that neither follows redirects nor asks for compression of its own accord.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn get(app: &TestApp, path: &str, headers: &[(reqwest::header::HeaderName, &str)]) -> reqwest::Response {
    let mut request = raw_client().get(app.url(path));
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_string())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("gzip");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).expect("brotli");
    out
}

#[tokio::test]
async fn each_file_is_sent_whole_with_its_content_type_and_no_encoding_unasked() {
    let app = embedded_app().await;
    for (path, file, content_type) in [
        ("/", "index.html", "text/html"),
        ("/index.html", "index.html", "text/html"),
        ("/js/app.js", "js/app.js", "javascript"),
        ("/css/app.css", "css/app.css", "text/css"),
        ("/favicon.svg", "favicon.svg", "image/svg+xml"),
    ] {
        let response = get(&app, path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(header(&response, CONTENT_TYPE).unwrap().contains(content_type), "{path}");
        assert_eq!(header(&response, CONTENT_ENCODING), None, "{path}");
        assert_eq!(header(&response, CACHE_CONTROL).as_deref(), Some("no-cache"), "{path}");
        assert!(header(&response, "content-security-policy".parse().unwrap()).is_some(), "{path}");
        assert_eq!(response.bytes().await.unwrap().as_ref(), source(file), "{path}");
    }
}

#[tokio::test]
async fn a_current_etag_gets_304_without_a_body_and_a_stale_one_the_file() {
    let app = embedded_app().await;
    let first = get(&app, "/js/app.js", &[]).await;
    let etag = header(&first, ETAG).expect("an ETag");
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10, "strong: {etag}");

    let again = get(&app, "/js/app.js", &[(IF_NONE_MATCH, &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, ETAG).as_deref(), Some(etag.as_str()));
    assert!(again.bytes().await.unwrap().is_empty());

    let stale = get(&app, "/js/app.js", &[(IF_NONE_MATCH, "\"0000\"")]).await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(stale.bytes().await.unwrap().as_ref(), source("js/app.js"));

    let other_file = get(&app, "/css/app.css", &[(IF_NONE_MATCH, &etag)]).await;
    assert_eq!(other_file.status(), StatusCode::OK, "one file's tag is not another's");
}

#[tokio::test]
async fn gzip_and_brotli_twins_decode_to_the_file_as_the_client_prefers() {
    let app = embedded_app().await;
    let plain_etag = header(&get(&app, "/js/rpc.js", &[]).await, ETAG).unwrap();
    for (accepted, encoding) in [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0.2, gzip;q=0.9", "gzip")] {
        let response = get(&app, "/js/rpc.js", &[(ACCEPT_ENCODING, accepted)]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, CONTENT_ENCODING).as_deref(), Some(encoding), "{accepted}");
        assert_eq!(header(&response, VARY).as_deref(), Some("accept-encoding"));
        let etag = header(&response, ETAG).unwrap();
        assert_ne!(etag, plain_etag, "each representation has its own tag");
        let body = response.bytes().await.unwrap();
        assert!(body.len() < source("js/rpc.js").len());
        let decoded = if encoding == "br" { unbrotli(&body) } else { gunzip(&body) };
        assert_eq!(decoded, source("js/rpc.js"), "{accepted}");

        let revalidated = get(&app, "/js/rpc.js", &[(ACCEPT_ENCODING, accepted), (IF_NONE_MATCH, &etag)]).await;
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED, "{accepted}");
    }
    let refused = get(&app, "/js/rpc.js", &[(ACCEPT_ENCODING, "br;q=0, gzip;q=0")]).await;
    assert_eq!(header(&refused, CONTENT_ENCODING), None);
    assert_eq!(header(&refused, VARY).as_deref(), Some("accept-encoding"));
}

#[tokio::test]
async fn paths_naming_no_embedded_file_are_404_and_a_folder_without_its_slash_307() {
    let app = embedded_app().await;
    for path in ["/nope.html", "/js/", "/js/app.js.br", "/index.html.gz", "//js", "/js/nope.js", "/%00", "/js/app.js/"]
    {
        let response = get(&app, path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(response.bytes().await.unwrap().is_empty(), "{path}");
    }
    for (path, location) in [("/js", "/js/"), ("/js/views?x=1", "/js/views/?x=1")] {
        let response = get(&app, path, &[]).await;
        assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT, "{path}");
        assert_eq!(header(&response, LOCATION).as_deref(), Some(location), "{path}");
    }
}

#[tokio::test]
async fn strict_transport_security_is_sent_with_cookie_secure_only() {
    let hsts: reqwest::header::HeaderName = "strict-transport-security".parse().unwrap();
    let secure = spawn_app_with(|config| {
        config.web_folder = None;
        config.cookie_secure = true;
    })
    .await;
    for path in ["/", "/nope", "/health/live"] {
        let response = get(&secure, path, &[]).await;
        assert_eq!(header(&response, hsts.clone()).as_deref(), Some("max-age=31536000"), "{path}");
    }
    let rpc = raw_client().post(secure.url("/api/rpc")).json(&json!({})).send().await.unwrap();
    assert_eq!(header(&rpc, hsts.clone()).as_deref(), Some("max-age=31536000"));

    let plain = spawn_app_with(|config| config.cookie_secure = false).await;
    for path in ["/", "/nope", "/health/live"] {
        assert_eq!(header(&get(&plain, path, &[]).await, hsts.clone()), None, "{path}");
    }
}

#[tokio::test]
async fn a_large_rpc_answer_is_compressed_when_asked_and_a_small_one_never() {
    let app = embedded_app().await;
    let alice = app.user("alice").await;
    let project = alice.ok("create_project", json!({"data": {"name": "big"}})).await;
    for i in 0..20 {
        let title = format!("task {i} with a title long enough to make the list pass a kibibyte");
        alice.ok("create_task", json!({"data": {"project_id": project["id"], "title": title}})).await;
    }
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "list_tasks"}).to_string();
    let call = |api: &common::Api, accept: Option<&str>| {
        let mut request = api.http.post(format!("{}/api/rpc", api.base)).header(CONTENT_TYPE, "application/json");
        if let Some(accept) = accept {
            request = request.header(ACCEPT_ENCODING, accept);
        }
        request.body(list.clone()).send()
    };

    let plain = call(&alice, None).await.unwrap();
    assert_eq!(header(&plain, CONTENT_ENCODING), None);
    let plain = plain.bytes().await.unwrap();
    assert!(plain.len() > 1024, "large enough: {}", plain.len());

    for (accept, decode) in [("gzip", gunzip as fn(&[u8]) -> Vec<u8>), ("br", unbrotli)] {
        let compressed = call(&alice, Some(accept)).await.unwrap();
        assert_eq!(compressed.status(), StatusCode::OK);
        assert_eq!(header(&compressed, CONTENT_ENCODING).as_deref(), Some(accept));
        let body = compressed.bytes().await.unwrap();
        assert!(body.len() < plain.len());
        let answer: serde_json::Value = serde_json::from_slice(&decode(&body)).unwrap();
        assert_eq!(answer["result"]["data"].as_array().unwrap().len(), 20);
    }

    let bob = app.user("bob").await;
    let small = call(&bob, Some("gzip, br")).await.unwrap();
    assert_eq!(header(&small, CONTENT_ENCODING), None);
    let answer: serde_json::Value = serde_json::from_slice(&small.bytes().await.unwrap()).unwrap();
    assert_eq!(answer["result"]["data"], json!([]));
}

#[tokio::test]
async fn an_rpc_answer_past_64_kib_is_sent_uncompressed() {
    let app = embedded_app().await;
    let carol = app.user("carol").await;
    let project = carol.ok("create_project", json!({"data": {"name": "huge"}})).await;
    // 7 tasks of 10,000 characters: an answer just past 64 KiB; 6 of them: just under it.
    let calls: Vec<_> = (0..7)
        .map(|i| {
            let data =
                json!({"project_id": project["id"], "title": format!("t{i}"), "description": "d".repeat(10_000)});
            json!({"method": "create_task", "params": {"data": data}})
        })
        .collect();
    carol.ok("transaction", json!({"calls": calls})).await;
    for (limit, compressed) in [(6, true), (7, false)] {
        let list =
            json!({"jsonrpc": "2.0", "id": 1, "method": "list_tasks", "params": {"list_options": {"limit": limit}}});
        let answer = carol
            .http
            .post(format!("{}/api/rpc", carol.base))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT_ENCODING, "br")
            .body(list.to_string())
            .send()
            .await
            .unwrap();
        let encoding = header(&answer, CONTENT_ENCODING);
        let length = answer.bytes().await.unwrap().len();
        assert_eq!(encoding.is_some(), compressed, "limit {limit}: {length} bytes sent, {encoding:?}");
        if !compressed {
            assert!(length > 64 * 1024, "{length}");
        }
    }
}

// Two workers: the binaries' answers are awaited while the test runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_binaries_alone_in_an_empty_folder_start_together_migrate_and_serve_the_frontend_and_the_api() {
    let db = lib_model::test_support::TestDb::empty().await;
    let key = binary::pwd_key();
    let empty = std::env::temp_dir().join(format!("web-server-alone-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&empty).unwrap();
    let addrs = [(); 2].map(|()| binary::free_addr());
    // Started at the same moment, on one empty database: both must migrate and become ready.
    let _servers = addrs.map(|addr| {
        let mut command = binary::command(db.url(), &key, addr);
        Binary(command.current_dir(&empty).stdout(Stdio::null()).spawn().unwrap())
    });
    let client = raw_client();
    for addr in addrs {
        let base = format!("http://{addr}");
        binary::wait_ready(&client, addr).await;
        let page = client.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.bytes().await.unwrap().as_ref(), source("index.html"));
    }

    let base = format!("http://{}", addrs[0]);
    let script = client.get(format!("{base}/js/app.js")).header(ACCEPT_ENCODING, "br").send().await.unwrap();
    assert_eq!(unbrotli(&script.bytes().await.unwrap()), source("js/app.js"));
    let signup =
        client.post(format!("{base}/api/signup")).json(&json!({"username": "alone", "pwd": common::PWD})).send().await;
    assert_eq!(signup.unwrap().status(), StatusCode::OK);
    std::fs::remove_dir(&empty).expect("the folder is still empty");
}
