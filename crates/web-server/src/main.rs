//! The `web-server` binary: parse the command line and the configuration, then hand over to the
//! library (`web_server::run`), which is what the tests start too.

use clap::{Parser, Subcommand};
use lib_core::{Config, PwdKey};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc keeps freed pages of a thread for `MIMALLOC_PURGE_DELAY` ms (1000) and returns them
/// only when that thread allocates again, so after a burst of large answers the resident memory
/// stayed 50-100 MiB above idle for as long as the workers were idle. At 10 ms it returns close
/// to idle within seconds (bench/robustness.sh), and get_task's throughput is the same as at
/// 1000 in alternating runs (0 cost 3-4%). mimalloc reads its options from the environment
/// before `main`, hence the one re-exec; an operator's own `MIMALLOC_PURGE_DELAY` is kept.
fn return_freed_memory_promptly() {
    #[cfg(unix)]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
        && let Ok(exe) = std::env::current_exe()
    {
        use std::os::unix::process::CommandExt as _;
        // `exec` only returns on failure; the server then runs with mimalloc's default.
        let _ =
            std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("MIMALLOC_PURGE_DELAY", "10").exec();
    }
}

#[derive(Parser)]
#[command(version, about = "The JSON-RPC web server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP on LISTEN_ADDR (the default).
    Serve,
    /// Apply the pending database migrations, print them, and exit.
    Migrate,
    /// Exit 0 when the server at LISTEN_ADDR answers /health/ready with 200 (for container
    /// health checks), else print why and exit 1.
    Healthcheck,
    /// Print a fresh random PWD_KEY.
    GenKey,
    /// Print the API's OpenRPC document (what `rpc.discover` answers), for client generators.
    Openrpc,
    /// Drop and recreate the development database, then migrate and seed it (development only).
    ResetDevDb,
    /// The private development Postgres (started under target/dev-postgres when nothing answers
    /// at the default database address).
    DevDb {
        #[command(subcommand)]
        action: DevDbAction,
    },
}

#[derive(Subcommand)]
enum DevDbAction {
    /// Stop it (the next start in development starts it again).
    Stop,
}

fn main() -> ExitCode {
    return_freed_memory_promptly();
    let cli = Cli::parse();
    if let Some(Command::GenKey) = cli.command {
        println!("{}", PwdKey::generate());
        return ExitCode::SUCCESS;
    }
    if let Some(Command::Openrpc) = cli.command {
        println!("{}", lib_rpc::methods::router().discover().get());
        return ExitCode::SUCCESS;
    }
    if let Some(Command::DevDb { action: DevDbAction::Stop }) = cli.command {
        return match lib_model::dev_cluster::stop() {
            Ok(true) => {
                println!("stopped the private development Postgres");
                ExitCode::SUCCESS
            }
            Ok(false) => {
                println!("no private development Postgres is running");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("web-server: {error}");
                ExitCode::FAILURE
            }
        };
    }
    // A .env file fills in what the environment does not set; real variables win.
    let _ = dotenvy::dotenv();
    let config = match Config::from_lookup(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("web-server: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(Command::Healthcheck) = cli.command {
        return match web_server::healthcheck::check(config.listen_addr) {
            Ok(()) => ExitCode::SUCCESS,
            Err(problem) => {
                eprintln!("web-server: {problem}");
                ExitCode::FAILURE
            }
        };
    }
    web_server::logging::init(&config);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::ResetDevDb) => web_server::reset_dev_db(config).await,
            Some(Command::Migrate) => web_server::migrate(config).await.map(|applied| {
                if applied.is_empty() {
                    println!("no pending migration");
                }
                for migration in applied {
                    println!("applied {} {}", migration.version, migration.description);
                }
            }),
            _ => {
                let listeners = web_server::Listeners::bind(&config).await?;
                web_server::run(config, listeners, web_server::shutdown_signal()).await
            }
        }
    });
    // Outside the runtime: the exporter's client has one of its own.
    web_server::telemetry::shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("web-server: {error}");
            ExitCode::FAILURE
        }
    }
}
