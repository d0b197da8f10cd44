//! The instance's live subscriptions and their delivery ([`Hub`]).
//!
//! Every socket registers with the hub ([`Hub::open`], at most `WS_MAX_PER_USER` per user) and
//! gets a [`Socket`] (`outbox.rs`): the queue its `changed` notifications wait in (at most
//! `WS_SEND_QUEUE` messages and [`outbox::QUEUE_BYTES`]) and the signal that closes it.
//! [`Hub::run`] follows the model's live feed: it gathers the batches announced for
//! [`GATHER_FOR`], asks the database once which of an entity's subscriptions may see which of
//! their rows ([`lib_rpc::live::deliver`]), and queues the notifications. A socket whose queue
//! is full is closed with 1013, as is every socket with subscriptions when announcements may
//! have been missed (the feed was lost or lagged, a delivery failed): the client lists again.

mod interest;
mod outbox;

pub(crate) use outbox::{CloseCode, Registration, Socket};

use lib_core::Config;
use lib_model::ModelManager;
use lib_rpc::live::{LiveEntity, LiveEvent, LiveFilter, Subscriber, changed_message};
use outbox::Outbox;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The most announcements of one entity delivered by one statement.
const BATCHES_AT_ONCE: usize = 256;
/// How long announcements are gathered before their delivery: what it adds to the latency.
/// Planning the delivery statement costs about as much as delivering a hundred changes with it,
/// so under load (a hundred writes in this time) gathering halves its cost per change.
const GATHER_FOR: Duration = Duration::from_millis(50);

/// Aborts the task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One subscription, as delivery needs it.
#[derive(Clone)]
struct Entry {
    user_id: i64,
    /// The subscription's id on its socket.
    id: Arc<str>,
    filter: Option<Arc<LiveFilter>>,
    outbox: Arc<Outbox>,
}

#[derive(Default)]
struct Registry {
    next_key: i64,
    next_socket: u64,
    sockets_per_user: HashMap<i64, usize>,
    sockets: HashMap<u64, Arc<Outbox>>,
    /// By entity, by key (unique in the hub).
    subscriptions: HashMap<LiveEntity, HashMap<i64, Entry>>,
    /// Users with subscriptions on their way in ([`interest::Incoming`]), and how many.
    incoming: HashMap<i64, usize>,
}

pub(crate) struct Hub {
    registry: Mutex<Registry>,
    mm: ModelManager,
    /// This instance's name in `live_interest`.
    instance: String,
    interest: tokio::sync::Mutex<interest::Interest>,
    max_per_user: usize,
    max_subscriptions: usize,
    send_queue: usize,
}

impl Hub {
    pub(crate) fn new(config: &Config, mm: ModelManager) -> Self {
        Self {
            registry: Mutex::default(),
            mm,
            instance: uuid::Uuid::new_v4().to_string(),
            interest: tokio::sync::Mutex::default(),
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
        let id = registry.next_socket;
        registry.next_socket += 1;
        let (socket, outbox) = outbox::open(self, user_id, id, self.send_queue);
        registry.sockets.insert(id, outbox);
        Ok(socket)
    }

    fn add(&self, entity: LiveEntity, entry: Entry) -> i64 {
        let mut registry = self.registry();
        let key = registry.next_key;
        registry.next_key += 1;
        registry.subscriptions.entry(entity).or_default().insert(key, entry);
        key
    }

    fn remove(&self, entity: LiveEntity, key: i64) {
        if let Some(entries) = self.registry().subscriptions.get_mut(&entity) {
            entries.remove(&key);
        }
    }

    /// Forgets the socket `socket` of `user_id` and its `subscriptions`.
    fn close_socket(&self, user_id: i64, socket: u64, subscriptions: impl Iterator<Item = (LiveEntity, i64)>) {
        let mut registry = self.registry();
        for (entity, key) in subscriptions {
            if let Some(entries) = registry.subscriptions.get_mut(&entity) {
                entries.remove(&key);
            }
        }
        registry.sockets.remove(&socket);
        if let Some(open) = registry.sockets_per_user.get_mut(&user_id) {
            *open -= 1;
            if *open == 0 {
                registry.sockets_per_user.remove(&user_id);
            }
        }
    }

    /// Closes every socket with `code` (the server is stopping).
    pub(crate) fn close_every_socket(&self, code: CloseCode) {
        self.registry().sockets.values().for_each(|outbox| outbox.close(code));
    }

    /// Closes with 1013 every socket with a subscription: changes may have been missed.
    fn restart_subscribers(&self) {
        let registry = self.registry();
        let subscribed = registry.subscriptions.values().flat_map(HashMap::values);
        subscribed.for_each(|entry| entry.outbox.close(CloseCode::TryAgainLater));
    }

    /// Delivers the changes announced to this instance for as long as it runs, starting over
    /// (and its subscribers with it) if a delivery panics.
    pub(crate) async fn run(self: Arc<Self>, mm: ModelManager) {
        let keeping = tokio::spawn(self.clone().keep_interest());
        let _stop_keeping = AbortOnDrop(keeping);
        loop {
            let delivering = tokio::spawn(self.clone().deliver_announced(mm.clone()));
            match delivering.await {
                Err(error) if error.is_panic() => {
                    tracing::error!("live delivery panicked; its subscribers start over");
                    self.restart_subscribers();
                }
                // Ended with the feed, or cancelled with the runtime.
                _ => return,
            }
        }
    }

    /// Follows the feed. The announcements of [`GATHER_FOR`] from the first are delivered
    /// together, up to [`BATCHES_AT_ONCE`] per entity in one statement: however many writes a
    /// second, the delivery statements stay at most twenty a second per entity.
    async fn deliver_announced(self: Arc<Self>, mm: ModelManager) {
        let mut feed = mm.live_feed();
        loop {
            // Entities in the order of their first announcement, each with its batches in order.
            let mut pending: Vec<(LiveEntity, Vec<i64>)> = Vec::new();
            let mut next = feed.recv().await;
            let gathered_by = tokio::time::Instant::now() + GATHER_FOR;
            loop {
                match next {
                    Ok(LiveEvent::Changed { entity, batch }) => {
                        if let Some(entity) = LiveEntity::of_table(&entity) {
                            match pending.iter_mut().find(|(pending, _)| *pending == entity) {
                                Some((_, batches)) => batches.push(batch),
                                None => pending.push((entity, vec![batch])),
                            }
                        }
                    }
                    // Whatever is pending goes to sockets that are closing anyway.
                    Ok(LiveEvent::Lost) | Err(RecvError::Lagged(_)) => {
                        pending.clear();
                        self.restart_subscribers();
                    }
                    Err(RecvError::Closed) => return,
                }
                if pending.iter().any(|(_, batches)| batches.len() >= BATCHES_AT_ONCE) {
                    break;
                }
                next = match tokio::time::timeout_at(gathered_by, feed.recv()).await {
                    Ok(event) => event,
                    Err(_) => break,
                };
            }
            for (entity, batches) in pending {
                self.deliver(&mm, entity, &batches).await;
            }
        }
    }

    async fn deliver(&self, mm: &ModelManager, entity: LiveEntity, batches: &[i64]) {
        // A snapshot: subscriptions may come and go while the database answers.
        let subscribed: Vec<(i64, Entry)> = match self.registry().subscriptions.get(&entity) {
            Some(entries) if !entries.is_empty() => entries.iter().map(|(key, entry)| (*key, entry.clone())).collect(),
            _ => return,
        };
        let subscribers: Vec<Subscriber<'_>> = subscribed
            .iter()
            .map(|(key, entry)| Subscriber { key: *key, user_id: entry.user_id, filter: entry.filter.as_deref() })
            .collect();
        match lib_rpc::live::deliver(mm, entity, batches, &subscribers).await {
            Ok(Some(changes)) => {
                let by_key: HashMap<i64, &Entry> = subscribed.iter().map(|(key, entry)| (*key, entry)).collect();
                for change in &changes {
                    for entry in change.keys.iter().filter_map(|key| by_key.get(key)) {
                        entry.outbox.push(changed_message(&entry.id, change));
                    }
                }
                tracing::debug!(?entity, ?batches, changes = changes.len(), "delivered changes");
            }
            // Together too many rows; fewer together may not be.
            Ok(None) if batches.len() > 1 => {
                let (first, second) = batches.split_at(batches.len() / 2);
                Box::pin(self.deliver(mm, entity, first)).await;
                Box::pin(self.deliver(mm, entity, second)).await;
            }
            Ok(None) => {
                tracing::info!(
                    ?entity,
                    ?batches,
                    "a batch too large to deliver row by row; its subscribers list again"
                );
                subscribed.iter().for_each(|(_, entry)| entry.outbox.close(CloseCode::TryAgainLater));
            }
            Err(error) => {
                tracing::warn!(%error, ?entity, ?batches, "could not deliver changes; their subscribers start over");
                subscribed.iter().for_each(|(_, entry)| entry.outbox.close(CloseCode::TryAgainLater));
            }
        }
    }
}
