//! One socket's side of the hub: the queue its notifications wait in, bounded in messages and
//! in bytes, the reason it must close, and its subscriptions ([`Registration`], given back when
//! the socket goes).

use super::{Entry, Hub};
use lib_rpc::live::{LiveEntity, LiveFilter, Subscribing, Subscriptions};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{mpsc, watch};

/// The most bytes of notifications waiting for one socket, whatever their number: past it the
/// socket is closed with 1013, as past `WS_SEND_QUEUE` messages.
pub(crate) const QUEUE_BYTES: usize = 4 * 1024 * 1024;

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

/// What the socket's task holds of the hub: its notifications, why it must close, and its
/// subscriptions.
pub(crate) struct Socket {
    pub(crate) queue: Queue,
    pub(crate) close: watch::Receiver<Option<CloseCode>>,
    pub(crate) registration: Arc<Registration>,
}

/// The notifications waiting for a socket.
pub(crate) struct Queue {
    messages: mpsc::Receiver<String>,
    outbox: Arc<Outbox>,
}

impl Queue {
    /// The next notification to send; its bytes leave the queue's count.
    pub(crate) async fn next(&mut self) -> Option<String> {
        let message = self.messages.recv().await?;
        self.outbox.queued_bytes.fetch_sub(message.len(), Ordering::Relaxed);
        Some(message)
    }
}

/// The hub's handle on one socket.
pub(super) struct Outbox {
    queue: mpsc::Sender<String>,
    queued_bytes: AtomicUsize,
    close: watch::Sender<Option<CloseCode>>,
}

impl Outbox {
    pub(super) fn close(&self, code: CloseCode) {
        // The first reason stands.
        self.close.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(code);
            }
            first
        });
    }

    /// Queues `message`; a socket whose queue is full, in messages or in bytes, is closed
    /// instead.
    pub(super) fn push(&self, message: String) {
        let bytes = message.len();
        if self.queued_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes > QUEUE_BYTES {
            self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            return self.close(CloseCode::TryAgainLater);
        }
        if self.queue.try_send(message).is_err() {
            self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.close(CloseCode::TryAgainLater);
        }
    }
}

/// A new socket of `user_id` on `hub`, with a queue of `send_queue` messages.
pub(super) fn open(hub: &Arc<Hub>, user_id: i64, socket: u64, send_queue: usize) -> (Socket, Arc<Outbox>) {
    let (queue, queue_rx) = mpsc::channel(send_queue);
    let (close, close_rx) = watch::channel(None);
    let outbox = Arc::new(Outbox { queue, queued_bytes: AtomicUsize::new(0), close });
    let registration = Arc::new(Registration {
        hub: hub.clone(),
        user_id,
        socket,
        outbox: outbox.clone(),
        subscriptions: Mutex::default(),
    });
    let queue = Queue { messages: queue_rx, outbox: outbox.clone() };
    (Socket { queue, close: close_rx, registration }, outbox)
}

/// A socket's place in the hub, and its subscriptions: given back when dropped.
pub(crate) struct Registration {
    hub: Arc<Hub>,
    user_id: i64,
    socket: u64,
    outbox: Arc<Outbox>,
    subscriptions: Mutex<Numbered>,
}

/// A socket's subscriptions by id, and the last number given (ids are never given twice).
#[derive(Default)]
struct Numbered {
    last: u64,
    by_id: HashMap<String, (LiveEntity, i64)>,
}

impl Registration {
    fn subscriptions(&self) -> MutexGuard<'_, Numbered> {
        self.subscriptions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Subscriptions for Registration {
    fn subscribe(&self, entity: LiveEntity, filter: Option<LiveFilter>) -> Subscribing<'_> {
        Box::pin(async move {
            let limit = self.hub.max_subscriptions;
            if self.subscriptions().by_id.len() >= limit {
                return Err(lib_rpc::Error::TooManySubscriptions { limit });
            }
            // Changes are captured only while some instance wants them: from here on, this one.
            let _incoming = self.hub.want_changes(self.user_id).await?;
            self.add(entity, filter)
        })
    }

    fn unsubscribe(&self, subscription: &str) -> bool {
        let Some((entity, key)) = self.subscriptions().by_id.remove(subscription) else { return false };
        self.hub.remove(entity, key);
        true
    }
}

impl Registration {
    fn add(&self, entity: LiveEntity, filter: Option<LiveFilter>) -> lib_rpc::Result<String> {
        let mut subscriptions = self.subscriptions();
        let limit = self.hub.max_subscriptions;
        if subscriptions.by_id.len() >= limit {
            return Err(lib_rpc::Error::TooManySubscriptions { limit });
        }
        subscriptions.last += 1;
        let id = subscriptions.last.to_string();
        let entry = Entry {
            user_id: self.user_id,
            id: Arc::from(id.as_str()),
            filter: filter.map(Arc::new),
            outbox: self.outbox.clone(),
        };
        let key = self.hub.add(entity, entry);
        subscriptions.by_id.insert(id.clone(), (entity, key));
        Ok(id)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let subscriptions = std::mem::take(&mut self.subscriptions().by_id);
        self.hub.close_socket(self.user_id, self.socket, subscriptions.into_values());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lib_model::test_support::TestDb;

    /// A message of `bytes` bytes.
    fn message(bytes: usize) -> String {
        "x".repeat(bytes)
    }

    #[tokio::test]
    async fn a_queue_takes_notifications_up_to_its_bytes_and_closes_its_socket_past_them() {
        let db = TestDb::new().await;
        let hub = Arc::new(Hub::new(&db.config(), db.mm()));
        let (mut socket, outbox) = open(&hub, 1, 0, 100);
        let quarter = QUEUE_BYTES / 4;
        (0..4).for_each(|_| outbox.push(message(quarter)));
        assert_eq!(*socket.close.borrow(), None, "exactly at the bound: taken");

        // A notification sent makes room for as many bytes.
        assert_eq!(socket.queue.next().await.map(|m| m.len()), Some(quarter));
        outbox.push(message(quarter));
        assert_eq!(*socket.close.borrow(), None, "back at the bound: taken");

        outbox.push(message(1));
        assert_eq!(*socket.close.borrow(), Some(CloseCode::TryAgainLater), "one byte past it: closed");
    }

    #[tokio::test]
    async fn a_queue_takes_notifications_up_to_its_count_and_closes_its_socket_past_it() {
        let db = TestDb::new().await;
        let hub = Arc::new(Hub::new(&db.config(), db.mm()));
        let (socket, outbox) = open(&hub, 1, 0, 3);
        (0..3).for_each(|_| outbox.push(message(1)));
        assert_eq!(*socket.close.borrow(), None, "exactly at the bound: taken");
        outbox.push(message(1));
        assert_eq!(*socket.close.borrow(), Some(CloseCode::TryAgainLater), "one past it: closed");
    }
}
