//! [`PwdService`]: password hashing off the async threads, a bounded number at a time.

use crate::Result;
use lib_auth::{PwdError, PwdHasher, Verdict};
use lib_core::Config;
use std::sync::Arc;
use tokio::sync::Semaphore;

pub(crate) struct PwdService {
    hasher: Arc<PwdHasher>,
    /// Argon2 is CPU-bound by design; a login storm must queue here rather than occupy every
    /// blocking thread and core while other requests wait.
    permits: Semaphore,
}

impl PwdService {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            hasher: Arc::new(PwdHasher::new(config.pwd_key.clone())),
            permits: Semaphore::new(config.pwd_hash_concurrency),
        }
    }

    pub(crate) async fn hash(&self, clear: String) -> Result<String> {
        Ok(self.run(move |hasher| hasher.hash(&clear)).await??)
    }

    /// Verifies `clear` against `stored`; with no stored hash (unknown user) it spends the same
    /// time on a dummy hash and fails.
    pub(crate) async fn verify(
        &self,
        clear: String,
        stored: Option<String>,
    ) -> Result<std::result::Result<Verdict, PwdError>> {
        self.run(move |hasher| match stored {
            Some(stored) => hasher.verify(&clear, &stored),
            None => Err(hasher.verify_dummy(&clear)),
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce(&PwdHasher) -> T + Send + 'static) -> Result<T> {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let hasher = self.hasher.clone();
        Ok(tokio::task::spawn_blocking(move || work(&hasher)).await?)
    }
}
