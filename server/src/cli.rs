//! The `candor` command line: clap, and calls into [`crate::ops`] and
//! [`crate::startup`]. Arguments are parsed into their domain types here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use candor_protocol::domain::{Day, RoundId, Scope};
use candor_protocol::manifest::{DEFAULT_THRESHOLD, MIN_THRESHOLD, RoundManifest, SignedManifest};
use clap::{Args, Parser, Subcommand};

use crate::assertion::IntranetKey;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::keyfiles::{self, ORGANISATION_KEY};
use crate::ops::rounds::{Closed, Rating, RoundSpec};
use crate::ops::{self, OpsError};
use crate::startup::Application;
use crate::store::{self, DatabaseUrl};

/// Candor: anonymous, blinded upward feedback. The operator's tool.
#[derive(Debug, Parser)]
#[command(name = "candor", version, about, long_about = None)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, default_value = "candor.toml", env = "CANDOR_CONFIG")]
    pub config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

fn scope(text: &str) -> Result<Scope, String> {
    Scope::parse(text).map_err(|e| e.to_string())
}

fn day(text: &str) -> Result<Day, String> {
    Day::parse(text).map_err(|e| e.to_string())
}

fn round_id(text: &str) -> Result<RoundId, String> {
    RoundId::parse(text).map_err(|e| e.to_string())
}

fn threshold(text: &str) -> Result<u32, String> {
    let k: u32 = text.parse().map_err(|_| "expected a whole number".to_owned())?;
    if k < MIN_THRESHOLD { Err(format!("the threshold must be at least {MIN_THRESHOLD}")) } else { Ok(k) }
}

fn database(text: &str) -> Result<DatabaseUrl, String> {
    DatabaseUrl::parse(text).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the organisation key, the receipt key, the server secret and a commented
    /// configuration file. Key files are written with mode 0600 and never printed.
    Init {
        /// The URL browsers will reach the server at.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Run the server until SIGINT or SIGTERM. It needs only the receipt key and the
    /// server secret: the organisation key may live elsewhere.
    Serve {
        /// Address to listen on (overrides the configuration).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Database URL, e.g. sqlite://data/candor.db (overrides the configuration).
        #[arg(long, value_parser = database)]
        database: Option<DatabaseUrl>,
    },
    /// Open, prepare, sign, import, close and list feedback rounds.
    #[command(subcommand)]
    Round(RoundCommand),
    /// Manage the leaders who read digests.
    #[command(subcommand)]
    Leader(LeaderCommand),
    /// Eligibility assertions, for tests, demos and intranet integration.
    #[command(subcommand)]
    Assertion(AssertionCommand),
    /// Print the <script> tag intranet pages embed: the loader pinned by its SHA-384,
    /// and the organisation's public key.
    EmbedSnippet,
    /// Check released rounds' published ledgers.
    #[command(subcommand)]
    Ledger(LedgerCommand),
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Check a released round's ledger: the organisation's signature on its manifest,
    /// the receipt key's on the ledger, the Merkle root, every shown token against the
    /// round's keys, that no token is used twice, the counts and the tombstones. Exits
    /// non-zero naming each discrepancy.
    Verify {
        /// The ledger: a file, or the URL a server publishes it at
        /// (https://…/v1/rounds/ROUND/ledger).
        source: String,
        /// The organisation's public key, base64url (default: organisation.pub in the
        /// configuration's keys_dir).
        #[arg(long)]
        organisation_key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RoundCommand {
    /// Open a round here: creates a token key per team, signs the manifest with the
    /// organisation key and prints the round id.
    Open {
        #[command(flatten)]
        spec: SpecArgs,
        /// The organisation key to sign with (default: organisation.key in keys_dir).
        #[arg(long)]
        sign_with: Option<PathBuf>,
    },
    /// Prepare a round where the database is, without the organisation key: creates
    /// its team keys and writes the manifest to sign (on another machine) to FILE.
    Prepare {
        #[command(flatten)]
        spec: SpecArgs,
        /// Where to write the manifest to sign.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a prepared manifest with the organisation key. Needs no configuration or
    /// database: run it on the machine that keeps the key.
    Sign {
        /// The organisation key.
        #[arg(long)]
        key: PathBuf,
        /// The prepared manifest (from `candor round prepare`).
        manifest: PathBuf,
        /// Where to write the signed manifest.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a signed manifest: checks the signature against organisation.pub in
    /// keys_dir and opens the prepared round.
    Import {
        /// The signed manifest (from `candor round sign`).
        signed: PathBuf,
    },
    /// Close a round now and release its feedback to leaders, in a fresh random order.
    Close {
        /// The round id.
        #[arg(value_parser = round_id)]
        id: RoundId,
    },
    /// List every round with its state and figures.
    List,
}

/// What a round is: the flags of `candor round open` and `round prepare`.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// The org unit whose members (and sub-units) are asked, e.g. acme/eng.
    #[arg(long, value_parser = scope)]
    scope: Scope,
    /// A team of the round below its scope, e.g. acme/eng/platform (repeat for each).
    /// Each team gets its own token key, so an item's team is the one the server checked
    /// at issuance; members of units not listed answer as the round's scope.
    #[arg(long = "team", value_parser = scope)]
    teams: Vec<Scope>,
    /// The free-text question.
    #[arg(long)]
    question: String,
    /// Also ask for a rating: eNPS (0–10) or Likert (1–5).
    #[arg(long, value_enum)]
    rating: Option<Rating>,
    /// The rating question's prompt (a sensible default for each scale).
    #[arg(long)]
    rating_prompt: Option<String>,
    /// The last day feedback is accepted, YYYY-MM-DD, in the organisation's time zone.
    #[arg(long, value_parser = day)]
    closes: Day,
    /// The anonymity threshold k (at least 3).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = threshold)]
    threshold: u32,
    /// Tokens each employee may obtain.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    tokens_per_person: u32,
    /// The mean, in minutes of open pages, of the widget's random delay before it sends
    /// (exponential, drawn afresh in every page view; longer hides better who wrote).
    #[arg(long, default_value_t = candor_protocol::schedule::DEFAULT_SEND_DELAY_MINUTES)]
    send_delay_minutes: u32,
    /// The most characters a text answer may hold.
    #[arg(long, default_value_t = 2_000)]
    max_chars: u32,
    /// An organisation ID pattern the widget flags, e.g. 'EMP-[0-9]{6}' (repeat for each).
    #[arg(long = "id-pattern")]
    id_patterns: Vec<String>,
    /// Days after the close that browsers keep the round's author key and receipt.
    #[arg(long, default_value_t = 30)]
    keep_on_device_days: u32,
}

impl SpecArgs {
    fn into_spec(self) -> RoundSpec {
        RoundSpec {
            scope: self.scope,
            teams: self.teams,
            question: self.question,
            rating: self.rating,
            rating_prompt: self.rating_prompt,
            closes: self.closes,
            threshold: self.threshold,
            tokens_per_person: self.tokens_per_person,
            send_delay_minutes: self.send_delay_minutes,
            max_chars: self.max_chars,
            id_patterns: self.id_patterns,
            keep_on_device_days: self.keep_on_device_days,
        }
    }
}

#[derive(Debug, Subcommand)]
enum LeaderCommand {
    /// Add a leader and print their one-time sign-in link (valid 14 days).
    Add {
        /// The leader's name, as the digest greets them.
        #[arg(long)]
        name: String,
        /// The scope they lead, e.g. acme/eng.
        #[arg(long, value_parser = scope)]
        scope: Scope,
    },
    /// Print a new one-time sign-in link for a leader.
    Link {
        /// The leader's id (see `candor leader list`).
        id: String,
    },
    /// List the leaders, with their ids and live sessions.
    List,
    /// End every session of a leader (they sign in again with a new link).
    Revoke {
        /// The leader's id.
        id: String,
    },
    /// Remove a leader, their links and sessions.
    Remove {
        /// The leader's id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum AssertionCommand {
    /// Create an intranet signing key and add its public half to a JWKS file.
    Keygen {
        /// Where to write the private key (mode 0600).
        #[arg(long)]
        key: PathBuf,
        /// The JWKS file to add the public key to (created if missing).
        #[arg(long)]
        jwks: PathBuf,
    },
    /// Print an assertion signed with an intranet key.
    Mint {
        /// The intranet signing key file.
        #[arg(long)]
        key: PathBuf,
        /// The employee's identifier.
        #[arg(long)]
        subject: String,
        /// A scope the employee belongs to (repeat for several).
        #[arg(long, required = true, value_parser = scope)]
        scope: Vec<Scope>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 300)]
        ttl: u32,
        /// The audience (defaults to the configuration's).
        #[arg(long)]
        audience: Option<String>,
    },
}

/// Runs the command line; the binary's `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("candor: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("candor: {error}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, OpsError> {
    let text = std::fs::read_to_string(path).map_err(|e| OpsError::Io(path.into(), e))?;
    serde_json::from_str(&text).map_err(|e| OpsError::Invalid(format!("{}: {e}", path.display())))
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), OpsError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| OpsError::Invalid(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| OpsError::Io(path.into(), e))
}

/// `candor ledger verify`.
async fn verify_ledger(config: &Path, source: &str, organisation_key: Option<&str>) -> CliResult {
    use candor_protocol::keys::OrganisationPublicKey;
    use candor_protocol::ledger::{LeafToken, PublishedLedger};
    let organisation = match organisation_key {
        Some(key) => OrganisationPublicKey::from_base64(key).map_err(|_| {
            OpsError::Invalid("--organisation-key is not an Ed25519 public key in base64url".into())
        })?,
        None => keyfiles::load_organisation_public(&Config::load(config)?.keys_dir)?,
    };
    let text = if source.starts_with("https://") || source.starts_with("http://") {
        let response = reqwest::get(source).await.map_err(|e| OpsError::Invalid(format!("{source}: {e}")))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| OpsError::Invalid(format!("{source}: {e}")))?;
        if !status.is_success() {
            return Err(OpsError::Invalid(format!("{source}: {status}: {body}")).into());
        }
        body
    } else {
        std::fs::read_to_string(source).map_err(|e| OpsError::Io(source.into(), e))?
    };
    let published: PublishedLedger =
        serde_json::from_str(&text).map_err(|e| OpsError::Invalid(format!("{source}: not a ledger: {e}")))?;
    let mut found: Vec<String> = published.check(&organisation).iter().map(ToString::to_string).collect();
    let ledger = &published.ledger;
    // A URL names its round: a server must not answer with another round's ledger.
    if let Some(named) = source.split("/v1/rounds/").nth(1).and_then(|rest| rest.split('/').next())
        && named != ledger.round.to_string()
    {
        found.push(format!("the URL names round {named}, the ledger is round {}'s", ledger.round));
    }
    if !found.is_empty() {
        for discrepancy in &found {
            println!("discrepancy: {discrepancy}");
        }
        return Err(OpsError::Invalid(format!(
            "the ledger of round {} fails {} check(s)",
            ledger.round,
            found.len()
        ))
        .into());
    }
    let shown = ledger.leaves.iter().filter(|leaf| matches!(leaf.token, LeafToken::Shown(_))).count();
    println!(
        "ledger of round {} verified: {} items listed ({shown} with their token checked, {} sealed), {} withheld \
         entries, {} tokens issued, {} hidden by a moderator",
        ledger.round,
        ledger.items_listed,
        ledger.leaves.len() - shown,
        ledger.withheld.len(),
        ledger.tokens_issued,
        ledger.tombstones.len()
    );
    Ok(())
}

async fn run(cli: Cli) -> CliResult {
    let clock = SystemClock;
    match cli.command {
        Command::Init { public_url } => {
            let organisation = ops::setup::init(&cli.config, &public_url)?;
            let base = cli.config.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            println!("wrote {} and the keys in {}", cli.config.display(), base.join("keys").display());
            println!(
                "organisation public key (pin it in the widget's embed tag): {}",
                organisation.to_base64()
            );
            println!(
                "next: put the intranet's JWKS in {}, then `candor round open` and `candor serve`; keep {} \
                 off the serving machine if you can (see `candor round prepare`)",
                base.join("intranet-jwks.json").display(),
                base.join("keys").join(ORGANISATION_KEY).display()
            );
            Ok(())
        }
        Command::Serve { listen, database } => {
            let mut config = Config::load(&cli.config)?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            if let Some(database) = database {
                config.database = database;
            }
            crate::telemetry::init();
            let application = Application::build(config).await?;
            application.run_until_stopped(shutdown_signal()).await?;
            Ok(())
        }
        Command::Round(RoundCommand::Sign { key, manifest, out }) => {
            let manifest: RoundManifest = read_json(&manifest)?;
            let signed = ops::rounds::sign(manifest, &keyfiles::load_organisation_key(&key)?)?;
            write_json(&out, &signed)?;
            println!(
                "signed round {}; import {} where the server runs",
                signed.manifest.round,
                out.display()
            );
            Ok(())
        }
        Command::Round(command) => {
            let config = Config::load(&cli.config)?;
            let store = store::open(&config.database).await?;
            let store = store.as_ref();
            match command {
                RoundCommand::Open { spec, sign_with } => {
                    let key = sign_with.unwrap_or_else(|| config.keys_dir.join(ORGANISATION_KEY));
                    let organisation = keyfiles::load_organisation_key(&key)?;
                    println!(
                        "{}",
                        ops::rounds::open(&config, store, &clock, spec.into_spec(), &organisation).await?
                    );
                }
                RoundCommand::Prepare { spec, out } => {
                    let manifest = ops::rounds::prepare(&config, store, &clock, spec.into_spec()).await?;
                    write_json(&out, &manifest)?;
                    println!("{}", manifest.round);
                    eprintln!(
                        "prepared; sign {} with `candor round sign` where the organisation key is, then \
                         `candor round import` the result here",
                        out.display()
                    );
                }
                RoundCommand::Import { signed } => {
                    let signed: SignedManifest = read_json(&signed)?;
                    let organisation = keyfiles::load_organisation_public(&config.keys_dir)?;
                    println!("{}", ops::rounds::import(store, &organisation, &signed).await?);
                }
                RoundCommand::Close { id } => match ops::rounds::close(store, id).await? {
                    Closed::Released { items, tokens } => {
                        println!("round {id} closed and released: {items} items from {tokens} tokens");
                    }
                    Closed::AlreadyReleased => println!("round {id} was already released"),
                },
                RoundCommand::List => {
                    println!(
                        "{:<32}  {:<24}  {:<10}  {:<10}  {:<9}  {:<7}  {:>6}  {:>5}",
                        "ROUND", "SCOPE", "OPENS", "CLOSES", "STATE", "ERASED", "TOKENS", "ITEMS"
                    );
                    for line in ops::rounds::list(store, &clock).await? {
                        println!(
                            "{:<32}  {:<24}  {:<10}  {:<10}  {:<9}  {:<7}  {:>6}  {:>5}",
                            line.id.to_string(),
                            line.scope.to_string(),
                            line.opens.to_string(),
                            line.closes.to_string(),
                            line.state,
                            line.erased,
                            line.tokens,
                            line.items
                        );
                    }
                }
                RoundCommand::Sign { .. } => unreachable!("handled above"),
            }
            Ok(())
        }
        Command::Leader(command) => {
            let config = Config::load(&cli.config)?;
            let store = store::open(&config.database).await?;
            let store = store.as_ref();
            match command {
                LeaderCommand::Add { name, scope } => {
                    let (id, link) = ops::leaders::add(&config, store, &clock, &name, &scope).await?;
                    eprintln!("leader {id} added");
                    println!("{}", link.expose());
                }
                LeaderCommand::Link { id } => {
                    println!("{}", ops::leaders::link(&config, store, &clock, &id).await?.expose());
                }
                LeaderCommand::List => {
                    println!("{:<16}  {:<24}  {:<24}  {:>8}", "LEADER", "SCOPE", "NAME", "SESSIONS");
                    for (leader, sessions) in ops::leaders::list(store).await? {
                        println!(
                            "{:<16}  {:<24}  {:<24}  {:>8}",
                            leader.id,
                            leader.scope.to_string(),
                            leader.name,
                            sessions
                        );
                    }
                }
                LeaderCommand::Revoke { id } => {
                    println!("{} session(s) of leader {id} ended", ops::leaders::revoke(store, &id).await?);
                }
                LeaderCommand::Remove { id } => {
                    ops::leaders::remove(store, &id).await?;
                    println!("leader {id} removed, with their links and sessions");
                }
            }
            Ok(())
        }
        Command::Ledger(LedgerCommand::Verify { source, organisation_key }) => {
            verify_ledger(&cli.config, &source, organisation_key.as_deref()).await
        }
        Command::EmbedSnippet => {
            let config = Config::load(&cli.config)?;
            println!("{}", ops::embed::snippet(&config)?);
            Ok(())
        }
        Command::Assertion(AssertionCommand::Keygen { key, jwks }) => {
            let intranet = IntranetKey::generate();
            let existing = std::fs::read_to_string(&jwks).ok();
            let document = intranet.add_to_jwks(existing.as_deref())?;
            intranet.save(&key)?;
            std::fs::write(&jwks, document + "\n")?;
            println!(
                "intranet key {} written to {}; public key added to {}",
                intranet.key_id(),
                key.display(),
                jwks.display()
            );
            Ok(())
        }
        Command::Assertion(AssertionCommand::Mint { key, subject, scope, ttl, audience }) => {
            let audience = match audience {
                Some(audience) => audience,
                None => Config::load(&cli.config)?.audience,
            };
            println!("{}", IntranetKey::load(&key)?.mint(&subject, &scope, &audience, ttl));
            Ok(())
        }
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
