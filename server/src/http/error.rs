//! [`ApiError`]: every error a client sees, with its status and the
//! [`ErrorCode`] the front ends match on. Internal detail is logged, never returned.

use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use candor_protocol::api::{ErrorBody, ErrorCode};
use candor_protocol::domain::RoundId;

use crate::assertion::AssertionError;
use crate::store::StoreError;

/// An error a client sees.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is missing or invalid.
    #[error("{0}")]
    Query(String),
    /// No such resource.
    #[error("{0}")]
    NotFound(&'static str),
    /// The eligibility assertion is missing or refused.
    #[error(transparent)]
    Assertion(#[from] AssertionError),
    /// The body is not of the media type the endpoint takes.
    #[error("the body must be {0}")]
    ContentType(&'static str),
    /// The body is larger than the server takes.
    #[error("the body is larger than the server takes")]
    TooLarge,
    /// The body could not be read.
    #[error("{0}")]
    Body(String),
    /// The request did not arrive in time.
    #[error("the request took too long")]
    Timeout,
    /// The token request is malformed.
    #[error("{0}")]
    TokenRequest(String),
    /// No open round has the token key the request names.
    #[error("no open round has this token key")]
    TokenKey,
    /// The assertion does not name the team of the key asked for.
    #[error("this token key is for a team your assertion does not name")]
    Team,
    /// Every token the round allows has been issued to this person.
    #[error("you have already received {0} token(s) for this round")]
    Quota(u32),
    /// The Privacy Pass token is missing, malformed or not valid here.
    #[error("{0}")]
    Token(String),
    /// The body is not UTF-8.
    #[error("the body is not valid UTF-8")]
    Utf8,
    /// The body is not the JSON the endpoint takes.
    #[error("{0}")]
    Json(String),
    /// There is no such round.
    #[error("there is no round {0}")]
    Round(RoundId),
    /// The round is not open.
    #[error("this round is not open")]
    RoundNotOpen,
    /// The author's signature or the nonce binding fails.
    #[error("{0}")]
    Signature(String),
    /// The answers do not fit the round.
    #[error("{0}")]
    Answers(String),
    /// The token was spent on another submission.
    #[error("this token has already been used")]
    Spent,
    /// The sign-in link is unknown, used or expired.
    #[error("this sign-in link is unknown, used or expired")]
    Link,
    /// Not signed in.
    #[error("sign in with your link first")]
    Session,
    /// The request came from a page of another origin.
    #[error("this request must come from a page of this server")]
    Origin,
    /// More connections than the server takes at once.
    #[error("the server is busy; try again shortly")]
    Busy,
    /// Something failed inside; the detail is in the log.
    #[error("the server could not complete the request")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Assertion(_) | Self::Token(_) | Self::Link | Self::Session => StatusCode::UNAUTHORIZED,
            Self::ContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::TokenRequest(_)
            | Self::Body(_)
            | Self::TokenKey
            | Self::Utf8
            | Self::Json(_)
            | Self::Signature(_)
            | Self::Query(_) => StatusCode::BAD_REQUEST,
            Self::Team | Self::RoundNotOpen | Self::Origin => StatusCode::FORBIDDEN,
            Self::Quota(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Round(_) | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Answers(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Spent => StatusCode::CONFLICT,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code the front ends match on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Assertion(_) => ErrorCode::Assertion,
            Self::ContentType(_) => ErrorCode::ContentType,
            Self::TooLarge => ErrorCode::TooLarge,
            Self::Body(_) | Self::Timeout => ErrorCode::Body,
            Self::TokenRequest(_) => ErrorCode::TokenRequest,
            Self::TokenKey => ErrorCode::TokenKey,
            Self::Team => ErrorCode::Team,
            Self::Quota(_) => ErrorCode::Quota,
            Self::Token(_) => ErrorCode::Token,
            Self::Utf8 => ErrorCode::Utf8,
            Self::Json(_) => ErrorCode::Json,
            Self::Round(_) => ErrorCode::Round,
            Self::Query(_) => ErrorCode::Query,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::RoundNotOpen => ErrorCode::RoundNotOpen,
            Self::Signature(_) => ErrorCode::Signature,
            Self::Answers(_) => ErrorCode::Answers,
            Self::Spent => ErrorCode::Spent,
            Self::Link => ErrorCode::Link,
            Self::Session => ErrorCode::Session,
            Self::Origin => ErrorCode::Origin,
            Self::Busy => ErrorCode::RateLimited,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// An internal failure: logged here, answered with a generic sentence.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal(detail.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::internal(error.to_string())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::TooLarge
        } else {
            Self::Body("the body could not be read".into())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            // The only log line a request can cause; it names no request.
            tracing::error!("{detail}");
        }
        let body = serde_json::to_string(&ErrorBody { error: self.code(), message: self.to_string() })
            .unwrap_or_else(|_| "{}".into());
        (self.status(), [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}
