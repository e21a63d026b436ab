//! The sentences of the digest page that depend on what went wrong, chosen by the
//! server's error code (never its text, never the HTTP status). English only for now.

use candor_protocol::api::ErrorCode;

use crate::http::Problem;

/// What the page says about a problem.
pub fn text(problem: Problem) -> &'static str {
    match problem {
        Problem::Server(ErrorCode::Link) => {
            "This sign-in link is unknown, already used or expired. Ask your Candor \
            operator for a new one."
        }
        Problem::Server(ErrorCode::Session) => "You are signed out.",
        Problem::Server(ErrorCode::RateLimited) => {
            "Too many attempts: wait a while, then open your link again."
        }
        Problem::Server(_) => "The server could not show your digest. Try again later.",
        Problem::Unreachable => "The Candor server could not be reached.",
        Problem::BadAnswer => "The digest could not be read.",
    }
}
