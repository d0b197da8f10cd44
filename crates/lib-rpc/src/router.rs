//! [`RpcRouter`]: methods by name, each decoding its own params and writing its own result.
//!
//! A method is stored type-erased: it takes the request's raw params, decodes them into its
//! params type, runs the handler, and hands back a [`WriteResult`] that serialises the result
//! later, straight into the answer (see `answer.rs`), so no result is ever held as JSON text
//! twice. The dispatch of a body's requests is in `dispatch.rs`.

use crate::Result;
use crate::answer::{Answer, ResultWriter};
use crate::openrpc::{MethodDoc, Shape};
use crate::unwind::BoxFuture;
use lib_core::Ctx;
use lib_model::ModelManager;
use lib_model::base::{Identified, Page};
use lib_model::session::NewSession;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, OnceLock};

/// Serialises one call's result into the answer.
pub(crate) type WriteResult = Box<dyn FnOnce(&mut ResultWriter<'_>) -> serde_json::Result<()> + Send>;
/// A call's result, ready to be written, and the session it replaced the caller's with, if any.
pub(crate) type MethodFuture = BoxFuture<(WriteResult, Option<NewSession>)>;
type Method = Box<dyn Fn(Ctx, ModelManager, Option<&RawValue>) -> MethodFuture + Send + Sync>;
type FetchMany = Box<dyn Fn(Ctx, ModelManager, Vec<i64>) -> BoxFuture<Box<dyn Rows>> + Send + Sync>;
/// Creates rows from the params of several `create_*` calls, in one statement, all or none.
pub(crate) type CreateMany =
    Box<dyn Fn(Ctx, ModelManager, &[Option<&RawValue>]) -> BoxFuture<Vec<WriteResult>> + Send + Sync>;

/// Reads many rows of one entity by id in one statement: how a batch's run of `get_*` calls is
/// answered.
pub(crate) struct GetMany {
    pub(crate) entity: &'static str,
    pub(crate) fetch: FetchMany,
}

/// The rows a `get_many` found, by id, each written as `{"data": row}` when asked for (once per
/// call that asked, the same id possibly twice).
pub(crate) trait Rows: Send + Sync {
    fn contains(&self, id: i64) -> bool;
    fn write(&self, id: i64, writer: &mut ResultWriter<'_>) -> serde_json::Result<()>;
}

struct RowsById<R>(HashMap<i64, R>);

impl<R: Serialize + Send + Sync> Rows for RowsById<R> {
    fn contains(&self, id: i64) -> bool {
        self.0.contains_key(&id)
    }

    fn write(&self, id: i64, writer: &mut ResultWriter<'_>) -> serde_json::Result<()> {
        serde_json::to_writer(writer, &DataResult { data: self.0.get(&id) })
    }
}

/// The registered methods. Built once at start, shared by every request.
#[derive(Default)]
pub struct RpcRouter {
    /// What the OpenRPC document says of each method, in the order they were registered.
    pub(crate) docs: Vec<MethodDoc>,
    /// The OpenRPC document, built from `docs` the first time it is asked for.
    pub(crate) document: OnceLock<Arc<Box<RawValue>>>,
    pub(crate) methods: HashMap<&'static str, Method>,
    pub(crate) get_many: HashMap<&'static str, GetMany>,
    /// The methods a `transaction` may call: the entity methods (see `transaction.rs`).
    pub(crate) transactional: HashSet<&'static str>,
    /// The `create_*` methods whose runs in a transaction are created by one statement.
    pub(crate) create_many: HashMap<&'static str, CreateMany>,
}

/// What one body produced: the response body (`None`: nothing to answer, HTTP 204) and, for the
/// request's log line and metrics, the methods called, the error kinds answered and each call.
#[derive(Debug, Default)]
pub struct RpcOutcome {
    /// Counted against the answer bytes in flight until it is dropped: hand it to the transport
    /// by move.
    pub body: Option<Answer>,
    pub methods: Vec<String>,
    pub error_kinds: Vec<&'static str>,
    pub calls: Vec<CallRecord>,
    /// A call replaced the caller's session (`change_pwd`): the web layer sends its cookie.
    pub new_session: Option<NewSession>,
}

/// One call of a body, for metrics: every field is from a bounded set, never client text.
#[derive(Debug, Clone, Copy)]
pub struct CallRecord {
    /// A registered method's name, or [`OTHER_METHOD`] for a name no method has.
    pub method: &'static str,
    /// `ok`, or the kind of the error answered.
    pub outcome: &'static str,
    pub duration: std::time::Duration,
}

/// The method of a call whose name is not registered (or that was not a valid request).
pub const OTHER_METHOD: &str = "_OTHER";

impl RpcRouter {
    /// `method` as one of the router's own names: the registered one, or [`OTHER_METHOD`].
    pub(crate) fn method_label(&self, method: &str) -> &'static str {
        use crate::live::{SUBSCRIBE, UNSUBSCRIBE};
        use crate::openrpc::DISCOVER;
        use crate::transaction::TRANSACTION;
        if let Some((name, _)) = self.methods.get_key_value(method) {
            return name;
        }
        [TRANSACTION, DISCOVER, SUBSCRIBE, UNSUBSCRIBE].into_iter().find(|name| *name == method).unwrap_or(OTHER_METHOD)
    }
}

/// Every method answers `{"data": ...}`.
#[derive(Serialize)]
pub(crate) struct DataResult<T> {
    pub(crate) data: T,
}

/// A `list_*` answers its page's rows and where the next page starts.
#[derive(Serialize)]
struct PageResult<T> {
    data: Vec<T>,
    next_cursor: Option<String>,
}

impl RpcRouter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` under `name`. Its params are decoded strictly from the request's
    /// named params, and its result is answered as `{"data": result}`.
    pub fn add<P, R, F, Fut>(&mut self, name: &'static str, handler: F) -> &mut Self
    where
        P: DeserializeOwned + JsonSchema + Send + 'static,
        R: Serialize + JsonSchema + Send + 'static,
        F: Fn(Ctx, ModelManager, P) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<R>> + Send + 'static,
    {
        self.add_replacing_session(name, move |ctx, mm, params: P| async move {
            Ok((handler(ctx, mm, params).await?, None))
        })
    }

    /// As [`RpcRouter::add`], for a method that may end the caller's session and start a new
    /// one (`change_pwd`): the new session reaches [`RpcOutcome::new_session`].
    pub fn add_replacing_session<P, R, F, Fut>(&mut self, name: &'static str, handler: F) -> &mut Self
    where
        P: DeserializeOwned + JsonSchema + Send + 'static,
        R: Serialize + JsonSchema + Send + 'static,
        F: Fn(Ctx, ModelManager, P) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<(R, Option<NewSession>)>> + Send + 'static,
    {
        self.docs.push(MethodDoc::new::<P, R>(name, Shape::Data));
        self.register(name, move |ctx, mm, params: P| async move {
            let (data, new_session) = handler(ctx, mm, params).await?;
            Ok((DataResult { data }, new_session))
        })
    }

    /// Registers the `list_*` method `name`: its handler answers a page, written as
    /// `{"data": rows, "next_cursor": s | null}`.
    pub fn add_list<P, R, F, Fut>(&mut self, name: &'static str, handler: F) -> &mut Self
    where
        P: DeserializeOwned + JsonSchema + Send + 'static,
        R: Serialize + JsonSchema + Send + 'static,
        F: Fn(Ctx, ModelManager, P) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<Page<R>>> + Send + 'static,
    {
        self.docs.push(MethodDoc::new::<P, R>(name, Shape::Page));
        self.register(name, move |ctx, mm, params: P| async move {
            let page = handler(ctx, mm, params).await?;
            Ok((PageResult { data: page.rows, next_cursor: page.next_cursor }, None))
        })
    }

    /// Registers `handler` under `name`, its result written as it is.
    fn register<P, T, F, Fut>(&mut self, name: &'static str, handler: F) -> &mut Self
    where
        P: DeserializeOwned + Send + 'static,
        T: Serialize + Send + 'static,
        F: Fn(Ctx, ModelManager, P) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<(T, Option<NewSession>)>> + Send + 'static,
    {
        let method: Method = Box::new(move |ctx, mm, params| {
            // Decoded here, from the body's text, before the call is even started.
            let params = crate::params::from_params::<P>(params);
            Box::pin(async move {
                let (result, new_session) = handler(ctx, mm, params?).await?;
                let write: WriteResult = Box::new(move |writer| serde_json::to_writer(writer, &result));
                Ok((write, new_session))
            })
        });
        // `rpc.*` is the protocol's own: `rpc.discover` is answered without a session.
        assert!(!name.starts_with("rpc."), "method {name}: names beginning with rpc. are reserved");
        assert!(self.methods.insert(name, method).is_none(), "method {name} registered twice");
        self
    }

    /// The names of the registered methods (not `transaction` and `rpc.discover`, which the
    /// dispatcher answers itself).
    pub fn method_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.methods.keys().copied()
    }

    /// Documents that the method `name` (registered already) can fail with `errors`, besides
    /// what every method can ([`crate::openrpc`]); each is described as a client would see it.
    pub fn errors(&mut self, name: &str, errors: impl IntoIterator<Item = crate::Error>) -> &mut Self {
        let doc = self.doc_mut(name);
        doc.errors.extend(errors.into_iter().map(|error| error.client_error()));
        self
    }

    /// Documents an example call of the method `name`: its params and its result.
    pub fn example(&mut self, name: &str, params: Value, result: Value) -> &mut Self {
        self.doc_mut(name).examples.push((params, result));
        self
    }

    fn doc_mut(&mut self, name: &str) -> &mut MethodDoc {
        self.docs.iter_mut().find(|doc| doc.name == name).unwrap_or_else(|| panic!("method {name} is not registered"))
    }

    /// Lets `transaction` call the methods `names` (registered already): methods that touch
    /// nothing but the model's entities, so that their effects can be rolled back.
    pub fn allow_in_transactions(&mut self, names: &[&'static str]) -> &mut Self {
        for name in names {
            assert!(self.methods.contains_key(name), "method {name} is not registered");
            self.transactional.insert(name);
        }
        self
    }

    /// Lets a transaction's run of consecutive calls of the `create_*` method `name` be created
    /// by `create` in one statement, each call's params read by `decode` as the method reads
    /// them. The results must be what the calls alone would answer; a failure of the run makes
    /// the transaction run its calls one by one instead, to name the failing call.
    pub fn add_create_many<P, D, R, Dec, F, Fut>(&mut self, name: &'static str, decode: Dec, create: F) -> &mut Self
    where
        P: DeserializeOwned + Send + 'static,
        D: Send + 'static,
        R: Serialize + Send + 'static,
        Dec: Fn(P) -> Result<D> + Send + Sync + Copy + 'static,
        F: Fn(Ctx, ModelManager, Vec<D>) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<Vec<R>>> + Send + 'static,
    {
        let create_many: CreateMany = Box::new(move |ctx, mm, params| {
            let data: Result<Vec<D>> =
                params.iter().map(|params| crate::params::from_params::<P>(*params).and_then(decode)).collect();
            Box::pin(async move {
                let rows = create(ctx, mm, data?).await?;
                let written = rows.into_iter().map(|data| -> WriteResult {
                    Box::new(move |writer| serde_json::to_writer(writer, &DataResult { data }))
                });
                Ok(written.collect())
            })
        });
        assert!(self.transactional.contains(name), "allow {name} in transactions first");
        self.create_many.insert(name, create_many);
        self
    }

    /// Lets consecutive calls of the `get_*` method `name` in a batch be answered together by
    /// `fetch` (one statement for the run instead of one per call). `name` must also be
    /// registered with [`RpcRouter::add`]; results are the same as calling it once per id.
    pub fn add_get_many<R, F, Fut>(&mut self, name: &'static str, entity: &'static str, fetch: F) -> &mut Self
    where
        R: Serialize + Identified + Send + Sync + 'static,
        F: Fn(Ctx, ModelManager, Vec<i64>) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<Vec<R>>> + Send + 'static,
    {
        let fetch: FetchMany = Box::new(move |ctx, mm, ids| -> BoxFuture<Box<dyn Rows>> {
            Box::pin(async move {
                let rows = fetch(ctx, mm, ids).await?;
                let rows: Box<dyn Rows> = Box::new(RowsById(rows.into_iter().map(|row| (row.id(), row)).collect()));
                Ok(rows)
            })
        });
        self.get_many.insert(name, GetMany { entity, fetch });
        self
    }
}
