//! The `candor` command line: set-up, serving, rounds, leaders, assertions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
use candor_protocol::manifest::{
    DEFAULT_THRESHOLD, MIN_THRESHOLD, Question, QuestionKind, RatingScale, Release, RoundManifest, Team,
};
use candor_protocol::token::IssuerKey;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::app::{self, AppState};
use crate::assertion::{AssertionVerifier, IntranetKey};
use crate::config::{self, Config};
use crate::keyfiles::ServerKeys;
use crate::store::{self, Leader, RoundRecord, Store};

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

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the organisation key, the receipt key, the server secret and a commented
    /// configuration file. Key files are written with mode 0600 and never printed.
    Init {
        /// The URL browsers will reach the server at.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Run the server until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on (overrides the configuration).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Database URL, e.g. sqlite://candor.db (overrides the configuration).
        #[arg(long)]
        database: Option<String>,
    },
    /// Open, close and list feedback rounds.
    #[command(subcommand)]
    Round(RoundCommand),
    /// Manage the leaders who read digests.
    #[command(subcommand)]
    Leader(LeaderCommand),
    /// Eligibility assertions, for tests, demos and intranet integration.
    #[command(subcommand)]
    Assertion(AssertionCommand),
    /// Serve a pretend intranet page (demo roster, fake sign-in, the widget embedded
    /// with a freshly minted assertion), for demos and end-to-end tests.
    DemoIntranet {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        /// The intranet signing key (see `candor assertion keygen`).
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum RoundCommand {
    /// Open a round: creates its RSA-2048 token key and its manifest signed by the
    /// organisation key, and prints the round id.
    Open(OpenRound),
    /// Close a round now and release its feedback to leaders, in a fresh random order.
    Close {
        /// The round id.
        id: String,
    },
    /// List every round with its state and figures.
    List,
}

/// What `candor round open` asks for.
#[derive(Debug, Args)]
pub struct OpenRound {
    /// The org unit whose members (and sub-units) are asked, e.g. acme/eng.
    #[arg(long)]
    pub scope: String,
    /// A team of the round below its scope, e.g. acme/eng/platform (repeat for each).
    /// Each team gets its own token key, so an item's team is the one the server checked
    /// at issuance; members of units not listed answer as the round's scope.
    #[arg(long = "team")]
    pub teams: Vec<String>,
    /// The free-text question.
    #[arg(long)]
    pub question: String,
    /// Also ask for a rating: eNPS (0–10) or Likert (1–5).
    #[arg(long, value_enum)]
    pub rating: Option<Rating>,
    /// The rating question's prompt (a sensible default for each scale).
    #[arg(long)]
    pub rating_prompt: Option<String>,
    /// The last day feedback is accepted, YYYY-MM-DD.
    #[arg(long)]
    pub closes: String,
    /// The anonymity threshold k (at least 3).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: u32,
    /// Tokens each employee may obtain.
    #[arg(long, default_value_t = 1)]
    pub tokens_per_person: u32,
    /// The upper bound, in minutes, of the widget's random delay before sending.
    #[arg(long, default_value_t = 30)]
    pub send_delay_minutes: u32,
    /// The most characters a text answer may hold.
    #[arg(long, default_value_t = 2_000)]
    pub max_chars: u32,
    /// An organisation ID pattern the widget flags, e.g. 'EMP-[0-9]{6}' (repeat for each).
    #[arg(long = "id-pattern")]
    pub id_patterns: Vec<String>,
    /// Days after the close that browsers keep the round's author key and receipt.
    #[arg(long, default_value_t = 30)]
    pub keep_on_device_days: u32,
}

/// A rating scale, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Rating {
    /// eNPS, 0–10.
    Enps,
    /// Likert, 1–5.
    Likert,
}

#[derive(Debug, Subcommand)]
enum LeaderCommand {
    /// Add a leader and print their one-time sign-in link (valid 14 days).
    Add {
        /// The leader's name, as the digest greets them.
        #[arg(long)]
        name: String,
        /// The scope they lead, e.g. acme/eng.
        #[arg(long)]
        scope: String,
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
        #[arg(long, required = true)]
        scope: Vec<String>,
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

async fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Init { public_url } => init(&cli.config, &public_url),
        Command::Serve { listen, database } => {
            let mut config = Config::load(&cli.config)?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            if let Some(database) = database {
                config.database = database;
            }
            serve(config).await
        }
        Command::Round(command) => {
            let config = Config::load(&cli.config)?;
            let store = store::open(&config.database).await?;
            match command {
                RoundCommand::Open(open) => {
                    println!("{}", open_round(&config, store.as_ref(), open).await?);
                    Ok(())
                }
                RoundCommand::Close { id } => close_round(store.as_ref(), &id).await,
                RoundCommand::List => list_rounds(store.as_ref()).await,
            }
        }
        Command::Leader(LeaderCommand::Add { name, scope }) => {
            let config = Config::load(&cli.config)?;
            let store = store::open(&config.database).await?;
            println!("{}", add_leader(&config, store.as_ref(), &name, &scope).await?);
            Ok(())
        }
        Command::DemoIntranet { listen, key } => {
            let config = Config::load(&cli.config)?;
            let keys = ServerKeys::load(&config.keys_dir)?;
            let intranet = crate::demo_intranet::DemoIntranet {
                key: IntranetKey::load(&key)?,
                candor_url: config.origin(),
                organisation_key: keys.organisation.public_key().to_base64(),
                audience: config.audience.clone(),
            };
            let listener = tokio::net::TcpListener::bind(listen).await?;
            println!("demo intranet on http://{}", listener.local_addr()?);
            axum::serve(listener, crate::demo_intranet::router(intranet))
                .with_graceful_shutdown(shutdown_signal())
                .await?;
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
            let scopes = scope.iter().map(|s| Scope::parse(s)).collect::<Result<Vec<_>, _>>()?;
            println!("{}", IntranetKey::load(&key)?.mint(&subject, &scopes, &audience, ttl));
            Ok(())
        }
    }
}

fn init(config_path: &Path, public_url: &str) -> CliResult {
    if config_path.exists() {
        return Err(format!("{} already exists; refusing to overwrite it", config_path.display()).into());
    }
    let base = config_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(base)?;
    let text = config::example(public_url);
    let config: Config = toml::from_str(&text)?;
    let keys = ServerKeys::create(&base.join(&config.keys_dir))?;
    std::fs::write(config_path, text)?;
    println!("wrote {} and the keys in {}", config_path.display(), base.join(&config.keys_dir).display());
    println!(
        "organisation public key (pin it in the widget's embed tag): {}",
        keys.organisation.public_key().to_base64()
    );
    println!(
        "next: put the intranet's JWKS in {}, then `candor round open` and `candor serve`",
        base.join(&config.jwks).display()
    );
    Ok(())
}

/// Serves until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> CliResult {
    tracing_subscriber::fmt()
        .without_time() // exact times are never recorded, logs included
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let store = store::open(&config.database).await?;
    let keys = ServerKeys::load(&config.keys_dir)?;
    let verifier = AssertionVerifier::from_jwks_file(
        &config.jwks,
        &config.audience,
        config.assertion_leeway_seconds,
        config.assertion_max_lifetime_seconds,
    )?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!("listening on {}", listener.local_addr()?);
    let release_store = store.clone();
    tokio::spawn(async move {
        loop {
            if let Err(error) = release_due_rounds(release_store.as_ref()).await {
                tracing::error!("releasing rounds: {error}");
            }
            tokio::time::sleep(std::time::Duration::from_secs(3_600)).await;
        }
    });
    let state = AppState::new(config, store, keys, verifier);
    app::launch(state, listener, shutdown_signal()).await?;
    tracing::info!("shut down");
    Ok(())
}

/// Releases every round whose last day has passed.
pub async fn release_due_rounds(store: &dyn Store) -> Result<(), store::StoreError> {
    let today = crate::today();
    for round in store.rounds().await? {
        if !round.released
            && round.manifest.manifest.closes < today
            && store.release_round(round.id()).await?
        {
            tracing::info!("round {} released", round.id());
        }
    }
    Ok(())
}

async fn shutdown_signal() {
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

/// Opens a round and returns its id.
pub async fn open_round(
    config: &Config,
    store: &dyn Store,
    open: OpenRound,
) -> Result<RoundId, Box<dyn std::error::Error>> {
    let keys = ServerKeys::load(&config.keys_dir)?;
    let scope = Scope::parse(&open.scope)?;
    let closes = Day::parse(&open.closes)?;
    let today = crate::today();
    if open.threshold < MIN_THRESHOLD {
        return Err(format!("the threshold must be at least {MIN_THRESHOLD}").into());
    }
    let mut questions = Vec::new();
    if let Some(rating) = open.rating {
        let (scale, prompt) = match rating {
            Rating::Enps => {
                (RatingScale::Enps, "How likely are you to recommend this team as a place to work? (0–10)")
            }
            Rating::Likert => (
                RatingScale::Likert,
                "I feel heard by my leadership. (1 strongly disagree – 5 strongly agree)",
            ),
        };
        questions.push(Question {
            id: QuestionId::parse("rating")?,
            prompt: open.rating_prompt.unwrap_or_else(|| prompt.to_owned()),
            kind: QuestionKind::Rating { scale },
        });
    }
    questions.push(Question {
        id: QuestionId::parse("text")?,
        prompt: open.question,
        kind: QuestionKind::Text { max_chars: open.max_chars },
    });

    // The teams: the round's own scope, and every team named below it, in scope order.
    let mut team_scopes = vec![scope.clone()];
    for team in &open.teams {
        let team = Scope::parse(team)?;
        if !scope.contains(&team) {
            return Err(format!("team {team} is not within the round's scope {scope}").into());
        }
        team_scopes.push(team);
    }
    team_scopes.sort();
    team_scopes.dedup();
    candor_protocol::scrub::Detector::<regex_lite::Regex>::new(&open.id_patterns)?;

    // A token request names its key by one byte; keep that byte unique among live keys.
    let mut taken: Vec<u8> = store
        .rounds()
        .await?
        .iter()
        .filter(|round| !round.released)
        .flat_map(|round| round.manifest.manifest.teams.iter().map(|team| team.token_key_id.truncated()))
        .collect();
    if taken.len() + team_scopes.len() > 255 {
        return Err("too many live token keys: release a round, or open this one with fewer teams".into());
    }
    let mut rng = rand::rng();
    let mut teams = Vec::new();
    let mut issuers = Vec::new();
    for team in team_scopes {
        let issuer = loop {
            let key = IssuerKey::generate(&mut rng)?;
            if !taken.contains(&key.token_key().id().truncated()) {
                break key;
            }
        };
        taken.push(issuer.token_key().id().truncated());
        teams.push(Team { scope: team, token_key_id: issuer.token_key().id() });
        issuers.push(issuer);
    }
    let after_close = closes.next().ok_or("the closing day is too far ahead")?;
    let manifest = RoundManifest {
        round: RoundId::generate(&mut rng),
        scope,
        teams,
        questions,
        opens: today,
        closes,
        time_zone: "UTC".into(),
        opens_at: today.utc_midnight(),
        closes_at: after_close.utc_midnight(),
        threshold: open.threshold,
        tokens_per_person: open.tokens_per_person,
        release: Release::AtClose,
        send_delay_minutes: open.send_delay_minutes,
        issuer_name: config.issuer_name(),
        origin: config.issuer_name(),
        receipt_key: keys.receipt.public_key(),
        id_patterns: open.id_patterns,
        keep_on_device_days: open.keep_on_device_days,
    };
    let signed = manifest.sign(&keys.organisation)?;
    let id = signed.manifest.round;
    store
        .create_round(&RoundRecord {
            manifest: signed,
            token_keys_pem: issuers.iter().map(IssuerKey::to_pem).collect::<Result<_, _>>()?,
            released: false,
        })
        .await?;
    Ok(id)
}

async fn close_round(store: &dyn Store, id: &str) -> CliResult {
    let id = RoundId::parse(id)?;
    if store.round(id).await?.is_none() {
        return Err(format!("there is no round {id}").into());
    }
    if store.release_round(id).await? {
        let counts = store.counts(id).await?;
        println!(
            "round {id} closed and released: {} items from {} tokens",
            counts.items, counts.tokens_issued
        );
    } else {
        // Finish what an interrupted release may have left: the files keep no order.
        store.erase_arrival_order().await?;
        println!("round {id} was already released");
    }
    Ok(())
}

async fn list_rounds(store: &dyn Store) -> CliResult {
    let today = crate::today();
    println!(
        "{:<32}  {:<24}  {:<10}  {:<10}  {:<9}  {:>6}  {:>5}",
        "ROUND", "SCOPE", "OPENS", "CLOSES", "STATE", "TOKENS", "ITEMS"
    );
    for round in store.rounds().await? {
        let m = &round.manifest.manifest;
        let state = if round.released {
            "released"
        } else if today > m.closes {
            "closing"
        } else {
            "open"
        };
        let counts = store.counts(m.round).await?;
        println!(
            "{:<32}  {:<24}  {:<10}  {:<10}  {:<9}  {:>6}  {:>5}",
            m.round.to_string(),
            m.scope.to_string(),
            m.opens.to_string(),
            m.closes.to_string(),
            state,
            counts.tokens_issued,
            counts.items
        );
    }
    Ok(())
}

/// Adds a leader and returns their one-time sign-in link.
pub async fn add_leader(
    config: &Config,
    store: &dyn Store,
    name: &str,
    scope: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let scope = Scope::parse(scope)?;
    let mut rng = rand::rng();
    let mut id = [0u8; 8];
    rand::Rng::fill_bytes(&mut rng, &mut id);
    let mut secret = [0u8; 32];
    rand::Rng::fill_bytes(&mut rng, &mut secret);
    let secret = candor_protocol::b64::encode(secret).trim_end_matches('=').to_owned();
    let leader = Leader { id: id.iter().map(|b| format!("{b:02x}")).collect(), name: name.to_owned(), scope };
    let expires = crate::days_from_today(14);
    store.add_leader(&leader, &app::secret_hash(&secret), crate::today(), expires).await?;
    Ok(format!("{}/digest/#signin={secret}", config.origin()))
}
