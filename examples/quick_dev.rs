//! A walk through the API against a running server, printing every exchange.
//!
//! ```text
//! cargo run -p web-server                # in one terminal
//! cargo run --example quick_dev          # in another (QUICK_DEV_URL overrides the address)
//! ```

use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::cookie::{CookieStore as _, Jar};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Client {
    http: reqwest::Client,
    base: String,
    next_id: u64,
}

impl Client {
    async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        println!("\n=> POST {path}\n{}", serde_json::to_string_pretty(body)?);
        let response = self.http.post(format!("{}{path}", self.base)).json(body).send().await?;
        let status = response.status();
        let text = response.text().await?;
        let value: Value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? };
        println!("<= {status}\n{}", serde_json::to_string_pretty(&value)?);
        if !status.is_success() {
            return Err(format!("{path} answered {status}").into());
        }
        Ok(value)
    }

    /// One call; answers its `result.data`, or fails on a JSON-RPC error.
    async fn rpc(&mut self, method: &str, params: Value) -> Result<Value> {
        Ok(self.rpc_result(method, params).await?["data"].clone())
    }

    /// One call that must fail (the server refusing it is the point); answers its `error`.
    async fn rpc_refused(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        let response = self.post("/api/rpc", &body).await?;
        response.get("error").cloned().ok_or_else(|| format!("{method} should have been refused").into())
    }

    /// One call; answers its whole `result` (a list's has `next_cursor` beside `data`).
    async fn rpc_result(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        let response = self.post("/api/rpc", &body).await?;
        if let Some(error) = response.get("error") {
            return Err(format!("{method} failed: {error}").into());
        }
        Ok(response["result"].clone())
    }
}

/// Shares the project with a second user and shows what each role may do: a viewer reads but
/// may not change a task; made an editor, they may; then they leave.
async fn share(owner: &mut Client, project_id: i64) -> Result<()> {
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let mut guest = Client { http, base: owner.base.clone(), next_id: 0 };
    let (username, pwd) = (format!("guest{}", std::process::id()), "a guest password");
    guest.post("/api/signup", &json!({"username": username, "pwd": pwd})).await?;
    guest.post("/api/login", &json!({"username": username, "pwd": pwd})).await?;

    let member = owner
        .rpc("add_project_member", json!({"project_id": project_id, "username": username, "role": "viewer"}))
        .await?;
    let guest_id = member["user_id"].clone();
    let tasks = guest.rpc("list_tasks", json!({"filters": {"project_id": project_id}})).await?;
    let task_id = tasks[0]["id"].clone();
    guest.rpc_refused("update_task", json!({"id": task_id, "data": {"done": true}})).await?;

    owner
        .rpc("update_project_member", json!({"project_id": project_id, "user_id": guest_id, "role": "editor"}))
        .await?;
    guest.rpc("update_task", json!({"id": task_id, "data": {"done": true}})).await?;
    guest.rpc_refused("update_project", json!({"id": project_id, "data": {"name": "taken over"}})).await?;
    owner.rpc("list_project_members", json!({"project_id": project_id})).await?;
    guest.rpc("remove_project_member", json!({"project_id": project_id, "user_id": guest_id})).await?;
    Ok(())
}

/// The API's own description, before any login: `rpc.discover` answers its OpenRPC document
/// (printed here by method name only; `GET /api/openrpc.json` serves it whole).
async fn discover(client: &Client) -> Result<()> {
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": "rpc.discover"});
    let response = client.http.post(format!("{}/api/rpc", client.base)).json(&body).send().await?;
    let document: Value = response.json().await?;
    let methods: Vec<&str> = document["result"]["methods"]
        .as_array()
        .ok_or("rpc.discover answered no methods")?
        .iter()
        .filter_map(|method| method["name"].as_str())
        .collect();
    println!(
        "\n=> rpc.discover\n<= OpenRPC {}, API {}: {}",
        document["result"]["openrpc"],
        document["result"]["info"]["version"],
        methods.join(", ")
    );
    Ok(())
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Live updates: a socket on `/api/ws` (the session's cookie from `jar`) subscribes to the
/// project's tasks; a task created over HTTP arrives on it as a `changed` notification.
async fn live(client: &mut Client, jar: &Jar, project_id: i64) -> Result<()> {
    let mut request = format!("{}/api/ws", client.base.replacen("http", "ws", 1)).into_client_request()?;
    let cookie = jar.cookies(&client.base.parse()?).ok_or("no session cookie")?;
    request.headers_mut().insert("cookie", cookie);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let subscribe = json!({"jsonrpc": "2.0", "id": 1, "method": "subscribe",
                           "params": {"entity": "task", "filters": {"project_id": project_id}}});
    println!("\n=> WS /api/ws\n{subscribe}");
    socket.send(Message::text(subscribe.to_string())).await?;
    println!("<= (socket) {}", next_text(&mut socket).await?);
    client.rpc("create_task", json!({"data": {"project_id": project_id, "title": "made while subscribed"}})).await?;
    // Changes committed just before the subscription may come first.
    loop {
        let message = next_text(&mut socket).await?;
        println!("<= (socket) {message}");
        if message.contains("made while subscribed") {
            break;
        }
    }
    socket.close(None).await?;
    Ok(())
}

/// The socket's next text message, within 5 s.
async fn next_text(socket: &mut Socket) -> Result<String> {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await?;
        match message.ok_or("the socket closed")?? {
            Message::Text(text) => return Ok(text.to_string()),
            Message::Close(frame) => return Err(format!("the socket closed: {frame:?}").into()),
            _ => continue,
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let base = std::env::var("QUICK_DEV_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let jar = Arc::new(Jar::default());
    let http = reqwest::Client::builder().cookie_provider(jar.clone()).build()?;
    let mut client = Client { http, base, next_id: 0 };

    discover(&client).await?;
    client.post("/api/login", &json!({"username": "demo1", "pwd": "welcome"})).await?;
    client.rpc("get_me", json!({})).await?;

    // A project and its tasks in one transaction: all of them or none. Each task names the
    // project by a reference to the first call's result.
    let mut calls = vec![
        json!({"method": "create_project", "params": {"data": {"name": format!("quick_dev {}", std::process::id())}}}),
    ];
    for title in ["task AAA 1", "task AAA 2", "task AAA 3", "task AAA 4", "task BB 1", "task BB 2"] {
        let data = json!({"project_id": {"$ref": "0.data.id"}, "title": title});
        calls.push(json!({"method": "create_task", "params": {"data": data}}));
    }
    let created = client.rpc("transaction", json!({"calls": calls})).await?;
    let project_id = created[0]["data"]["id"].as_i64().ok_or("the project has no id")?;

    // The contract's example: two filter groups OR-ed, ordered by title descending.
    let tasks = client
        .rpc(
            "list_tasks",
            json!({
                "filters": [
                    {"project_id": project_id, "title": {"$contains": "BB"}},
                    {"project_id": {"$in": [project_id]}, "title": {"$in": ["task AAA 3", "task AAA 4"]}}
                ],
                "list_options": {"order_bys": "!title"}
            }),
        )
        .await?;
    let first_id = tasks[0]["id"].as_i64().ok_or("the list is empty")?;

    client
        .rpc("update_task", json!({"id": first_id, "data": {"done": true, "description": "updated by quick_dev"}}))
        .await?;
    client.rpc("count_tasks", json!({"filters": {"project_id": project_id, "done": false}})).await?;
    client.rpc("delete_task", json!({"id": first_id})).await?;

    // Logic in a filter: the project's BB tasks, or those not open.
    let logic =
        json!({"project_id": project_id, "$or": [{"title": {"$startsWith": "task BB"}}, {"$not": {"done": false}}]});
    client.rpc("list_tasks", json!({"filters": logic})).await?;

    // Keyset paging: two tasks a page, each next page after the last row of the one before.
    let mut cursor = Value::Null;
    loop {
        let mut list_options = json!({"order_bys": "title", "limit": 2});
        if !cursor.is_null() {
            list_options["cursor"] = cursor;
        }
        let page = client
            .rpc_result("list_tasks", json!({"filters": {"project_id": project_id}, "list_options": list_options}))
            .await?;
        cursor = page["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }

    // A batch: two calls and a notification (run, never answered).
    let batch = json!([
        {"jsonrpc": "2.0", "id": "count", "method": "count_tasks", "params": {"filters": {"project_id": project_id}}},
        {"jsonrpc": "2.0", "method": "update_project", "params": {"id": project_id, "data": {"name": format!("quick_dev {} (renamed)", std::process::id())}}},
        {"jsonrpc": "2.0", "id": "project", "method": "get_project", "params": {"id": project_id}}
    ]);
    client.post("/api/rpc", &batch).await?;

    share(&mut client, project_id).await?;
    live(&mut client, &jar, project_id).await?;

    client.rpc("delete_project", json!({"id": project_id})).await?;
    client.post("/api/logoff", &json!({"logoff": true})).await?;
    println!("\nquick_dev: done");
    Ok(())
}
