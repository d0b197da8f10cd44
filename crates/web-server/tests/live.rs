//! Live updates over `/api/ws` (contract: "Live updates (WebSocket)"): the handshake's checks,
//! JSON-RPC on the socket, and `changed` notifications of every committed change the subscriber
//! may see, by any instance, transaction or SQL, in commit order.

mod common;

use common::socket::{Socket, refused_status};
use common::{Api, TestApp, assert_error, spawn_app, spawn_two_instances};
use lib_model::sqlx::Connection as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `owner` and `member` (an editor of the owner's project, "Shared"), each with a session cookie
/// for sockets.
struct Sharing {
    owner: Api,
    member_cookie: String,
    project: i64,
}

async fn sharing(app: &TestApp) -> Sharing {
    let owner = app.user("owner").await;
    app.user("member").await;
    let project = owner.ok("create_project", json!({"data": {"name": "Shared"}})).await["id"].as_i64().unwrap();
    owner.ok("add_project_member", json!({"project_id": project, "username": "member", "role": "editor"})).await;
    Sharing { owner, member_cookie: app.login_cookie("member").await, project }
}

async fn create_task(api: &Api, project: i64, title: &str) -> Value {
    api.ok("create_task", json!({"data": {"project_id": project, "title": title}})).await
}

#[tokio::test]
async fn the_handshake_needs_a_session_and_the_same_site() {
    let app = spawn_app().await;
    app.user("alice").await;
    let cookie = app.login_cookie("alice").await;

    let anonymous = Socket::try_open(app.addr, None, None).await.err().expect("refused");
    assert_eq!(refused_status(anonymous), StatusCode::UNAUTHORIZED);
    let cross_site =
        Socket::try_open(app.addr, Some(&cookie), Some("http://evil.example")).await.err().expect("refused");
    assert_eq!(refused_status(cross_site), StatusCode::FORBIDDEN);
    let same_site = format!("http://{}", app.addr);
    assert!(Socket::try_open(app.addr, Some(&cookie), Some(&same_site)).await.is_ok());

    let plain_get = reqwest::get(app.url("/api/ws")).await.unwrap();
    assert_eq!(plain_get.status(), StatusCode::UPGRADE_REQUIRED);
}

#[tokio::test]
async fn the_socket_speaks_the_same_json_rpc_and_subscribing_exists_only_there() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut socket = Socket::open(app.addr, &app.login_cookie("alice").await).await;

    let me = socket.call("get_me", Value::Null).await;
    assert_eq!(me["result"]["data"]["username"], "alice");
    socket
        .send_text(r#"[{"jsonrpc":"2.0","id":"a","method":"count_projects"},{"jsonrpc":"2.0","method":"get_me"}]"#)
        .await;
    let batch = socket.next_message().await;
    assert_eq!(
        batch,
        json!([{"jsonrpc": "2.0", "id": "a", "result": {"data": 0}}]),
        "the notification is not answered"
    );
    socket.send_text("{not json").await;
    assert_error(&socket.next_message().await["error"], -32700, "ParseError");

    let refused = socket.call("subscribe", json!({"entity": "user"})).await;
    assert_error(&refused["error"], -32602, "InvalidParams");
    let refused = socket.call("subscribe", json!({"entity": "task", "filters": {"nope": 1}})).await;
    assert_error(&refused["error"], -32602, "InvalidParams");
    assert!(refused["error"]["data"]["detail"].as_str().unwrap().contains("filters"), "{refused}");
    let refused = socket.call("unsubscribe", json!({"subscription": "99"})).await;
    assert_error(&refused["error"], -32602, "InvalidParams");

    assert_error(&alice.err("subscribe", json!({"entity": "task"})).await, -32601, "MethodNotFound");
    assert_error(&alice.err("unsubscribe", json!({"subscription": "1"})).await, -32601, "MethodNotFound");
}

#[tokio::test]
async fn a_subscriber_sees_every_change_it_may_see_in_commit_order() {
    let app = spawn_app().await;
    let s = sharing(&app).await;
    let mut socket = Socket::open(app.addr, &s.member_cookie).await;
    let subscription = socket.subscribe(json!({"entity": "task"})).await;

    let task = create_task(&s.owner, s.project, "one").await;
    let created = socket.changed().await;
    assert_eq!(
        created,
        json!({"subscription": subscription, "op": "create", "data": task}),
        "the row as get_task has it"
    );

    let id = task["id"].clone();
    for n in 1..=5 {
        s.owner.ok("update_task", json!({"id": id, "data": {"title": format!("one, edit {n}")}})).await;
    }
    for n in 1..=5 {
        let updated = socket.changed().await;
        assert_eq!(
            (updated["op"].as_str(), updated["data"]["title"].as_str()),
            (Some("update"), Some(&*format!("one, edit {n}")))
        );
    }

    // Someone else's project: nothing for the member; the next change they may see comes next.
    let stranger = app.user("stranger").await;
    let elsewhere = stranger.ok("create_project", json!({"data": {"name": "Elsewhere"}})).await["id"].as_i64().unwrap();
    create_task(&stranger, elsewhere, "not yours").await;
    s.owner.ok("delete_task", json!({"id": id})).await;
    let deleted = socket.changed().await;
    assert_eq!((deleted["op"].as_str(), deleted["data"]["title"].as_str()), (Some("delete"), Some("one, edit 5")));
}

#[tokio::test]
async fn a_filter_is_matched_before_and_after_an_update_and_unsubscribing_stops_it() {
    let app = spawn_app().await;
    let s = sharing(&app).await;
    let mut socket = Socket::open(app.addr, &s.member_cookie).await;
    let open = socket.subscribe(json!({"entity": "task", "filters": {"done": false}})).await;

    let task = create_task(&s.owner, s.project, "open").await;
    assert_eq!(socket.changed().await["op"], "create");
    s.owner.ok("update_task", json!({"id": task["id"], "data": {"done": true}})).await;
    let closed = socket.changed().await;
    assert_eq!((closed["op"].as_str(), &closed["data"]["done"]), (Some("update"), &json!(true)), "it left the filter");
    s.owner.ok("update_task", json!({"id": task["id"], "data": {"title": "still done"}})).await;
    create_task(&s.owner, s.project, "second").await;
    assert_eq!(socket.changed().await["data"]["title"], "second", "the done task's edit matched neither side");

    assert_eq!(socket.call("unsubscribe", json!({"subscription": open})).await["result"]["data"], true);
    let all = socket.subscribe(json!({"entity": "task"})).await;
    create_task(&s.owner, s.project, "third").await;
    let third = socket.changed().await;
    assert_eq!((third["subscription"].as_str(), third["data"]["title"].as_str()), (Some(all.as_str()), Some("third")));
}

#[tokio::test]
async fn access_is_checked_at_delivery() {
    let app = spawn_app().await;
    let owner = app.user("owner").await;
    app.user("newbie").await;
    let project = owner.ok("create_project", json!({"data": {"name": "Later shared"}})).await["id"].as_i64().unwrap();
    let mut socket = Socket::open(app.addr, &app.login_cookie("newbie").await).await;
    let projects = socket.subscribe(json!({"entity": "project"})).await;
    let tasks = socket.subscribe(json!({"entity": "task"})).await;

    // (A change made before the membership may arrive or not: access is checked when it is
    // delivered, which may be after the membership committed.)
    owner.ok("add_project_member", json!({"project_id": project, "username": "newbie", "role": "viewer"})).await;
    let gained = socket.changed().await;
    assert_eq!(
        (gained["subscription"].as_str(), gained["data"]["role"].as_str()),
        (Some(projects.as_str()), Some("viewer"))
    );
    create_task(&owner, project, "after").await;
    let after = loop {
        let next = socket.changed().await;
        if next["subscription"] != tasks.as_str() {
            // The project's create and the membership's update may both come, each seen now.
            assert_eq!((next["data"]["id"].as_i64(), next["data"]["role"].as_str()), (Some(project), Some("viewer")));
            continue;
        }
        break next;
    };
    assert_eq!(after["data"]["title"], "after");

    let newbie_id = socket.call("get_me", Value::Null).await["result"]["data"]["id"].clone();
    owner.ok("remove_project_member", json!({"project_id": project, "user_id": newbie_id})).await;
    create_task(&owner, project, "removed").await;
    owner.ok("update_project", json!({"id": project, "data": {"name": "Gone from view"}})).await;
    let mine = socket.call("create_project", json!({"data": {"name": "Mine"}})).await;
    let next = socket.changed().await;
    assert_eq!(next["data"]["id"], mine["result"]["data"]["id"], "nothing of the project after the removal: {next}");
}

#[tokio::test]
async fn a_transaction_arrives_after_commit_and_a_rollback_never() {
    let app = spawn_app().await;
    let s = sharing(&app).await;
    let mut socket = Socket::open(app.addr, &s.member_cookie).await;
    socket.subscribe(json!({"entity": "task"})).await;

    let create =
        |title: &str| json!({"method": "create_task", "params": {"data": {"project_id": s.project, "title": title}}});
    let failing = json!({"calls": [create("rolled back"), {"method": "get_task", "params": {"id": 0}}]});
    assert!(s.owner.rpc("transaction", failing).await.get("error").is_some());
    let committed = json!({"calls": [create("first"), create("second")]});
    s.owner.ok("transaction", committed).await;

    let titles = [socket.changed().await, socket.changed().await].map(|c| c["data"]["title"].clone());
    assert_eq!(titles, [json!("first"), json!("second")]);
}

#[tokio::test]
async fn changes_by_sql_and_by_another_instance_arrive() {
    let app = spawn_two_instances().await;
    let s = sharing(&app).await;
    let mut on_peer = Socket::open(app.peer.unwrap(), &s.member_cookie).await;
    on_peer.subscribe(json!({"entity": "task"})).await;

    let task = create_task(&s.owner, s.project, "made on the first instance").await;
    assert_eq!(on_peer.changed().await["data"], task);

    let mut conn = lib_model::sqlx::PgConnection::connect(app.config.database_url.expose()).await.unwrap();
    lib_model::sqlx::query("UPDATE task SET done = true WHERE id = $1")
        .bind(task["id"].as_i64().unwrap())
        .execute(&mut conn)
        .await
        .unwrap();
    let by_hand = on_peer.changed().await;
    assert_eq!((by_hand["op"].as_str(), &by_hand["data"]["done"]), (Some("update"), &json!(true)));
}
