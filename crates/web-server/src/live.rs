//! The instance's live subscriptions and their delivery ([`Hub`]).
//!
//! Every socket registers with the hub ([`Hub::open`], at most `WS_MAX_PER_USER` per user) and
//! gets a [`Socket`]: the queue its `changed` notifications wait in (at most `WS_SEND_QUEUE`)
//! and the signal that closes it. [`Hub::run`] follows the model's live feed: for each batch of
//! changes it asks the database once which of the entity's subscriptions may see which rows
//! ([`lib_rpc::live::deliver`]), and queues the notifications. A socket whose queue is full is
//! closed with 1013, as is every socket with subscriptions when announcements may have been
//! missed (the feed was lost or lagged, or a delivery failed): the client lists again.

use lib_core::Config;
use lib_model::ModelManager;
use lib_rpc::live::{Change, LiveEntity, LiveEvent, LiveFilter, Subscriber, Subscriptions, changed_message};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};

/// Why the hub closes a socket, with the close code (RFC 6455, section 7.4) the client sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseCode {
    /// The server is stopping: 1001.
    GoingAway,
    /// The socket fell behind, or changes may have been missed: 1013, subscribe and list again.
    TryAgainLater,
}

impl CloseCode {
    pub(crate) fn frame(self) -> (u16, &'static str) {
        match self {
            CloseCode::GoingAway => (1001, "the server is stopping"),
            CloseCode::TryAgainLater => (1013, "fell behind: subscribe and list again"),
        }
    }
}

/// A socket's side of the hub: its notifications, and why it must close.
pub(crate) struct Socket {
    pub(crate) queue: mpsc::Receiver<String>,
    pub(crate) close: watch::Receiver<Option<CloseCode>>,
    pub(crate) registration: Registration,
}

/// The hub's handle on one socket.
struct Outbox {
    queue: mpsc::Sender<String>,
    close: watch::Sender<Option<CloseCode>>,
}

impl Outbox {
    fn close(&self, code: CloseCode) {
        // The first reason stands.
        self.close.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(code);
            }
            first
        });
    }

    /// Queues `message`; a socket that lets its queue fill is closed instead.
    fn push(&self, message: String) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.queue.try_send(message) {
            self.close(CloseCode::TryAgainLater);
        }
    }
}

#[derive(Clone)]
struct Entry {
    user_id: i64,
    /// The subscription's number on its socket.
    number: u64,
    filter: Option<Arc<LiveFilter>>,
    outbox: Arc<Outbox>,
}

#[derive(Default)]
struct Registry {
    next_key: i64,
    sockets_per_user: HashMap<i64, usize>,
    sockets: HashMap<u64, Arc<Outbox>>,
    next_socket: u64,
    /// By entity, by key (unique in the hub).
    subscriptions: HashMap<LiveEntity, HashMap<i64, Entry>>,
}

pub(crate) struct Hub {
    registry: Mutex<Registry>,
    max_per_user: usize,
    max_subscriptions: usize,
    send_queue: usize,
}

impl Hub {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            registry: Mutex::default(),
            max_per_user: config.ws_max_per_user,
            max_subscriptions: config.ws_max_subscriptions,
            send_queue: config.ws_send_queue,
        }
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new socket for `user_id`; `Err(limit)` when the user holds the most already.
    pub(crate) fn open(self: &Arc<Self>, user_id: i64) -> Result<Socket, usize> {
        let mut registry = self.registry();
        let open = registry.sockets_per_user.entry(user_id).or_default();
        if *open >= self.max_per_user {
            return Err(self.max_per_user);
        }
        *open += 1;
        let (queue, queue_rx) = mpsc::channel(self.send_queue);
        let (close, close_rx) = watch::channel(None);
        let id = registry.next_socket;
        registry.next_socket += 1;
        let outbox = Arc::new(Outbox { queue, close });
        registry.sockets.insert(id, outbox.clone());
        let registration = Registration { hub: self.clone(), user_id, socket: id, outbox, keys: Mutex::default() };
        Ok(Socket { queue: queue_rx, close: close_rx, registration })
    }

    /// Closes every socket with `code`, or only those with subscriptions.
    pub(crate) fn close_all(&self, code: CloseCode, only_subscribed: bool) {
        let registry = self.registry();
        if only_subscribed {
            let subscribed = registry.subscriptions.values().flat_map(|entries| entries.values());
            subscribed.for_each(|entry| entry.outbox.close(code));
        } else {
            registry.sockets.values().for_each(|outbox| outbox.close(code));
        }
    }

    /// Delivers the changes announced to this instance, for as long as it runs (spawn it).
    pub(crate) async fn run(self: Arc<Self>, mm: ModelManager) {
        let mut feed = mm.live_feed();
        loop {
            match feed.recv().await {
                Ok(LiveEvent::Changed { entity, batch }) => {
                    let Some(entity) = LiveEntity::of_table(&entity) else { continue };
                    self.deliver(&mm, entity, batch).await;
                }
                Ok(LiveEvent::Lost) | Err(RecvError::Lagged(_)) => {
                    self.close_all(CloseCode::TryAgainLater, true);
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    async fn deliver(&self, mm: &ModelManager, entity: LiveEntity, batch: i64) {
        // A snapshot: subscriptions may come and go while the database answers.
        let subscribed: Vec<(i64, Entry)> = match self.registry().subscriptions.get(&entity) {
            Some(entries) => entries.iter().map(|(key, entry)| (*key, entry.clone())).collect(),
            None => return,
        };
        let subscribers: Vec<Subscriber<'_>> = subscribed
            .iter()
            .map(|(key, entry)| Subscriber { key: *key, user_id: entry.user_id, filter: entry.filter.as_deref() })
            .collect();
        match lib_rpc::live::deliver(mm, entity, batch, &subscribers).await {
            Ok(Some(changes)) => {
                let by_key: HashMap<i64, &Entry> = subscribed.iter().map(|(key, entry)| (*key, entry)).collect();
                for change in &changes {
                    if let Some(entry) = by_key.get(&change.key) {
                        entry.outbox.push(changed_message(entry.number, change));
                    }
                }
                log_delivered(entity, batch, &changes);
            }
            Ok(None) => {
                tracing::info!(?entity, batch, "a batch too large to deliver row by row; its subscribers list again");
                subscribed.iter().for_each(|(_, entry)| entry.outbox.close(CloseCode::TryAgainLater));
            }
            Err(error) => {
                tracing::warn!(%error, ?entity, batch, "could not deliver a batch of changes; its subscribers start over");
                subscribed.iter().for_each(|(_, entry)| entry.outbox.close(CloseCode::TryAgainLater));
            }
        }
    }
}

fn log_delivered(entity: LiveEntity, batch: i64, changes: &[Change]) {
    tracing::debug!(?entity, batch, notifications = changes.len(), "delivered a batch of changes");
}

/// A socket's place in the hub, and its subscriptions: given back when dropped.
pub(crate) struct Registration {
    hub: Arc<Hub>,
    user_id: i64,
    socket: u64,
    outbox: Arc<Outbox>,
    /// The socket's subscriptions: number → (entity, key).
    keys: Mutex<HashMap<u64, (LiveEntity, i64)>>,
}

impl Registration {
    fn keys(&self) -> MutexGuard<'_, HashMap<u64, (LiveEntity, i64)>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Subscriptions for Registration {
    fn subscribe(&self, entity: LiveEntity, filter: Option<LiveFilter>) -> lib_rpc::Result<u64> {
        let mut keys = self.keys();
        if keys.len() >= self.hub.max_subscriptions {
            return Err(lib_rpc::Error::TooManySubscriptions { limit: self.hub.max_subscriptions });
        }
        let number = keys.keys().max().map_or(1, |last| last + 1);
        let mut registry = self.hub.registry();
        let key = registry.next_key;
        registry.next_key += 1;
        let entry = Entry { user_id: self.user_id, number, filter: filter.map(Arc::new), outbox: self.outbox.clone() };
        registry.subscriptions.entry(entity).or_default().insert(key, entry);
        keys.insert(number, (entity, key));
        Ok(number)
    }

    fn unsubscribe(&self, subscription: u64) -> bool {
        let Some((entity, key)) = self.keys().remove(&subscription) else { return false };
        if let Some(entries) = self.hub.registry().subscriptions.get_mut(&entity) {
            entries.remove(&key);
        }
        true
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let keys = std::mem::take(&mut *self.keys());
        let mut registry = self.hub.registry();
        for (entity, key) in keys.into_values() {
            if let Some(entries) = registry.subscriptions.get_mut(&entity) {
                entries.remove(&key);
            }
        }
        registry.sockets.remove(&self.socket);
        if let Some(open) = registry.sockets_per_user.get_mut(&self.user_id) {
            *open -= 1;
            if *open == 0 {
                registry.sockets_per_user.remove(&self.user_id);
            }
        }
    }
}
