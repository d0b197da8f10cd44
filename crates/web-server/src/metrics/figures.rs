//! The figures read at each scrape rather than counted on the way: the database pool and the
//! waits for it, refusals by limit, the session cache, and the process (from `/proc`, where
//! there is one).

use lib_model::ModelManager;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::fmt;

pub(super) struct Figures {
    mm: ModelManager,
}

impl Figures {
    pub(super) fn new(mm: ModelManager) -> Self {
        Self { mm }
    }
}

impl fmt::Debug for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Figures").finish_non_exhaustive()
    }
}

/// Writes one gauge without labels.
fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: i64) -> fmt::Result {
    let gauge = ConstGauge::new(value);
    gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
}

/// Writes one counter without labels (`name` gets its `_total`).
fn counter<N>(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: N) -> fmt::Result
where
    ConstCounter<N>: prometheus_client::encoding::EncodeMetric,
{
    let counter = ConstCounter::new(value);
    counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)
}

fn as_i64(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

impl Collector for Figures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let pool = self.mm.pool_figures();
        let in_use = pool.open.saturating_sub(pool.idle);
        {
            let gauge_type = ConstGauge::new(0i64).metric_type();
            let mut family = encoder.encode_descriptor(
                "db_client_connection_count",
                "Database pool connections, by state",
                None,
                gauge_type,
            )?;
            for (state, value) in [("used", in_use), ("idle", pool.idle)] {
                ConstGauge::new(i64::from(value))
                    .encode(family.encode_family(&[("db_client_connection_state", state)])?)?;
            }
        }
        gauge(&mut encoder, "db_client_connection_max", "Database pool size limit", i64::from(pool.max))?;
        gauge(
            &mut encoder,
            "db_client_connection_pending_requests",
            "Calls waiting for a database connection now",
            as_i64(pool.waiting),
        )?;
        counter(&mut encoder, "db_client_connection_acquired", "Database connections handed to calls", pool.acquired)?;
        counter(
            &mut encoder,
            "db_client_connection_wait_seconds",
            "Time calls waited for a database connection, in all",
            pool.waited.as_secs_f64(),
        )?;
        {
            let counter_type = ConstCounter::new(0u64).metric_type();
            let mut family =
                encoder.encode_descriptor("app_throttled", "Work refused by a limit, by limit", None, counter_type)?;
            for (limit, count) in self.mm.throttled().counts() {
                ConstCounter::new(count).encode(family.encode_family(&[("limit", limit.as_str())])?)?;
            }
        }
        gauge(
            &mut encoder,
            "app_session_cache_entries",
            "Sessions in this instance's cache",
            as_i64(self.mm.cached_sessions()),
        )?;
        process(&mut encoder)
    }
}

/// The process' own figures, by the names Prometheus' clients use.
fn process(encoder: &mut DescriptorEncoder) -> fmt::Result {
    let Some(process) = Process::read() else { return Ok(()) };
    counter(encoder, "process_cpu_seconds", "CPU time of the process, user and system", process.cpu_seconds)?;
    gauge(encoder, "process_resident_memory_bytes", "Resident memory of the process", process.resident_bytes)?;
    gauge(encoder, "process_open_fds", "Open file descriptors", process.open_fds)?;
    gauge(encoder, "process_threads", "Threads of the process", process.threads)?;
    gauge(encoder, "process_start_time_seconds", "Start of the process, in Unix seconds", process.start_time)
}

struct Process {
    cpu_seconds: f64,
    resident_bytes: i64,
    open_fds: i64,
    threads: i64,
    start_time: i64,
}

impl Process {
    /// Linux's `/proc/self`; `None` elsewhere.
    fn read() -> Option<Self> {
        // Clock ticks per second: 100 on every Linux this runs on (USER_HZ).
        const TICKS: f64 = 100.0;
        const PAGE: i64 = 4096;
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command may hold spaces and parentheses: the fields start after the last ')'.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        // Numbered as in proc(5), from 3 (state) on: utime 14, stime 15, threads 20, starttime 22.
        let field = |number: usize| fields.get(number - 3).and_then(|f| f.parse::<u64>().ok());
        let cpu_seconds = (field(14)? + field(15)?) as f64 / TICKS;
        let threads = as_i64(field(20)?);
        let started_ticks = field(22)?;
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let resident_pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        let boot_time: i64 = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|line| line.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        let open_fds = std::fs::read_dir("/proc/self/fd").map(|dir| as_i64(dir.count())).unwrap_or(0);
        Some(Self {
            cpu_seconds,
            resident_bytes: resident_pages * PAGE,
            open_fds,
            threads,
            start_time: boot_time + as_i64(started_ticks) / TICKS as i64,
        })
    }
}
