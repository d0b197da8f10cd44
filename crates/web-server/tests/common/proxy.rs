//! A TCP proxy in front of Postgres that a test can cut and restore: a real outage, without
//! stopping the database other tests use.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    pub addr: SocketAddr,
    /// `host:port` of the database, set once by [`Proxy::forward_to`].
    target: Arc<OnceLock<String>>,
    up: Arc<AtomicBool>,
    cut_tx: watch::Sender<u64>,
}

impl Proxy {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (cut_tx, cut_rx) = watch::channel(0u64);
        let accepting = up.clone();
        let target = Arc::new(OnceLock::<String>::new());
        let forward = target.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is closed at once
                }
                let Some(target) = forward.get().cloned() else { continue };
                let mut cut = cut_rx.clone();
                cut.borrow_and_update(); // only cuts after this connection opened count
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target.as_str()).await else { return };
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { addr, target, up, cut_tx }
    }

    /// Where connections go: the `host:port` of the database the test uses.
    pub fn forward_to(&self, target: &str) {
        self.target.set(target.to_string()).expect("the proxy forwards to one place");
    }

    /// Closes every open connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut_tx.send_modify(|n| *n += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}
