//! Live updates, JSON-RPC's side: `subscribe` and `unsubscribe`, which exist only where the
//! transport keeps subscriptions (a socket passes its [`Subscriptions`] to
//! [`RpcRouter::handle_on_socket`](crate::RpcRouter::handle_on_socket)), and the `changed`
//! notifications a batch of changes makes for the subscriptions that may see it ([`deliver`]).

use crate::answer::ResultWriter;
use crate::router::{DataResult, WriteResult};
use crate::{Error, Result};
use lib_core::Ctx;
use lib_model::ModelManager;
use lib_model::base::DbBmc;
use lib_model::live::{self, Delivered};
pub use lib_model::live::{LiveEvent, LiveFilter, Op, Subscriber};
use lib_model::project::ProjectBmc;
use lib_model::session::NewSession;
use lib_model::task::TaskBmc;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::future::Future;
use std::pin::Pin;

pub const SUBSCRIBE: &str = "subscribe";
pub const UNSUBSCRIBE: &str = "unsubscribe";

/// What may be subscribed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LiveEntity {
    Project,
    Task,
}

impl LiveEntity {
    /// The entity whose table a change announcement names.
    pub fn of_table(table: &str) -> Option<Self> {
        [LiveEntity::Project, LiveEntity::Task].into_iter().find(|entity| entity.table() == table)
    }

    fn table(self) -> &'static str {
        match self {
            LiveEntity::Project => ProjectBmc::TABLE,
            LiveEntity::Task => TaskBmc::TABLE,
        }
    }
}

/// `{"entity": "project" | "task", "filters"?: F}`: F as the entity's `list_*` takes it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamsSubscribe {
    pub entity: LiveEntity,
    /// The entity's filters, as its `list_*` takes them.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub filters: Option<Box<RawValue>>,
}

/// `{"subscription": s}`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamsUnsubscribe {
    pub subscription: String,
}

/// `subscribe`'s result: the id the socket's `changed` notifications carry.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Subscribed {
    pub subscription: String,
}

/// A transport's subscriptions: a socket's. Each has an id of its own on the socket, never
/// given twice (a notification on its way for an old subscription cannot be taken for a new).
pub trait Subscriptions: Send + Sync {
    /// Adds a subscription; [`Error::TooManySubscriptions`] past the socket's limit. Once it
    /// answers, every change committed after is delivered.
    fn subscribe(&self, entity: LiveEntity, filter: Option<LiveFilter>) -> Subscribing<'_>;
    /// Removes a subscription; whether the socket had it.
    fn unsubscribe(&self, subscription: &str) -> bool;
}

/// A subscription being made: its id.
pub type Subscribing<'a> = Pin<Box<dyn Future<Output = Result<String>> + Send + 'a>>;

/// The most bytes of a subscription's filters (as JSON): a socket's subscriptions are evaluated
/// on every change, for as long as they last, so they are held far smaller than a `list_*`'s.
pub const MAX_FILTER_BYTES: usize = 1024;

type CallResult = Result<(WriteResult, Option<NewSession>)>;

fn data<T: Serialize + Send + 'static>(data: T) -> CallResult {
    Ok((Box::new(move |writer: &mut ResultWriter<'_>| serde_json::to_writer(writer, &DataResult { data })), None))
}

/// `subscribe` for `ctx`'s user on `subscriptions`: the filters are checked (and their computed
/// columns made the user's) now, once.
pub(crate) async fn subscribe(ctx: &Ctx, subscriptions: &dyn Subscriptions, params: Option<&RawValue>) -> CallResult {
    let params: ParamsSubscribe = crate::params::from_params(params)?;
    let filters = params.filters.as_deref();
    if filters.is_some_and(|filters| filters.get().len() > MAX_FILTER_BYTES) {
        return Err(Error::invalid_params(
            "filters",
            format!("a subscription's filters may be at most {MAX_FILTER_BYTES} bytes of JSON"),
        ));
    }
    let filter = match params.entity {
        LiveEntity::Project => filter_of::<ProjectBmc>(ctx, ProjectBmc::parse_filters(filters)),
        LiveEntity::Task => filter_of::<TaskBmc>(ctx, TaskBmc::parse_filters(filters)),
    }?;
    data(Subscribed { subscription: subscriptions.subscribe(params.entity, filter).await? })
}

fn filter_of<B: DbBmc>(
    ctx: &Ctx,
    filters: lib_model::Result<lib_model::filter::Filters>,
) -> Result<Option<LiveFilter>> {
    Ok(LiveFilter::new::<B>(ctx, filters.map_err(Error::within("filters"))?))
}

pub(crate) fn unsubscribe(subscriptions: &dyn Subscriptions, params: Option<&RawValue>) -> CallResult {
    let ParamsUnsubscribe { subscription } = crate::params::from_params(params)?;
    if !subscriptions.unsubscribe(&subscription) {
        return Err(Error::invalid_params("subscription", format!("this socket has no subscription {subscription}")));
    }
    data(true)
}

/// One change for some of one user's subscriptions (their keys): the `changed` notification's
/// params but the subscription's id (which the socket knows), the row serialized once,
/// ready to be framed by [`changed_message`].
#[derive(Debug)]
pub struct Change {
    pub keys: Vec<i64>,
    pub op: live::Op,
    pub data: Box<RawValue>,
}

/// The changes of `batches` (of `entity`'s rows, in the order they were announced) that each of
/// `subscriptions` may see and matches, in the order they were made: one statement for all of
/// them. `None`: more rows
/// changed together than are delivered one by one ([`lib_model::live::MAX_BATCH_ROWS`]); the
/// subscribers should list again.
pub async fn deliver(
    mm: &ModelManager,
    entity: LiveEntity,
    batches: &[i64],
    subscriptions: &[Subscriber<'_>],
) -> Result<Option<Vec<Change>>> {
    match entity {
        LiveEntity::Project => changes::<ProjectBmc>(mm, batches, subscriptions).await,
        LiveEntity::Task => changes::<TaskBmc>(mm, batches, subscriptions).await,
    }
}

async fn changes<B>(mm: &ModelManager, batches: &[i64], subscriptions: &[Subscriber<'_>]) -> Result<Option<Vec<Change>>>
where
    B: DbBmc<Entity: Serialize + Clone>,
{
    let Delivered::Changes(deliveries) = live::deliveries::<B>(mm, batches, subscriptions).await? else {
        return Ok(None);
    };
    deliveries
        .into_iter()
        .map(|delivery| {
            let data = serde_json::value::to_raw_value(&delivery.row).map_err(Error::ResultSerialization)?;
            Ok(Change { keys: delivery.keys, op: delivery.op, data })
        })
        .collect::<Result<_>>()
        .map(Some)
}

/// The notification `{"jsonrpc": "2.0", "method": "changed", "params": {"subscription": s,
/// "op": ..., "data": row}}` of `change` for the socket's subscription `subscription`.
pub fn changed_message(subscription: &str, change: &Change) -> String {
    #[derive(Serialize)]
    struct Notification<'a> {
        jsonrpc: &'static str,
        method: &'static str,
        params: Params<'a>,
    }
    #[derive(Serialize)]
    struct Params<'a> {
        subscription: &'a str,
        op: &'static str,
        data: &'a RawValue,
    }
    let notification = Notification {
        jsonrpc: "2.0",
        method: "changed",
        params: Params { subscription, op: change.op.as_str(), data: &change.data },
    };
    serde_json::to_string(&notification).expect("a notification of raw JSON serializes")
}
