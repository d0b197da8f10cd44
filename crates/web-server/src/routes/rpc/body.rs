//! The body of an RPC answer: sent within a deadline, or given up.
//!
//! An [`Answer`] keeps its bytes counted in flight (against the global budget and its user's
//! share) until it is dropped. Handed to hyper whole, it would be dropped only once written to
//! the socket, so a client that never reads would hold its room for as long as it keeps the
//! connection open. Instead [`answer_body`] keeps the answer and hands hyper copies of it, a
//! chunk at a time; the answer is dropped once its last chunk is taken, or when the deadline
//! passes, whichever comes first. What hyper holds meanwhile is bounded per connection by its
//! write buffer (about 400 KiB) and one chunk, and is not counted.
//!
//! The deadline is a task of its own rather than a `Sleep` polled by the body: hyper stops
//! polling a body while its write buffer is full (precisely the case of a client that does not
//! read), so a timer inside the body would never fire then. When the client reads again (or
//! the connection is closed), the body finds its answer gone and ends with an error: hyper closes
//! the connection, and the client sees a body shorter than its `Content-Length`.

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};
use lib_rpc::Answer;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::task::AbortHandle;
use tracing::Instrument as _;

/// Bytes copied at a time. An answer no longer than this is handed over whole, uncopied, and
/// stops counting in flight at once: hyper takes it whole, so what a slow client holds is
/// bounded the same way.
const CHUNK: usize = 64 * 1024;

/// The body for `answer`, which gives up its bytes in flight once it has been taken whole by the
/// connection, or `deadline` after now, whichever comes first.
pub(super) fn answer_body(answer: Answer, deadline: Duration) -> Body {
    let len = answer.as_ref().len();
    if len <= CHUNK {
        return Body::from(answer.into_bytes());
    }
    let slot = Arc::new(Mutex::new(Some(answer)));
    let weak = Arc::downgrade(&slot);
    let expire = async move {
        tokio::time::sleep(deadline).await;
        let answer = weak.upgrade().and_then(|slot| lock(&slot).take());
        if let Some(answer) = answer {
            let answer_bytes = answer.as_ref().len();
            drop(answer);
            tracing::warn!(
                answer_bytes,
                ?deadline,
                "an answer not taken by its connection within the deadline was dropped"
            );
        }
    };
    let timer = tokio::spawn(expire.instrument(tracing::Span::current())).abort_handle();
    Body::new(AnswerBody { slot, sent: 0, len, timer })
}

/// The answer was not taken by the connection within the deadline.
#[derive(Debug, thiserror::Error)]
#[error("the answer was not sent within its deadline")]
pub(super) struct SendDeadlinePassed;

struct AnswerBody {
    /// The answer until it has been taken whole, or its deadline has passed.
    slot: Arc<Mutex<Option<Answer>>>,
    /// Bytes handed to hyper so far.
    sent: usize,
    len: usize,
    timer: AbortHandle,
}

/// Nothing panics while the lock is held; a poisoned lock is used as it is all the same.
fn lock(slot: &Mutex<Option<Answer>>) -> MutexGuard<'_, Option<Answer>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

impl HttpBody for AnswerBody {
    type Data = Bytes;
    type Error = SendDeadlinePassed;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.sent == this.len {
            return Poll::Ready(None);
        }
        let mut slot = lock(&this.slot);
        let Some(answer) = slot.as_ref() else {
            return Poll::Ready(Some(Err(SendDeadlinePassed)));
        };
        let end = this.len.min(this.sent + CHUNK);
        let chunk = Bytes::copy_from_slice(&answer.as_ref()[this.sent..end]);
        this.sent = end;
        if end == this.len {
            // Taken whole: its room in flight goes now, not when hyper has written the copies.
            *slot = None;
            this.timer.abort();
        }
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent == self.len
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.len - self.sent) as u64)
    }
}

impl Drop for AnswerBody {
    fn drop(&mut self) {
        // The answer goes with the body (its `Arc` is the only strong one); so does the timer.
        self.timer.abort();
    }
}
