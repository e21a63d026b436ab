//! The log subscriber `candor serve` runs with, and every test with it.
//!
//! Lines carry no timestamp (exact times are never recorded, logs included) and no
//! ANSI colours; nothing on the employee's paths logs at all.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;

/// The subscriber: `filter` (an `EnvFilter` directive such as `info`), lines to `writer`.
/// Tests pass a capturing writer and add their own layers on top of this very one.
pub fn subscriber<W>(
    filter: &str,
    writer: W,
) -> impl tracing::Subscriber + Send + Sync + for<'a> tracing_subscriber::registry::LookupSpan<'a>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::registry().with(tracing_subscriber::EnvFilter::new(filter)).with(
        tracing_subscriber::fmt::layer()
            .without_time() // exact times are never recorded, logs included
            .with_ansi(false)
            .with_writer(writer),
    )
}

/// Installs the subscriber for the process, reading `RUST_LOG` (default `info`),
/// writing to standard output.
pub fn init() {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let _ = tracing::subscriber::set_global_default(subscriber(&filter, std::io::stdout));
}
