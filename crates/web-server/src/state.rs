//! [`AppState`]: what every handler shares.

use lib_core::Config;
use lib_model::ModelManager;
use lib_rpc::{RpcLimits, RpcRouter};
use std::sync::Arc;

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) mm: ModelManager,
    pub(crate) config: Arc<Config>,
    pub(crate) rpc: Arc<RpcRouter>,
    /// Built once: its budget of answer bytes in flight is shared by every request.
    pub(crate) rpc_limits: RpcLimits,
}

impl AppState {
    pub(crate) fn new(config: Config, mm: ModelManager) -> Self {
        let rpc_limits = RpcLimits::from_config(&config);
        Self { mm, config: Arc::new(config), rpc: Arc::new(lib_rpc::methods::router()), rpc_limits }
    }
}
