//! The routes, which of them need a key, the body limit, and the JSON answers for what no
//! route matches. Each route is registered with its handler's OpenAPI annotation, so the
//! document cannot list a route the server lacks or miss one it has.

use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{too_large, ApiError};
use super::state::AppState;
use super::{
    auth, control, events, health, history, messages, metrics, openapi, pairing, schedules,
};

/// The largest request body: a 65,536-character text escaped as JSON fits with room.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The router and its OpenAPI document.
pub fn build(app: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let public = OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(health::ready));
    let protected = OpenApiRouter::new()
        .routes(routes!(health::memory))
        .routes(routes!(metrics::metrics))
        .routes(routes!(pairing::png))
        .routes(routes!(pairing::svg))
        .routes(routes!(pairing::text))
        .routes(routes!(pairing::pair_code))
        .routes(routes!(control::restart))
        .routes(routes!(control::logout))
        .routes(routes!(history::history))
        .routes(routes!(events::events))
        .routes(routes!(schedules::list, schedules::create))
        .routes(routes!(schedules::get, schedules::patch, schedules::delete))
        .routes(routes!(schedules::sends))
        .routes(routes!(messages::send))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            auth::require_key,
        ));
    let (router, doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(public)
        .merge(protected)
        .split_for_parts();
    let json = serde_json::to_string(&doc).unwrap_or_else(|_| "{}".into());
    let router = router
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], json) }
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The last layer added runs first: the limit's own 413 passes through `json_413`.
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::map_response(json_413))
        .with_state(app);
    (router, doc)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint",
        "GET /openapi.json lists every endpoint.",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
        "GET /openapi.json lists each endpoint's methods.",
    )
}

/// The body limit answers a too-long `Content-Length` itself, in plain text; this makes it the
/// API's JSON error like every other.
async fn json_413(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == HeaderValue::from_static("application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return too_large().into_response();
    }
    response
}
