//! The HTTP API and the page. The route table is [`app`]; tests drive it directly.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_util::sync::CancellationToken;

use migcheck_shared::{
    CATALOGUE_PATH, DIAGNOSE_PATH, Demo, DiagnoseRequest, Event, Field, INFO_PATH, InputError, RelayInfo,
};

use crate::assets;
use crate::compare::{self, CompareWith};
use crate::diagnose;
use crate::limits::{Hosting, Refused, StoreStatus};
use crate::net::Net;
use crate::policy::EgressPolicy;
use crate::telemetry;

/// What a diagnosis cut by a shutdown ends its stream with.
pub const SHUT_DOWN: &str =
    "the relay is shutting down and stopped this diagnosis before it finished; run it again in a moment";

pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const METRICS: &str = "/metrics";

/// A diagnose request is a few hundred bytes; anything much larger is not one.
const MAX_BODY: usize = 16 * 1024;

pub struct AppState {
    pub net: Net,
    /// Ready-made diagnoses of a demo lab, offered by the page (empty on a normal relay).
    pub demos: Vec<Demo>,
    /// Limits, access token and allowed origins (`Hosting::default()` for a public relay's limits).
    pub hosting: Hosting,
    pub lifecycle: Lifecycle,
    /// The relay on the internet this one compares with (`--compare-with`), when the operator named one.
    pub compare: Option<CompareWith>,
}

impl AppState {
    /// A relay that is never stopped and serves no metrics (as the tests start it).
    pub fn new(net: Net, demos: Vec<Demo>, hosting: Hosting) -> Self {
        AppState {
            net,
            demos,
            hosting,
            lifecycle: Lifecycle::default(),
            compare: None,
        }
    }
}

/// The process around the routes: its shutdown, and its metrics when they are served here.
pub struct Lifecycle {
    /// The longest an API request may take to arrive whole and be answered (a diagnosis's stream
    /// starts at once; its events are not counted): a client that trickles its body is cut off.
    pub request_timeout: Duration,
    /// Cancelled when the relay stops accepting: `/readyz` then says it is going away.
    pub stopping: CancellationToken,
    /// Cancelled when the shutdown's grace runs out: the diagnoses still running end with an error.
    pub cut: CancellationToken,
    /// `/metrics` on the main listener (not when `--metrics-listen` gives it one of its own).
    pub metrics: Option<PrometheusHandle>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            request_timeout: Duration::from_secs(10),
            stopping: CancellationToken::new(),
            cut: CancellationToken::new(),
            metrics: None,
        }
    }
}

/// The whole route table (the metrics' own listener, when it has one, serves [`metrics_app`]).
pub fn app(state: Arc<AppState>) -> Router {
    let mut probes = Router::new().route(HEALTHZ, get(healthz)).route(READYZ, get(readyz));
    if let Some(handle) = state.lifecycle.metrics.clone() {
        probes = probes.merge(metrics_app(handle));
    }
    let api = Router::new()
        .route(DIAGNOSE_PATH, post(diagnose_handler))
        .route(INFO_PATH, get(info))
        .route(CATALOGUE_PATH, get(catalogue))
        // Set after the routes, as it applies to those already there; axum still adds `Allow`.
        .method_not_allowed_fallback(|method: Method| async move { ApiError::WrongMethod(method) })
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&state), require_token))
        .route_layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.lifecycle.request_timeout,
        ));
    // The probes and the metrics answer without the token: a load balancer or Prometheus has none.
    let mut router = api
        .merge(probes.with_state(Arc::clone(&state)))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(log_refusals))
        .layer(axum::middleware::map_response(security_headers));
    // Closed unless origins are named: then only their pages may call the API from a browser.
    if !state.hosting.cors_origins.is_empty() {
        router = router.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::AllowOrigin::list(state.hosting.cors_origins.clone()))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]),
        );
    }
    router.with_state(state)
}

/// `/metrics` alone, for `--metrics-listen`, or merged into [`app`].
pub fn metrics_app<S: Clone + Send + Sync + 'static>(handle: PrometheusHandle) -> Router<S> {
    Router::new().route(
        METRICS,
        get(move || async move {
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                )],
                handle.render(),
            )
        }),
    )
}

/// The process answers.
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Whether a new diagnosis would be served: 503 with the reason when the relay is stopping, every
/// diagnosis slot is taken, or the shared rate-limit store does not answer.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let reason = if state.lifecycle.stopping.is_cancelled() {
        Some("the relay is shutting down".to_string())
    } else if state.hosting.saturated() {
        Some(format!(
            "all {} diagnosis slots are in use",
            state.hosting.limits.max_concurrent
        ))
    } else if state.hosting.store_status() == StoreStatus::Unreachable {
        Some("the shared rate-limit store does not answer; the limits are this instance's own".to_string())
    } else {
        None
    };
    match reason {
        None => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "not ready", "reason": reason })),
        )
            .into_response(),
    }
}

/// The API answers only with the access token, when the relay has one; the page stays public.
async fn require_token(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let given = request.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    if state.hosting.token_matches(given) {
        next.run(request).await
    } else {
        ApiError::NeedsToken.into_response()
    }
}

/// A path under `/api/` that is no route is a client's mistake to be told in JSON, not the page: an API
/// client that mistypes a path would otherwise get the page's HTML with a 200.
async fn fallback(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        ApiError::NoSuchRoute.into_response()
    } else {
        assets::serve(uri, headers).await
    }
}

/// What an [`ApiError`] leaves on its response for [`log_refusals`]: the response alone does not know
/// which request it answers.
#[derive(Clone)]
struct Refusal(String);

/// Logs each refusal with the request refused (method and path), so that a refused `GET /api/v1/info`
/// is not mistaken in the log for a refused diagnosis.
async fn log_refusals(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    // The path only: a query string is the client's own and may hold anything.
    let path: String = request.uri().path().chars().take(200).collect();
    let response = next.run(request).await;
    if let Some(Refusal(error)) = response.extensions().get::<Refusal>() {
        tracing::info!(status = response.status().as_u16(), %error, "refused {method} {path}");
    }
    response
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(assets::CSP));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// What the API answers when a request cannot run: always `{"error": ..., "field": ...}`, the field
/// at fault or null. The client learns the field and what to fix; what was refused goes to the log
/// (see [`log_refusals`]). No message quotes a value the client sent: it could be a misplaced password.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field is missing or wrong.
    #[error("{0}")]
    BadInput(InputError),
    /// A field no mode has (`{"mode":"host","hots":1}`): named as the client spelt it.
    #[error("{field}: {message}")]
    UnknownField { field: String, message: String },
    /// The body is not a JSON diagnose request at all.
    #[error("{0}")]
    Malformed(String),
    /// The body is not declared as JSON. Without this, a cross-site form (text/plain or
    /// x-www-form-urlencoded, which need no CORS preflight) could start diagnoses on a relay that
    /// reaches internal addresses.
    #[error("the body must be JSON, sent with Content-Type: application/json")]
    NotJson,
    /// The body is over [`MAX_BODY`].
    #[error("the body is larger than the limit of {MAX_BODY} bytes; a diagnose request is a few hundred")]
    TooLarge,
    /// A path under `/api/` that is no route.
    #[error("no such API route; the API is POST {DIAGNOSE_PATH}, GET {INFO_PATH} and GET {CATALOGUE_PATH}")]
    NoSuchRoute,
    /// A route asked with a method it does not take (the `Allow` header lists those it does).
    #[error("{0} is not allowed on this route; the Allow header lists the methods it takes")]
    WrongMethod(Method),
    /// The relay has an access token and the request did not carry it.
    #[error("this relay needs its access token")]
    NeedsToken,
    /// Too many diagnoses from this client, or running overall.
    #[error("{}", .0.message)]
    TooMany(Refused),
    /// A comparison asked of a relay that has no outside relay to compare with.
    #[error("this relay compares with no other: its operator starts it with --compare-with URL")]
    NoComparison,
    /// A query parameter the diagnose route does not take, or a value it cannot read.
    #[error("the query takes compare=outside and send_password=true or false, nothing else")]
    BadQuery,
    /// The password asked to go to an outside relay reached over plain http.
    #[error("{}", crate::compare::PASSWORD_NEEDS_HTTPS)]
    PasswordNeedsHttps,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, field) = match &self {
            ApiError::BadInput(e) => (StatusCode::BAD_REQUEST, Some(e.field.name())),
            ApiError::UnknownField { field, .. } => (StatusCode::BAD_REQUEST, Some(field.as_str())),
            ApiError::Malformed(_) => (StatusCode::BAD_REQUEST, None),
            ApiError::NotJson => (StatusCode::UNSUPPORTED_MEDIA_TYPE, None),
            ApiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, None),
            ApiError::NoSuchRoute => (StatusCode::NOT_FOUND, None),
            ApiError::WrongMethod(_) => (StatusCode::METHOD_NOT_ALLOWED, None),
            ApiError::NeedsToken => (StatusCode::UNAUTHORIZED, Some(Field::Token.name())),
            ApiError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, None),
            ApiError::NoComparison | ApiError::BadQuery | ApiError::PasswordNeedsHttps => {
                (StatusCode::BAD_REQUEST, Some("compare"))
            }
        };
        let refusal = match &self {
            ApiError::BadInput(_)
            | ApiError::UnknownField { .. }
            | ApiError::Malformed(_)
            | ApiError::NotJson
            | ApiError::TooLarge
            | ApiError::NoComparison
            | ApiError::BadQuery
            | ApiError::PasswordNeedsHttps => Some(telemetry::Refusal::Validation),
            ApiError::NeedsToken => Some(telemetry::Refusal::Token),
            ApiError::TooMany(_) => Some(telemetry::Refusal::RateLimit),
            ApiError::NoSuchRoute | ApiError::WrongMethod(_) => None,
        };
        if let Some(reason) = refusal {
            telemetry::refused(reason);
        }
        let message = self.to_string();
        let mut response = (status, Json(serde_json::json!({ "error": message, "field": field }))).into_response();
        match &self {
            ApiError::NeedsToken => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooMany(r) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, r.retry_after_secs.into());
            }
            _ => {}
        }
        response.extensions_mut().insert(Refusal(message));
        response
    }
}

/// Reads the body as a request, naming the field when one is wrong. The mode is read first, then its
/// fields on their own, so a wrong field keeps its name in the message.
pub fn parse_request(body: &[u8]) -> Result<DiagnoseRequest, ApiError> {
    let mut value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::Malformed(format!("the body is not a diagnose request: {e}")))?;
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::Malformed(
            "the body is not a diagnose request: expected a JSON object".into(),
        ));
    };
    let mode = match object.remove("mode") {
        Some(serde_json::Value::String(m)) => m,
        Some(_) => return Err(ApiError::BadInput(InputError::new(Field::Mode, "must be a string"))),
        None => {
            return Err(ApiError::BadInput(InputError::new(
                Field::Mode,
                format!("missing; one of: {}", DiagnoseRequest::MODES.join(", ")),
            )));
        }
    };
    match mode.as_str() {
        "host" => fields(&mode, value).map(DiagnoseRequest::Host),
        "autodiscover" => fields(&mode, value).map(DiagnoseRequest::Autodiscover),
        "outlook_anywhere" => fields(&mode, value).map(DiagnoseRequest::OutlookAnywhere),
        "remote_move" => fields(&mode, value).map(DiagnoseRequest::RemoteMove),
        "outside" => fields(&mode, value).map(DiagnoseRequest::Outside),
        other => Err(ApiError::BadInput(InputError::new(
            Field::Mode,
            format!("unknown mode '{other}'; one of: {}", DiagnoseRequest::MODES.join(", ")),
        ))),
    }
}

fn fields<T: serde::de::DeserializeOwned>(mode: &str, value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        field_error(mode, &path, &e.into_inner().to_string())
    })
}

/// serde's complaint about a mode's fields, in words for the user. serde quotes the value it could not
/// take (`invalid type: string "Hunter2", expected a boolean`): that part is never passed on, to the
/// client or the log, as a password typed into the wrong field would go with it.
fn field_error(mode: &str, path: &str, serde_says: &str) -> ApiError {
    // serde names a missing, unknown or repeated field only in its message, between backquotes.
    let named = |prefix: &str| serde_says.strip_prefix(prefix)?.split('`').next();
    if let Some(field) = named("missing field `") {
        return bad_field(field, format!("missing field `{field}`"));
    }
    if let Some(rest) = serde_says.strip_prefix("unknown field `") {
        // `unknown field `NAME`, expected `a` or `b``: the field's own name may hold a backquote, the
        // list of the mode's fields (serde's own) never does.
        let (field, expected) = rest
            .rsplit_once("`, expected ")
            .unwrap_or((rest.trim_end_matches('`'), ""));
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let message = if known.is_empty() {
            format!("not used in mode '{mode}'")
        } else {
            format!("not used in mode '{mode}' (its fields: {})", known.join(", "))
        };
        return bad_field(field, message);
    }
    if let Some(field) = named("duplicate field `") {
        return bad_field(field, "given more than once".into());
    }
    let expected = serde_says.rsplit_once(", expected ").map(|(_, e)| e);
    if path.is_empty() || path == "." {
        return ApiError::Malformed("the body is not a diagnose request".into());
    }
    bad_field(path, must_be(path, expected))
}

/// An error about the field serde named: one of the request's, or a name the client made up (the
/// answer names it all the same).
fn bad_field(name: &str, message: String) -> ApiError {
    match Field::from_name(name) {
        Some(field) => ApiError::BadInput(InputError::new(field, message)),
        None => ApiError::UnknownField {
            field: name.to_string(),
            message,
        },
    }
}

/// What a field must hold, from serde's `expected ...` (its own words, never the client's value).
fn must_be(field: &str, expected: Option<&str>) -> String {
    match expected {
        Some("a boolean") => "must be true or false".into(),
        Some("a string") => "must be a string".into(),
        // The port is the request's one number; its checks after parsing say the same.
        Some("u16") if field == Field::Port.name() => "must be a whole number between 1 and 65535".into(),
        Some("u16") => "must be a whole number from 0 to 65535".into(),
        // `unknown variant `x`, expected `basic` or `ntlm``: the choices, without the choice made.
        Some(choices) if choices.contains('`') => {
            let choices: Vec<&str> = choices.split('`').skip(1).step_by(2).collect();
            format!("must be one of: {}", choices.join(", "))
        }
        Some(other) => format!("must be {other}"),
        None => "is not valid here".into(),
    }
}

async fn info(State(state): State<Arc<AppState>>) -> Json<RelayInfo> {
    Json(RelayInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        egress: state.net.egress.to_string(),
        inside: !matches!(state.net.egress, EgressPolicy::Public { .. }),
        demos: state.demos.clone(),
        modes: DiagnoseRequest::MODES.iter().map(ToString::to_string).collect(),
        compare_with: state.compare.as_ref().map(|c| c.url.clone()),
    })
}

/// The catalogue of known error messages, as JSON: the same for every client and every request until the
/// relay changes, so caches may keep it for an hour.
async fn catalogue() -> Response {
    match crate::explain::catalogue_json() {
        Ok(json) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
            ],
            json,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("{e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": "the catalogue is not available", "field": null })),
            )
                .into_response()
        }
    }
}

/// `POST /api/v1/diagnose?compare=outside[&send_password=true]`: the diagnosis beside the view of the
/// relay this one compares with ([`AppState::compare`]); the password goes there only with
/// `send_password=true`.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DiagnoseQuery {
    compare: Option<CompareQuery>,
    #[serde(default)]
    send_password: bool,
}

#[derive(serde::Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum CompareQuery {
    Outside,
}

async fn diagnose_handler(
    State(state): State<Arc<AppState>>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: axum::http::HeaderMap,
    query: Result<axum::extract::Query<DiagnoseQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !is_json(headers.get(header::CONTENT_TYPE)) {
        return Err(ApiError::NotJson);
    }
    // The message quotes nothing of the query (it could hold anything).
    let axum::extract::Query(query) = query.map_err(|_| ApiError::BadQuery)?;
    let compare = match query.compare {
        None if query.send_password => return Err(ApiError::BadQuery),
        None => None,
        Some(CompareQuery::Outside) => {
            let with = state.compare.clone().ok_or(ApiError::NoComparison)?;
            if query.send_password && !with.keeps_secrets() {
                return Err(ApiError::PasswordNeedsHttps);
            }
            Some(with)
        }
    };
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::Malformed("the body could not be read".into()),
    })?;
    let request = parse_request(&body)?;
    let valid = request.validate().map_err(ApiError::BadInput)?;
    let client = state.hosting.client_address(
        peer.map(|p| p.0.0.ip()),
        headers.get("x-forwarded-for").map(HeaderValue::as_bytes),
    );
    let slot = state.hosting.admit(client).await.map_err(ApiError::TooMany)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let net = state.net.for_one_diagnosis();
    let deadline = state.hosting.limits.deadline;
    let cut = state.lifecycle.cut.clone();
    let mut meter = telemetry::DiagnosisMeter::start(&request);
    let task = tokio::spawn(async move {
        let late = tx.clone();
        // Past the deadline, or when a shutdown's grace runs out, the probes are dropped mid-step and
        // the stream says why it ends.
        let run = async {
            match &compare {
                None => diagnose::run(&net, request, valid, tx).await,
                Some(with) => compare::run(&net, with, request, valid, query.send_password, deadline, tx).await,
            }
        };
        let stopped = tokio::select! {
            ran = tokio::time::timeout(deadline, run) => ran.err().map(|_| {
                format!("the diagnosis took longer than {} s and was stopped", deadline.as_secs_f64())
            }),
            () = cut.cancelled() => Some(SHUT_DOWN.to_string()),
        };
        if let Some(message) = stopped {
            let _ = late.send(Event::Error { message, field: None });
        }
    });
    // When the client goes away the body stream is dropped, and with it the guard: the probes stop and
    // the slot is free again (it is also freed when the diagnosis ends and the stream closes).
    let guard = (AbortOnDrop(task), slot);
    let lines = UnboundedReceiverStream::new(rx).map(move |event: Event| {
        let _keep = &guard;
        meter.saw(&event);
        let mut line =
            serde_json::to_vec(&event).unwrap_or_else(|_| br#"{"event":"error","message":"internal error"}"#.to_vec());
        line.push(b'\n');
        Ok::<_, Infallible>(Bytes::from(line))
    });
    let mut response = Response::new(Body::from_stream(lines));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `application/json`, with or without parameters (`; charset=utf-8`); media types ignore case.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
