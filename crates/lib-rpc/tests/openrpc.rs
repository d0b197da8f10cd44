//! The OpenRPC document is derived from the registry and the entity declarations: its methods
//! are the router's, every `$ref` resolves, every method has an example whose params it
//! declares, and an entity declared in this file alone appears in it whole, with no other edit.

use lib_core::Ctx;
use lib_model::base::{Access, Audit, DbBmc, Entity, WriteFields, WriteScope};
use lib_model::sea_query::{Condition, Expr, Value as SqlValue};
use lib_model::serde_fields::{nullable, present};
use lib_rpc::RpcRouter;
use serde::Deserialize;
use serde_json::{Value, json};

/// An entity that exists only in this test: a new field of it must reach every schema.
#[derive(Debug, Clone, Entity)]
#[entity(create = WidgetForCreate, update = WidgetForUpdate)]
pub struct Widget {
    pub id: i64,
    pub label: String,
    pub weight: Option<i64>,
    #[entity(flatten)]
    pub audit: Audit,
}

#[derive(Debug, Deserialize, WriteFields)]
#[serde(deny_unknown_fields)]
pub struct WidgetForCreate {
    pub label: String,
    pub weight: Option<i64>,
}

#[derive(Debug, Default, Deserialize, WriteFields)]
#[serde(deny_unknown_fields)]
pub struct WidgetForUpdate {
    #[serde(default, deserialize_with = "present")]
    pub label: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub weight: Option<Option<i64>>,
}

pub struct WidgetBmc;

impl DbBmc for WidgetBmc {
    const ENTITY: &'static str = "widget";
    const TABLE: &'static str = "widget";
    type Entity = Widget;

    fn scope(_: &Expr, _: Access) -> Condition {
        Condition::all()
    }

    fn write_scope(_: &Ctx, _: &[(&'static str, SqlValue)]) -> WriteScope {
        WriteScope { owned: Vec::new(), parent: None }
    }
}

lib_model::generate_crud_fns!(WidgetBmc);

fn document(router: &RpcRouter) -> Value {
    serde_json::from_str(router.discover().get()).unwrap()
}

fn method<'d>(document: &'d Value, name: &str) -> &'d Value {
    document["methods"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn the_document_lists_exactly_the_registered_methods() {
    let router = lib_rpc::methods::router();
    let document = document(&router);
    let mut listed: Vec<&str> =
        document["methods"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    let mut registered: Vec<&str> = router.method_names().collect();
    registered.push("transaction");
    listed.sort_unstable();
    registered.sort_unstable();
    assert_eq!(listed, registered);
    // The contract's methods, as its tables name them.
    let mut contract = vec![
        "create_project",
        "get_project",
        "list_projects",
        "count_projects",
        "update_project",
        "delete_project",
        "create_task",
        "get_task",
        "list_tasks",
        "count_tasks",
        "update_task",
        "delete_task",
        "get_me",
        "change_pwd",
        "add_project_member",
        "list_project_members",
        "update_project_member",
        "remove_project_member",
        "transaction",
    ];
    contract.sort_unstable();
    assert_eq!(listed, contract);
    assert_eq!(document["openrpc"], "1.3.2");
    assert!(document["info"]["version"].as_str().unwrap().starts_with("2."), "{}", document["info"]["version"]);
}

#[test]
fn every_method_has_an_example_of_its_own_params_and_every_ref_resolves() {
    let router = lib_rpc::methods::router();
    let document = document(&router);
    for method in document["methods"].as_array().unwrap() {
        let name = method["name"].as_str().unwrap();
        assert_eq!(method["paramStructure"], "by-name", "{name}");
        let params: Vec<&str> =
            method["params"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        let examples = method["examples"].as_array().unwrap();
        assert!(!examples.is_empty(), "{name} has no example");
        for example in examples {
            for param in example["params"].as_array().unwrap() {
                assert!(params.contains(&param["name"].as_str().unwrap()), "{name}: example param {param}");
            }
        }
        let codes: Vec<i64> =
            method["errors"].as_array().unwrap().iter().map(|e| e["code"].as_i64().unwrap()).collect();
        assert!(codes.contains(&-32602) && codes.contains(&-32603), "{name}: {codes:?}");
    }
    // Schema references; a transaction example's `{"$ref": "0.data.id"}` is the API's own syntax.
    let text = document.to_string();
    let references = text.split("\"$ref\":\"#").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]);
    for reference in references {
        let name = reference.strip_prefix("/components/schemas/").unwrap_or_else(|| panic!("{reference}"));
        assert!(document["components"]["schemas"].get(name).is_some(), "{reference} does not resolve");
    }
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        assert_eq!(schema["title"], *name, "client generators name types by title");
    }
}

#[test]
fn errors_are_the_ones_a_method_can_answer() {
    let router = lib_rpc::methods::router();
    let document = document(&router);
    let kinds = |name| -> Vec<String> {
        method(&document, name)["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["data"]["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(!kinds("get_task").contains(&"Forbidden".to_owned()), "a read is never forbidden: {:?}", kinds("get_task"));
    assert!(kinds("update_task").contains(&"Stale".to_owned()));
    assert!(kinds("create_task").contains(&"Forbidden".to_owned()), "a task is created in a project");
    assert!(!kinds("create_project").contains(&"Forbidden".to_owned()), "a project has no parent");
    assert!(kinds("change_pwd").contains(&"Conflict".to_owned()), "a login re-hashed the password meanwhile");
    assert!(!kinds("get_me").contains(&"Conflict".to_owned()));
    assert!(kinds("remove_project_member").contains(&"EntityNotFound".to_owned()));
    let transaction = kinds("transaction");
    for kind in ["EntityNotFound", "Forbidden", "Stale", "Conflict"] {
        assert!(transaction.contains(&kind.to_owned()), "transaction: {kind} from its calls");
    }
}

#[test]
fn an_entity_declared_once_appears_whole() {
    let mut router = RpcRouter::new();
    lib_rpc::crud_methods!(router, "widget", "widgets", WidgetBmc);
    let document = document(&router);
    let schemas = &document["components"]["schemas"];

    assert_eq!(schemas["Widget"]["properties"]["weight"]["type"], json!(["integer", "null"]));
    assert!(schemas["Widget"]["required"].as_array().unwrap().contains(&json!("weight")));
    assert_eq!(schemas["WidgetForCreate"]["properties"]["weight"]["type"], json!(["integer", "null"]));
    assert_eq!(schemas["WidgetForCreate"]["required"], json!(["label"]));
    assert_eq!(schemas["WidgetForUpdate"]["properties"]["label"]["type"], "string", "present: null is refused");
    assert_eq!(schemas["WidgetForUpdate"]["properties"]["weight"]["type"], json!(["integer", "null"]));
    assert_eq!(schemas["WidgetForUpdate"]["required"], json!([]));
    let weight_filter = &schemas["WidgetFilter"]["properties"]["weight"]["anyOf"];
    assert_eq!(weight_filter[1]["$ref"], "#/components/schemas/IntOperators");
    assert_eq!(schemas["IntOperators"]["properties"]["$in"]["type"], "array");
    let orders = &schemas["WidgetListOptions"]["properties"]["order_bys"]["anyOf"][1]["enum"];
    assert!(orders.as_array().unwrap().contains(&json!("!weight")), "{orders}");

    let create = method(&document, "create_widget");
    assert_eq!(create["params"][0]["schema"]["$ref"], "#/components/schemas/WidgetForCreate");
    assert_eq!(create["examples"][0]["params"][0]["value"]["weight"], 1);
    let list = method(&document, "list_widgets");
    assert_eq!(list["result"]["schema"]["properties"]["data"]["items"]["$ref"], "#/components/schemas/Widget");
    assert_eq!(<Widget as Entity>::ForCreate::FIELDS, ["label", "weight"]);
}
