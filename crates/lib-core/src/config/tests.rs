//! What the configuration accepts, refuses and never shows.

use super::*;
use std::collections::HashMap;

fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

#[test]
fn no_app_env_means_production_and_production_needs_a_pwd_key() {
    let error = parse(&[("DATABASE_URL", "postgres://x/y")]).unwrap_err();
    assert_eq!(error.var, "PWD_KEY");
    assert!(error.to_string().contains("PWD_KEY"));
}

#[test]
fn production_refuses_the_development_key_and_malformed_keys() {
    let dev_key = parse(&[("DATABASE_URL", "postgres://x/y"), ("PWD_KEY", DEV_PWD_KEY)]).unwrap_err();
    assert_eq!(dev_key.var, "PWD_KEY");
    let short = parse(&[("DATABASE_URL", "postgres://x/y"), ("PWD_KEY", "c2hvcnQ")]).unwrap_err();
    assert!(short.reason.contains("at least 32"), "{short}");
    let garbage = parse(&[("DATABASE_URL", "postgres://x/y"), ("PWD_KEY", "not base64 !!")]).unwrap_err();
    assert_eq!(garbage.var, "PWD_KEY");
}

#[test]
fn production_accepts_a_generated_key_and_is_secure_by_default() {
    let key = PwdKey::generate();
    let config = parse(&[("DATABASE_URL", "postgres://x/y"), ("PWD_KEY", &key)]).unwrap();
    assert_eq!(config.env, AppEnv::Production);
    assert!(config.cookie_secure);
}

#[test]
fn the_development_default_address_follows_pghost_and_pgport() {
    let config = parse(&[("APP_ENV", "development"), ("PGHOST", "127.0.0.1"), ("PGPORT", "1")]).unwrap();
    assert_eq!(config.database_url.expose(), "postgres://postgres:welcome@127.0.0.1:1/app_dev");
    assert!(config.database_url_is_default);
    let given = parse(&[("APP_ENV", "development"), ("DATABASE_URL", "postgres://x/y"), ("PGPORT", "1")]).unwrap();
    assert_eq!(given.database_url.expose(), "postgres://x/y");
    assert!(!given.database_url_is_default);
    let socket = dev_database_url(Some("/var/run/postgresql"), None);
    assert_eq!(socket, "postgres://postgres:welcome@localhost:5432/app_dev?host=/var/run/postgresql");
    assert_eq!(dev_database_url(Some("::1"), Some("5433")), "postgres://postgres:welcome@[::1]:5433/app_dev");
}

#[test]
fn development_needs_no_variable() {
    let config = Config::development();
    assert_eq!(config.database_url.expose(), DEV_DATABASE_URL);
    assert!(config.database_url_is_default);
    assert!(!config.cookie_secure);
    assert_eq!(config.listen_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(config.rpc_batch_limit, 100);
}

#[test]
fn bad_values_name_their_variable() {
    let error = parse(&[("APP_ENV", "development"), ("SESSION_IDLE_SEC", "soon")]).unwrap_err();
    assert_eq!(error.var, "SESSION_IDLE_SEC");
    let error = parse(&[("APP_ENV", "development"), ("DB_MAX_CONNECTIONS", "0")]).unwrap_err();
    assert_eq!(error.var, "DB_MAX_CONNECTIONS");
    let error = parse(&[("APP_ENV", "staging")]).unwrap_err();
    assert_eq!(error.var, "APP_ENV");
    let error = parse(&[("APP_ENV", "development"), ("MAX_ANSWER_BYTES", "2000"), ("ANSWER_BYTES_IN_FLIGHT", "1000")])
        .unwrap_err();
    assert_eq!(error.var, "ANSWER_BYTES_IN_FLIGHT");
}

#[test]
fn hostile_load_limits_are_checked_against_each_other() {
    let error = parse(&[("APP_ENV", "development"), ("USER_MAX_INFLIGHT", "16")]).unwrap_err();
    assert_eq!(error.var, "USER_MAX_INFLIGHT");
    let error = parse(&[("APP_ENV", "development"), ("MAX_CONNECTIONS", "10")]).unwrap_err();
    assert_eq!(error.var, "MAX_CONNECTIONS_PER_ADDR");
    let error = parse(&[("APP_ENV", "development"), ("DB_STATEMENT_TIMEOUT_MS", "0")]).unwrap_err();
    assert_eq!(error.var, "DB_STATEMENT_TIMEOUT_MS");
}

#[test]
fn trusted_proxies_take_addresses_and_ranges() {
    let config = parse(&[("APP_ENV", "development"), ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1")]).unwrap();
    let shown: Vec<String> = config.trusted_proxies.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
    let error = parse(&[("APP_ENV", "development"), ("TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")]).unwrap_err();
    assert_eq!(error.var, "TRUSTED_PROXIES");
    assert!(error.reason.contains("proxy.local"), "{error}");
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let config = Config::development();
    let text = format!("{config:?}");
    assert!(!text.contains(DEV_PWD_KEY));
    assert!(!text.contains("welcome"));
}

#[test]
fn the_listen_url_defaults_to_the_database_url() {
    let config = parse(&[("APP_ENV", "development"), ("DATABASE_URL", "postgres://bouncer/app")]).unwrap();
    assert_eq!(config.database_listen_url(), "postgres://bouncer/app");
    let config = parse(&[
        ("APP_ENV", "development"),
        ("DATABASE_URL", "postgres://bouncer/app"),
        ("DATABASE_LISTEN_URL", "postgres://db/app"),
    ])
    .unwrap();
    assert_eq!(config.database_listen_url(), "postgres://db/app");
    assert_eq!(config.database_url.expose(), "postgres://bouncer/app");
}

#[test]
fn the_pool_mode_is_session_unless_set_to_transaction() {
    let mode = |value: Option<&str>| {
        let mut vars = vec![("APP_ENV", "development")];
        vars.extend(value.map(|v| ("DATABASE_POOL_MODE", v)));
        parse(&vars).map(|config| config.database_pool_mode)
    };
    assert_eq!(mode(None).unwrap(), PoolMode::Session);
    assert_eq!(mode(Some("session")).unwrap(), PoolMode::Session);
    let refused = mode(Some("statement")).unwrap_err();
    assert_eq!(refused.var, "DATABASE_POOL_MODE");
    // Through a transaction-pooling PgBouncer, LISTEN needs a direct connection.
    assert_eq!(mode(Some("transaction")).unwrap_err().var, "DATABASE_LISTEN_URL");
    let with_direct = parse(&[
        ("APP_ENV", "development"),
        ("DATABASE_POOL_MODE", "transaction"),
        ("DATABASE_LISTEN_URL", "postgres://db/app"),
    ]);
    assert_eq!(with_direct.unwrap().database_pool_mode, PoolMode::Transaction);
}

#[test]
fn the_admin_listener_is_on_loopback_by_default_and_empty_turns_it_off() {
    let dev = [("APP_ENV", "development")];
    assert_eq!(parse(&dev).unwrap().admin_listen_addr, Some(SocketAddr::from(([127, 0, 0, 1], 9090))));
    let off = parse(&[dev[0], ("ADMIN_LISTEN_ADDR", "")]).unwrap();
    assert_eq!(off.admin_listen_addr, None);
    let moved = parse(&[dev[0], ("ADMIN_LISTEN_ADDR", "127.0.0.1:9911")]).unwrap();
    assert_eq!(moved.admin_listen_addr, Some(SocketAddr::from(([127, 0, 0, 1], 9911))));
    assert_eq!(parse(&[dev[0], ("ADMIN_LISTEN_ADDR", "nowhere")]).unwrap_err().var, "ADMIN_LISTEN_ADDR");
}

#[test]
fn traces_go_to_the_traces_endpoint_as_given_or_to_the_endpoint_s_v1_traces() {
    let dev = ("APP_ENV", "development");
    assert_eq!(parse(&[dev]).unwrap().otel_traces_url, None, "no endpoint, no exporter");
    let base = parse(&[dev, ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")]).unwrap();
    assert_eq!(base.otel_traces_url.as_deref(), Some("http://collector:4318/v1/traces"));
    assert_eq!(base.otel_service_name, "web-server");
    let exact = parse(&[
        dev,
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other:4318/custom"),
        ("OTEL_SERVICE_NAME", "api-eu"),
    ])
    .unwrap();
    assert_eq!(exact.otel_traces_url.as_deref(), Some("http://other:4318/custom"));
    assert_eq!(exact.otel_service_name, "api-eu");
}
