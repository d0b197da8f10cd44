//! [`AppState`]: what every handler shares.

use crate::live::Hub;
use crate::metrics::Metrics;
use crate::routes::openrpc::Document;
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
    /// The OpenRPC document, built at start.
    pub(crate) openrpc: Document,
    /// The live subscriptions of this instance's sockets.
    pub(crate) live: Arc<Hub>,
    /// What this server measures of itself (the admin listener shows it).
    pub(crate) metrics: Arc<Metrics>,
}

impl AppState {
    pub(crate) fn new(config: Config, mm: ModelManager) -> Self {
        let rpc_limits = RpcLimits::from_config(&config);
        let rpc = lib_rpc::methods::router();
        let openrpc = Document::of(&rpc);
        let live = Arc::new(Hub::new(&config, mm.clone()));
        let metrics = Arc::new(Metrics::new(&mm));
        Self { mm, config: Arc::new(config), rpc: Arc::new(rpc), rpc_limits, openrpc, live, metrics }
    }
}
