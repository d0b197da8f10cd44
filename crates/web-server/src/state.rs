//! [`AppState`]: what every handler shares.

use lib_core::Config;
use lib_model::ModelManager;
use lib_rpc::RpcRouter;
use std::sync::Arc;

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) mm: ModelManager,
    pub(crate) config: Arc<Config>,
    pub(crate) rpc: Arc<RpcRouter>,
}

impl AppState {
    pub(crate) fn new(config: Config, mm: ModelManager) -> Self {
        Self { mm, config: Arc::new(config), rpc: Arc::new(lib_rpc::methods::router()) }
    }
}
