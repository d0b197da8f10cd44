//! A panic in one call becomes that call's [`Error::Panic`] (answered -32603), so that neither the
//! rest of the batch nor the connection is lost to one bug.
//!
//! [`caught`] wraps a call's whole dispatch (params decoding, the handler, every poll of its
//! future); [`catch`] a synchronous step (serialising a result). Both assert unwind safety: a
//! future that panicked is dropped, never polled again, and what it shared (the pool, the caches)
//! is built to outlive a task that dies mid-use, as it would on a cancelled request.

use crate::{Error, Result};
use lib_core::LogText;
use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, UnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A boxed call future: `Unpin`, so it can be polled through `Pin::new` with no unsafe code.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send>>;

/// Runs `f`, turning a panic into [`Error::Panic`].
pub(crate) fn catch<T>(f: impl FnOnce() -> T + UnwindSafe) -> Result<T> {
    catch_unwind(f).map_err(panic_error)
}

/// Starts a call with `start` and runs it to the end, a panic anywhere becoming its error.
pub(crate) fn caught<T>(start: impl FnOnce() -> BoxFuture<T>) -> CatchUnwind<T> {
    CatchUnwind(catch(AssertUnwindSafe(start)).map_err(Some))
}

/// The future of [`caught`]: polls the call inside `catch_unwind`.
pub(crate) struct CatchUnwind<T>(std::result::Result<BoxFuture<T>, Option<Error>>);

impl<T> Future for CatchUnwind<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let future = match &mut self.0 {
            Ok(future) => future,
            // The start panicked: answered at the first poll.
            Err(error) => return Poll::Ready(Err(error.take().expect("a future is not polled after it is ready"))),
        };
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => Poll::Ready(Err(panic_error(payload))),
        }
    }
}

/// The panic's message, escaped for the log line it ends up in (it may quote client input).
fn panic_error(payload: Box<dyn Any + Send>) -> Error {
    let message = match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => text,
        (_, Some(text)) => text.as_str(),
        _ => "a panic without a message",
    };
    Error::Panic(LogText(message).to_string())
}
