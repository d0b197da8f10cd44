//! The API's OpenRPC 1.3 document, answered by `rpc.discover` and served at
//! `GET /api/openrpc.json`. It is derived from the registry, built the first time it is asked
//! for and kept:
//!
//! - each method's params and result from the types its handler decodes and answers (JSON
//!   Schemas by `schemars`; an entity's row, inputs, filters and list options from its
//!   declaration, see `lib_model::schema`), shared shapes under `components.schemas`;
//! - the errors it can answer: every method's ([`every_method_errors`]) and those its
//!   registration adds, each described by the mapping clients see ([`Error::client_error`]);
//! - its examples, given at registration (an entity's are made from its declaration).
//!
//! `transaction` is the dispatcher's own method, not the registry's: its entry is made here from
//! the methods a transaction may call.

use crate::Error;
use crate::client::ClientError;
use crate::params::NoParams;
use crate::router::{RpcRouter, WriteResult};
use crate::transaction::TRANSACTION;
use lib_model::session::NewSession;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The reserved method that answers the document; the one method that needs no session.
pub const DISCOVER: &str = "rpc.discover";
/// The version of the API contract the document describes.
pub const CONTRACT_VERSION: &str = "2";
/// Where the document keeps the schemas its methods refer to.
const SCHEMAS_PATH: &str = "/components/schemas";

/// How a method's result wraps what its handler answers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// `{"data": R}`
    Data,
    /// `{"data": [R], "next_cursor": s | null}`
    Page,
}

/// What the document says of one registered method.
pub(crate) struct MethodDoc {
    pub(crate) name: &'static str,
    /// The params object's schema: its properties are the params, by name.
    params: fn(&mut SchemaGenerator) -> Schema,
    /// The schema of what the handler answers (`R`), inside `shape`.
    result: fn(&mut SchemaGenerator) -> Schema,
    shape: Shape,
    pub(crate) errors: Vec<ClientError>,
    pub(crate) examples: Vec<(Value, Value)>,
}

impl MethodDoc {
    pub(crate) fn new<P: JsonSchema, R: JsonSchema>(name: &'static str, shape: Shape) -> Self {
        Self { name, params: P::json_schema, result: subschema::<R>, shape, errors: Vec::new(), examples: Vec::new() }
    }
}

fn subschema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// What any call can fail with, whatever its method: its params, the session ending under it,
/// the statement timeout, the answer's budgets, the database, a bug.
fn every_method_errors() -> Vec<Error> {
    use lib_model::Error as M;
    vec![
        Error::invalid_params("", ""),
        Error::Model(M::SessionEnded),
        Error::Model(M::QueryTimeout),
        Error::AnswerTooLarge { limit_bytes: 0 },
        Error::AnswersInFlight { retry_after: Duration::ZERO },
        Error::Model(M::Unavailable(lib_model::sqlx::Error::PoolTimedOut)),
        Error::Panic(String::new()),
    ]
}

impl RpcRouter {
    /// The OpenRPC document, as JSON text: built on the first call, the same text after.
    pub fn discover(&self) -> &RawValue {
        self.built_document()
    }

    fn built_document(&self) -> &Arc<Box<RawValue>> {
        self.document.get_or_init(|| {
            let document = serde_json::to_string(&self.document_value()).expect("a document is JSON");
            Arc::new(RawValue::from_string(document).expect("a document is JSON"))
        })
    }

    /// A call of `rpc.discover`: no params, the document as its result.
    pub(crate) fn discover_call(&self, params: Option<&RawValue>) -> crate::Result<(WriteResult, Option<NewSession>)> {
        let NoParams {} = crate::params::from_params(params)?;
        let document = Arc::clone(self.built_document());
        let write: WriteResult = Box::new(move |writer| serde_json::to_writer(writer, &**document));
        Ok((write, None))
    }

    fn document_value(&self) -> Value {
        let settings = SchemaSettings::draft07().with(|settings| settings.definitions_path = SCHEMAS_PATH.into());
        let mut generator = settings.into_generator();
        let mut methods: Vec<Value> = self.docs.iter().map(|doc| method(&mut generator, doc)).collect();
        methods.push(self.transaction_method());
        let mut schemas = generator.take_definitions(true);
        for (name, schema) in schemas.iter_mut() {
            // Client generators name a type after its title.
            if let Some(schema) = schema.as_object_mut() {
                schema.entry("title").or_insert_with(|| json!(name));
            }
        }
        json!({
            "openrpc": "1.3.2",
            "info": {
                "title": "web-server JSON-RPC API",
                "version": format!("{CONTRACT_VERSION}.0.0+server.{}", env!("CARGO_PKG_VERSION")),
                "description": "JSON-RPC 2.0 over `POST /api/rpc` of the server that answered this \
                    document (session cookie from `POST /api/login`). \
                    Params are by name. `info.version` is the contract's major version, then the \
                    server's. The examples run in order (deletes and change_pwd last) on a freshly \
                    seeded development database as its demo user, after a user demo2 has signed up. \
                    Results may carry fields a schema does not name yet (see Versions in docs/api.md).",
            },
            "methods": methods,
            "components": {"schemas": schemas},
        })
    }

    /// `transaction`: its calls are any of the methods a transaction may call.
    fn transaction_method(&self) -> Value {
        let callable: Vec<&str> =
            self.docs.iter().map(|doc| doc.name).filter(|name| self.transactional.contains(name)).collect();
        let calls = json!({
            "type": "array",
            "minItems": 1,
            "items": {
                "title": "TransactionCall",
                "type": "object",
                "properties": {
                    "method": {"type": "string", "enum": callable},
                    "params": {"type": "object", "description": "The method's params; `{\"$ref\": \"i.path\"}` reads a value from call i's result."},
                },
                "required": ["method"],
                "additionalProperties": false,
            },
        });
        let result = json!({
            "title": "TransactionResult",
            "type": "object",
            "properties": {"data": {"type": "array", "description": "Each call's result, in order."}},
            "required": ["data"],
        });
        let errors = self
            .docs
            .iter()
            .filter(|doc| self.transactional.contains(doc.name))
            .flat_map(|doc| doc.errors.iter().cloned());
        let errors = every_method_errors().into_iter().map(|error| error.client_error()).chain(errors);
        json!({
            "name": TRANSACTION,
            "summary": "Runs its calls in order in one database transaction: all or nothing.",
            "paramStructure": "by-name",
            "params": [{"name": "calls", "required": true, "schema": calls}],
            "result": {"name": "result", "schema": result},
            "errors": error_objects(errors),
            "examples": self.transaction_example().into_iter().collect::<Vec<_>>(),
        })
    }
}

impl RpcRouter {
    /// A transaction of the first two methods a transaction may call, made of their own
    /// examples, the second reading the id the first answered (`{"$ref": "0.data.id"}`): a
    /// create and a get of the first entity.
    fn transaction_example(&self) -> Option<Value> {
        let mut callable = self.docs.iter().filter(|doc| self.transactional.contains(doc.name));
        let (first, second) = (callable.next()?, callable.next()?);
        let ((first_params, first_result), (second_params, second_result)) =
            (first.examples.first()?, second.examples.first()?);
        let mut second_params = second_params.clone();
        if let Some(id) = second_params.get_mut("id") {
            *id = json!({"$ref": "0.data.id"});
        }
        let calls = json!([
            {"method": first.name, "params": first_params},
            {"method": second.name, "params": second_params},
        ]);
        Some(json!({
            "name": "transaction-example-1",
            "params": [{"name": "calls", "value": calls}],
            "result": {"name": "result", "value": {"data": [first_result, second_result]}},
        }))
    }
}

fn method(generator: &mut SchemaGenerator, doc: &MethodDoc) -> Value {
    let params_object = (doc.params)(generator).to_value();
    let required: Vec<&str> =
        params_object["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let params: Vec<Value> = params_object["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| json!({"name": name, "required": required.contains(&name.as_str()), "schema": schema}))
        .collect();
    let data = (doc.result)(generator).to_value();
    let title = format!("{}Result", pascal_case(doc.name));
    let result = match doc.shape {
        Shape::Data => json!({
            "title": title,
            "type": "object",
            "properties": {"data": data},
            "required": ["data"],
        }),
        Shape::Page => json!({
            "title": title,
            "type": "object",
            "properties": {
                "data": {"type": "array", "items": data},
                "next_cursor": {"type": ["string", "null"], "description": "Where the next page starts: give it as `list_options.cursor`; null on the last page."},
            },
            "required": ["data", "next_cursor"],
        }),
    };
    let errors = every_method_errors().into_iter().map(|error| error.client_error()).chain(doc.errors.iter().cloned());
    let examples: Vec<Value> = doc
        .examples
        .iter()
        .enumerate()
        .map(|(index, (params, result))| {
            let params: Vec<Value> = params
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect();
            json!({"name": format!("{}-example-{}", doc.name, index + 1), "params": params, "result": {"name": "result", "value": result}})
        })
        .collect();
    json!({
        "name": doc.name,
        "paramStructure": "by-name",
        "params": params,
        "result": {"name": "result", "schema": result},
        "errors": error_objects(errors),
        "examples": examples,
    })
}

/// Each error as the document says it: code, message, and `data.kind` (with `data.entity` where
/// the error names one); the same error twice is said once.
fn error_objects(errors: impl Iterator<Item = ClientError>) -> Vec<Value> {
    let mut objects: Vec<Value> = Vec::new();
    for error in errors {
        let mut data = Map::new();
        data.insert("kind".into(), json!(error.kind));
        if let Some(entity) = error.data.get("entity") {
            data.insert("entity".into(), entity.clone());
        }
        let object = json!({"code": error.code.number(), "message": error.message, "data": data});
        if !objects.contains(&object) {
            objects.push(object);
        }
    }
    objects
}

/// `create_task` → `CreateTask`.
fn pascal_case(name: &str) -> String {
    name.split(['_', '.'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect()
}
