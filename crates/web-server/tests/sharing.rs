//! Shared projects, black box: the role × method matrix for projects, tasks and members (alone,
//! in batches and in transactions), ownership transfer, leaving, and membership changes that
//! race. Each cell asserts the exact answer, so loosening any rule fails its cell.

mod common;

use common::transactions::{call, transaction};
use common::{Api, TestApp, assert_error, spawn_app};
use serde_json::{Value, json};

/// One project shared four ways: its owner, an editor, a viewer, and someone not a member.
struct Shared {
    app: TestApp,
    owner: Api,
    editor: Api,
    viewer: Api,
    outsider: Api,
    project: i64,
    ids: Ids,
}

struct Ids {
    editor: i64,
    viewer: i64,
}

async fn user_id(api: &Api) -> i64 {
    api.ok("get_me", json!({})).await["id"].as_i64().expect("get_me answers the id")
}

async fn shared() -> Shared {
    let app = spawn_app().await;
    let owner = app.user("olive").await;
    let editor = app.user("eddie").await;
    let viewer = app.user("vera").await;
    let outsider = app.user("otto").await;
    let project = owner.ok("create_project", json!({"data": {"name": "Shared"}})).await["id"].as_i64().unwrap();
    for (name, role) in [("eddie", "editor"), ("vera", "viewer")] {
        let member =
            owner.ok("add_project_member", json!({"project_id": project, "username": name, "role": role})).await;
        assert_eq!((member["username"].as_str(), member["role"].as_str()), (Some(name), Some(role)), "{member}");
    }
    let ids = Ids { editor: user_id(&editor).await, viewer: user_id(&viewer).await };
    Shared { app, owner, editor, viewer, outsider, project, ids }
}

/// What a cell expects: success, or the error's code and kind.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Ok,
    Forbidden,
    NotFound,
    Conflict,
}

use Expect::{Conflict, Forbidden, NotFound, Ok};

async fn expect(api: &Api, method: &str, params: Value, expected: Expect) -> Value {
    let response = api.rpc(method, params.clone()).await;
    check(&response, expected, &format!("{method} {params}"));
    response
}

fn check(response: &Value, expected: Expect, what: &str) {
    match expected {
        Ok => assert!(response.get("error").is_none(), "{what}: {response}"),
        Forbidden => assert_error(&response["error"], -32003, "Forbidden"),
        NotFound => assert_error(&response["error"], -32004, "EntityNotFound"),
        Conflict => assert_error(&response["error"], -32009, "Conflict"),
    }
}

async fn new_task(api: &Api, project: i64, title: &str) -> i64 {
    api.ok("create_task", json!({"data": {"project_id": project, "title": title}})).await["id"].as_i64().unwrap()
}

#[tokio::test]
async fn reading_a_project_and_its_tasks_takes_any_role_and_nothing_else() {
    let s = shared().await;
    let task = new_task(&s.owner, s.project, "read me").await;
    for (api, role, expected) in
        [(&s.owner, "owner", Ok), (&s.editor, "editor", Ok), (&s.viewer, "viewer", Ok), (&s.outsider, "", NotFound)]
    {
        let project = expect(api, "get_project", json!({"id": s.project}), expected).await;
        let got_task = expect(api, "get_task", json!({"id": task}), expected).await;
        expect(api, "list_project_members", json!({"project_id": s.project}), expected).await;
        let visible = matches!(expected, Ok);
        assert_eq!(project["result"]["data"]["role"].as_str().unwrap_or(""), role, "{project}");
        assert_eq!(got_task["result"]["data"]["title"].as_str().is_some(), visible);

        let listed = api.ok("list_projects", json!({})).await;
        assert_eq!(listed.as_array().unwrap().iter().any(|p| p["id"] == s.project), visible, "{listed}");
        let tasks = api.ok("list_tasks", json!({"filters": {"project_id": s.project}})).await;
        assert_eq!(tasks.as_array().unwrap().len(), usize::from(visible), "{tasks}");
        assert_eq!(api.ok("count_tasks", json!({"filters": {"project_id": s.project}})).await, i64::from(visible));
        assert_eq!(api.ok("count_projects", json!({"filters": {"id": s.project}})).await, i64::from(visible));
    }
}

#[tokio::test]
async fn changing_tasks_takes_an_editor_or_the_owner() {
    let s = shared().await;
    for (api, expected) in [(&s.owner, Ok), (&s.editor, Ok), (&s.viewer, Forbidden), (&s.outsider, NotFound)] {
        let data = json!({"data": {"project_id": s.project, "title": "made"}});
        expect(api, "create_task", data, expected).await;
        // On a task of the owner's each time, so that every cell has a target.
        let task = new_task(&s.owner, s.project, "target").await;
        let allowed = matches!(expected, Ok);
        expect(api, "update_task", json!({"id": task, "data": {"done": true}}), expected).await;
        assert_eq!(s.owner.ok("get_task", json!({"id": task})).await["done"], allowed, "{expected:?}");
        expect(api, "delete_task", json!({"id": task}), expected).await;
        let gone = s.owner.rpc("get_task", json!({"id": task})).await.get("error").is_some();
        assert_eq!(gone, allowed, "{expected:?}");
    }
}

#[tokio::test]
async fn changing_the_project_takes_the_owner() {
    let s = shared().await;
    for (api, expected) in [(&s.editor, Forbidden), (&s.viewer, Forbidden), (&s.outsider, NotFound), (&s.owner, Ok)] {
        let renamed = format!("renamed by {expected:?}");
        expect(api, "update_project", json!({"id": s.project, "data": {"name": renamed}}), expected).await;
    }
    for (api, expected) in [(&s.editor, Forbidden), (&s.viewer, Forbidden), (&s.outsider, NotFound), (&s.owner, Ok)] {
        expect(api, "delete_project", json!({"id": s.project}), expected).await;
    }
    // Gone, with its memberships: the editor no longer sees it.
    expect(&s.editor, "get_project", json!({"id": s.project}), NotFound).await;
}

#[tokio::test]
async fn managing_members_takes_the_owner() {
    let s = shared().await;
    let (editor, viewer) = (s.ids.editor, s.ids.viewer);
    s.app.user("newbie").await;
    for (api, expected) in [(&s.editor, Forbidden), (&s.viewer, Forbidden), (&s.outsider, NotFound)] {
        let add = json!({"project_id": s.project, "username": "newbie", "role": "viewer"});
        expect(api, "add_project_member", add, expected).await;
        let promote = json!({"project_id": s.project, "user_id": viewer, "role": "editor"});
        expect(api, "update_project_member", promote, expected).await;
    }
    // Removing someone else: the editor and the viewer may not, even each other.
    expect(&s.editor, "remove_project_member", json!({"project_id": s.project, "user_id": viewer}), Forbidden).await;
    expect(&s.viewer, "remove_project_member", json!({"project_id": s.project, "user_id": editor}), Forbidden).await;
    expect(&s.outsider, "remove_project_member", json!({"project_id": s.project, "user_id": viewer}), NotFound).await;

    let added = s
        .owner
        .ok("add_project_member", json!({"project_id": s.project, "username": "newbie", "role": "viewer"}))
        .await;
    assert_eq!(added["role"], "viewer");
    let again = json!({"project_id": s.project, "username": "NEWBIE", "role": "editor"});
    expect(&s.owner, "add_project_member", again, Conflict).await;
    let nobody = json!({"project_id": s.project, "username": "nobody", "role": "editor"});
    let unknown = expect(&s.owner, "add_project_member", nobody, NotFound).await;
    assert_eq!(unknown["error"]["data"]["entity"], "user", "{unknown}");
    // A name no account could have is just as unknown.
    let impossible = json!({"project_id": s.project, "username": "no spaces allowed", "role": "editor"});
    let unknown = expect(&s.owner, "add_project_member", impossible, NotFound).await;
    assert_eq!(unknown["error"]["data"]["entity"], "user", "{unknown}");
    let as_owner = json!({"project_id": s.project, "username": "otto", "role": "owner"});
    assert_error(&s.owner.err("add_project_member", as_owner).await, -32602, "InvalidParams");

    let promoted = s
        .owner
        .ok("update_project_member", json!({"project_id": s.project, "user_id": viewer, "role": "editor"}))
        .await;
    assert_eq!(promoted["role"], "editor");
    let removed =
        s.owner.ok("remove_project_member", json!({"project_id": s.project, "user_id": added["user_id"]})).await;
    assert_eq!(removed["username"], "newbie");

    // Owner first, then by username.
    let members = s.owner.ok("list_project_members", json!({"project_id": s.project})).await;
    let names: Vec<_> = members.as_array().unwrap().iter().map(|m| m["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["olive", "eddie", "vera"]);
}

#[tokio::test]
async fn members_but_the_owner_may_leave() {
    let s = shared().await;
    let owner_id = user_id(&s.owner).await;
    let leave = |id: i64| json!({"project_id": s.project, "user_id": id});
    expect(&s.owner, "remove_project_member", leave(owner_id), Conflict).await;
    expect(&s.viewer, "remove_project_member", leave(s.ids.viewer), Ok).await;
    expect(&s.viewer, "get_project", json!({"id": s.project}), NotFound).await;
    expect(&s.editor, "remove_project_member", leave(s.ids.editor), Ok).await;
    // The owner cannot be demoted either but by a transfer.
    let demote = json!({"project_id": s.project, "user_id": owner_id, "role": "editor"});
    expect(&s.owner, "update_project_member", demote, Conflict).await;
    let members = s.owner.ok("list_project_members", json!({"project_id": s.project})).await;
    assert_eq!(members.as_array().map(Vec::len), Some(1), "{members}");
}

#[tokio::test]
async fn making_a_member_owner_transfers_ownership() {
    let s = shared().await;
    let old_owner = user_id(&s.owner).await;
    let transfer = json!({"project_id": s.project, "user_id": s.ids.editor, "role": "owner"});
    let new_owner = s.owner.ok("update_project_member", transfer).await;
    assert_eq!(new_owner["role"], "owner");

    let project = s.editor.ok("get_project", json!({"id": s.project})).await;
    assert_eq!((project["owner_id"].as_i64(), project["role"].as_str()), (Some(s.ids.editor), Some("owner")));
    let seen_by_old = s.owner.ok("get_project", json!({"id": s.project})).await;
    assert_eq!(seen_by_old["role"], "editor", "the old owner stays on as an editor");
    // Now the old owner edits tasks but no longer manages.
    new_task(&s.owner, s.project, "still an editor").await;
    expect(&s.owner, "update_project", json!({"id": s.project, "data": {"name": "mine?"}}), Forbidden).await;
    let back = json!({"project_id": s.project, "user_id": old_owner, "role": "owner"});
    expect(&s.owner, "update_project_member", back.clone(), Forbidden).await;
    s.editor.ok("update_project_member", back).await;
    assert_eq!(s.owner.ok("get_project", json!({"id": s.project})).await["role"], "owner");
}

#[tokio::test]
async fn role_is_a_field_like_any_other() {
    let s = shared().await;
    let mine = s.editor.ok("create_project", json!({"data": {"name": "Eddie's own"}})).await;
    assert_eq!(mine["role"], "owner", "a create answers the caller's role too");
    let shared_with_me = s.editor.ok("list_projects", json!({"filters": {"role": "editor"}})).await;
    let ids: Vec<_> = shared_with_me.as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [s.project]);
    let ordered = s.editor.ok("list_projects", json!({"list_options": {"order_bys": "role"}})).await;
    let roles: Vec<_> = ordered.as_array().unwrap().iter().map(|p| p["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["editor", "owner"]);
    // A page by cursor in the order of role goes on where it stopped.
    let first = s.editor.rpc("list_projects", json!({"list_options": {"order_bys": "!role", "limit": 1}})).await;
    assert_eq!(first["result"]["data"][0]["role"], "owner", "{first}");
    let cursor = first["result"]["next_cursor"].clone();
    let next = s.editor.ok("list_projects", json!({"list_options": {"order_bys": "!role", "cursor": cursor}})).await;
    assert_eq!(next.as_array().map(Vec::len), Some(1));
    assert_eq!(next[0]["role"], "editor");
    let data = json!({"id": s.project, "data": {"role": "owner"}});
    assert_error(&s.owner.err("update_project", data).await, -32602, "InvalidParams");
}

#[tokio::test]
async fn batches_and_transactions_apply_the_same_rules() {
    let s = shared().await;
    let task = new_task(&s.owner, s.project, "in a batch").await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "get_task", "params": {"id": task}},
        {"jsonrpc": "2.0", "id": 2, "method": "update_task", "params": {"id": task, "data": {"done": true}}},
        {"jsonrpc": "2.0", "id": 3, "method": "add_project_member",
         "params": {"project_id": s.project, "username": "otto", "role": "viewer"}},
    ]);
    let (status, answers) = s.viewer.post("/api/rpc", batch).await;
    assert_eq!(status, 200);
    let answers = answers.as_array().expect("a batch answer");
    check(&answers[0], Ok, "viewer's get_task in a batch");
    check(&answers[1], Forbidden, "viewer's update_task in a batch");
    check(&answers[2], Forbidden, "viewer's add_project_member in a batch");

    let refused = transaction(&s.viewer, vec![call("update_task", json!({"id": task, "data": {"title": "no"}}))]).await;
    assert_error(&refused["error"], -32003, "Forbidden");
    assert_eq!(refused["error"]["data"]["call_index"], 0);
    // A run of creates by a viewer: refused, naming the call, and nothing created.
    let creates =
        (0..3).map(|n| call("create_task", json!({"data": {"project_id": s.project, "title": format!("t{n}")}})));
    let refused = transaction(&s.viewer, creates.collect()).await;
    assert_error(&refused["error"], -32003, "Forbidden");
    assert_eq!(refused["error"]["data"]["call_index"], 0);
    let count = s.owner.ok("count_tasks", json!({"filters": {"project_id": s.project}})).await;
    assert_eq!(count, 1);

    let calls = vec![
        call("create_task", json!({"data": {"project_id": s.project, "title": "by the editor"}})),
        call("update_task", json!({"id": {"$ref": "0.data.id"}, "data": {"done": true}})),
    ];
    let done = transaction(&s.editor, calls).await;
    assert_eq!(done["result"]["data"][1]["data"]["done"], true, "{done}");
    // Member changes and a transfer in one transaction, all or none: after the transfer the
    // caller manages no more, within the transaction too.
    let calls = vec![
        call("update_project_member", json!({"project_id": s.project, "user_id": s.ids.viewer, "role": "editor"})),
        call("update_project_member", json!({"project_id": s.project, "user_id": s.ids.editor, "role": "owner"})),
        call("add_project_member", json!({"project_id": s.project, "username": "otto", "role": "viewer"})),
    ];
    let undone = transaction(&s.owner, calls).await;
    assert_error(&undone["error"], -32003, "Forbidden");
    assert_eq!(undone["error"]["data"]["call_index"], 2);
    assert_eq!(s.owner.ok("get_project", json!({"id": s.project})).await["role"], "owner", "rolled back");
    assert_eq!(s.viewer.ok("get_project", json!({"id": s.project})).await["role"], "viewer", "rolled back");
}

#[tokio::test]
async fn racing_transfers_leave_exactly_one_owner() {
    let s = shared().await;
    let owner_id = user_id(&s.owner).await;
    // The owner hands the project to the editor and to the viewer at once, several times over.
    let mut handed = 0;
    for round in 0..5 {
        let to = |user_id: i64| json!({"project_id": s.project, "user_id": user_id, "role": "owner"});
        let (a, b) = tokio::join!(
            s.owner.rpc("update_project_member", to(s.ids.editor)),
            s.owner.rpc("update_project_member", to(s.ids.viewer)),
        );
        let won: Vec<_> = [&a, &b].into_iter().filter(|r| r.get("error").is_none()).collect();
        assert!(won.len() <= 1, "round {round}: two transfers won: {a} {b}");
        for lost in [&a, &b].into_iter().filter(|r| r.get("error").is_some()) {
            let code = lost["error"]["code"].as_i64();
            assert!(matches!(code, Some(-32003 | -32009)), "round {round}: {lost}");
        }
        handed += won.len();
        // Whoever owns it now hands it back, for the next round.
        let members = s.owner.ok("list_project_members", json!({"project_id": s.project})).await;
        let owners: Vec<_> = members.as_array().unwrap().iter().filter(|m| m["role"] == "owner").collect();
        assert_eq!(owners.len(), 1, "round {round}: {members}");
        let project = s.owner.ok("get_project", json!({"id": s.project})).await;
        assert_eq!(project["owner_id"], owners[0]["user_id"], "round {round}: owner_id follows the owner");
        let current = owners[0]["user_id"].as_i64().unwrap();
        if current != owner_id {
            let holder = if current == s.ids.editor { &s.editor } else { &s.viewer };
            holder
                .ok("update_project_member", json!({"project_id": s.project, "user_id": owner_id, "role": "owner"}))
                .await;
        }
    }
    assert!(handed >= 1, "some transfer went through");
}

#[tokio::test]
async fn a_membership_change_on_one_instance_holds_at_once_on_the_other() {
    let app = common::spawn_two_instances().await;
    let owner = app.user("olive").await;
    app.user("vera").await;
    let project = owner.ok("create_project", json!({"data": {"name": "Shared"}})).await["id"].clone();
    let member =
        owner.ok("add_project_member", json!({"project_id": project, "username": "vera", "role": "editor"})).await;
    let vera_on_peer = app.peer_client(&app.login_cookie("vera").await);
    let data = json!({"data": {"project_id": project, "title": "from the other instance"}});
    expect(&vera_on_peer, "create_task", data.clone(), Ok).await;

    // Each change on the first instance; the very next call on the second sees it: no role is
    // cached anywhere.
    let demote = json!({"project_id": project, "user_id": member["user_id"], "role": "viewer"});
    owner.ok("update_project_member", demote).await;
    expect(&vera_on_peer, "create_task", data.clone(), Forbidden).await;
    owner.ok("remove_project_member", json!({"project_id": project, "user_id": member["user_id"]})).await;
    expect(&vera_on_peer, "create_task", data, NotFound).await;
}

#[tokio::test]
async fn the_cells_around_the_edges() {
    let s = shared().await;
    let owner_id = user_id(&s.owner).await;
    let outsider_id = user_id(&s.outsider).await;
    let task = s.owner.ok("create_task", json!({"data": {"project_id": s.project, "title": "edge"}})).await;

    // No one raises their own role, and no one but the owner removes the owner.
    for role in ["editor", "owner"] {
        let raise = json!({"project_id": s.project, "user_id": s.ids.viewer, "role": role});
        expect(&s.viewer, "update_project_member", raise, Forbidden).await;
    }
    let drop_owner = json!({"project_id": s.project, "user_id": owner_id});
    expect(&s.editor, "remove_project_member", drop_owner.clone(), Forbidden).await;
    expect(&s.viewer, "remove_project_member", drop_owner, Forbidden).await;
    // Ownership goes only to a member.
    let to_outsider = json!({"project_id": s.project, "user_id": outsider_id, "role": "owner"});
    let refused = expect(&s.owner, "update_project_member", to_outsider, NotFound).await;
    assert_eq!(refused["error"]["data"]["entity"], "member", "{refused}");

    // A viewer's update is refused whatever else it carries: an if_mtime, no fields at all.
    let stale = json!({"id": task["id"], "data": {"done": true}, "if_mtime": "2000-01-01T00:00:00Z"});
    expect(&s.viewer, "update_task", stale.clone(), Forbidden).await;
    expect(&s.viewer, "update_task", json!({"id": task["id"], "data": {}}), Forbidden).await;
    expect(&s.outsider, "update_task", stale, NotFound).await;
    expect(&s.outsider, "update_task", json!({"id": task["id"], "data": {}}), NotFound).await;

    // The outsider's batched gets (one statement for the batch) and transaction find nothing.
    let gets = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "get_task", "params": {"id": task["id"]}},
        {"jsonrpc": "2.0", "id": 2, "method": "get_task", "params": {"id": task["id"]}},
    ]);
    let (_, answers) = s.outsider.post("/api/rpc", gets.clone()).await;
    for answer in answers.as_array().expect("a batch answer") {
        check(answer, NotFound, "outsider's batched get_task");
    }
    let (_, answers) = s.viewer.post("/api/rpc", gets).await;
    for answer in answers.as_array().expect("a batch answer") {
        check(answer, Ok, "viewer's batched get_task");
    }
    let create = call("create_task", json!({"data": {"project_id": s.project, "title": "sneaked in"}}));
    let refused = transaction(&s.outsider, vec![create]).await;
    assert_error(&refused["error"], -32004, "EntityNotFound");
    assert_eq!(refused["error"]["data"]["call_index"], 0);
}

#[tokio::test]
async fn a_member_leaving_while_handed_the_project_never_leaves_it_ownerless() {
    let s = shared().await;
    let owner_id = user_id(&s.owner).await;
    for round in 0..20 {
        let handover = json!({"project_id": s.project, "user_id": s.ids.editor, "role": "owner"});
        let leave = json!({"project_id": s.project, "user_id": s.ids.editor});
        let (handed, left) =
            tokio::join!(s.owner.rpc("update_project_member", handover), s.editor.rpc("remove_project_member", leave),);
        let (handed, left) = (handed.get("error").is_none(), left.get("error").is_none());
        assert!(!(handed && left), "round {round}: both went through");

        let members = s.owner.ok("list_project_members", json!({"project_id": s.project})).await;
        let owners: Vec<_> = members.as_array().unwrap().iter().filter(|m| m["role"] == "owner").collect();
        assert_eq!(owners.len(), 1, "round {round}: {members}");
        let project = s.owner.ok("get_project", json!({"id": s.project})).await;
        assert_eq!(project["owner_id"], owners[0]["user_id"], "round {round}: {project}");
        // Back to the start: the owner owns it and the editor is a member.
        if handed {
            let back = json!({"project_id": s.project, "user_id": owner_id, "role": "owner"});
            s.editor.ok("update_project_member", back).await;
        } else {
            let again = json!({"project_id": s.project, "username": "eddie", "role": "editor"});
            if s.owner.rpc("add_project_member", again).await.get("error").is_some() {
                // Neither went through (both refused): the editor is still a member.
                assert!(!left, "round {round}");
            }
        }
    }
}
