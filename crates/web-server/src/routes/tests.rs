//! The route names metrics and traces use ([`super::route_of`]) are the router's own paths.

use super::{ROUTES, app, route_of};
use crate::state::AppState;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower_service::Service as _;

#[tokio::test]
async fn every_named_route_is_routed_and_other_paths_get_no_name_of_their_own() {
    let vars = [
        ("APP_ENV", "development"),
        ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
        ("DB_ACQUIRE_TIMEOUT_MS", "200"),
    ];
    let config = lib_core::Config::from_lookup(|name| {
        vars.iter().find(|(var, _)| *var == name).map(|(_, value)| value.to_string())
    })
    .unwrap();
    // The pool connects lazily, to nothing: /health/ready answers 503, quickly.
    let mm = lib_model::ModelManager::new(&config).unwrap();
    let mut router = app(AppState::new(config, mm));
    for route in ROUTES {
        let request = Request::get(route).body(Body::empty()).unwrap();
        let status = router.call(request).await.unwrap().status();
        assert_ne!(status, StatusCode::NOT_FOUND, "{route} is a route of the app");
        assert_eq!(route_of(route), route);
    }
    assert_eq!(route_of("/api/no-such-thing"), "/api/{unknown}");
    assert_eq!(route_of("/js/app.js"), "static");
    assert_eq!(route_of("/api/rpc/"), "/api/{unknown}", "only the exact path is the route");
}
