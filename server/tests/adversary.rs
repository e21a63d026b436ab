//! The adversary suite. A round of 36 employees in three teams runs through the real
//! HTTP API with the timing the widget produces: each person's page loads at a random
//! time and fetches a token at once; most of them write for a while and their widget
//! sends after a random delay. Then adversaries who hold everything the operator holds —
//! every row of every table, every log line, the database files byte for byte, the
//! server's keys (so each issuance row can be tied to its person), and the roster with
//! each person's team and the exact time their page loaded (the intranet's own logs) —
//! try to link items to people by order, time, size and shared values. None may do
//! better than chance. A control adversary, given the arrival order that the server
//! never records, shows that the same reasoning does link people when that signal
//! leaks.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Employee, Table, TestApp, spawn_app};
use hmac::{KeyInit as _, Mac as _};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

const TEAMS: [(&str, usize); 3] = [("acme/eng/platform", 13), ("acme/eng/web", 12), ("acme/sales", 11)];
/// Page loads spread over four hours of the working day.
const LOAD_SPREAD_MINUTES: f64 = 240.0;
/// The widget's random send delay window in this round.
const SEND_WINDOW_MINUTES: f64 = 30.0;
/// Simulated minutes to real time: the whole day runs in about two seconds.
const MS_PER_MINUTE: f64 = 6.0;

const SENTENCES: [&str; 10] = [
    "Stand-ups run long.",
    "The release process is too slow.",
    "Pairing has helped a lot this quarter.",
    "We need clearer priorities from above.",
    "On-call is wearing people out.",
    "Reviews wait days for an approver.",
    "The roadmap changes every other week.",
    "I would like more time for learning.",
    "Meetings eat most of the afternoon.",
    "The new tooling is a real improvement.",
];

/// A person on the roster, and what they do.
#[derive(Debug, Clone)]
struct Person {
    subject: String,
    team: &'static str,
    load_minute: f64,
    /// How long they write, if they write.
    writing_minutes: Option<f64>,
    /// The widget's random delay before sending.
    delay_minutes: f64,
    text: String,
}

impl Person {
    /// The private team the host page hands this person's widget: a tag of their own
    /// below their real team (the widget does not take its team from the page, but a
    /// hostile page or embed script tries).
    fn tag(&self) -> String {
        format!("{}/tag-{}", self.team, self.subject.split('@').next().unwrap_or_default())
    }

    /// When their item reaches the server, if they write.
    fn arrival_minute(&self) -> Option<f64> {
        self.writing_minutes.map(|writing| self.load_minute + writing + self.delay_minutes)
    }
}

/// What every adversary knows besides the server's data: who is on which team, and
/// when each page loaded.
struct Roster<'a> {
    people: &'a [Person],
    server_secret: [u8; 32],
}

impl Roster<'_> {
    fn team(&self, team: &str) -> Vec<usize> {
        (0..self.people.len()).filter(|&i| self.people[i].team == team).collect()
    }

    /// The people in order of page load.
    fn by_load(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.people.len()).collect();
        order.sort_by(|&a, &b| self.people[a].load_minute.total_cmp(&self.people[b].load_minute));
        order
    }

    /// The operator holds the server secret, so it can tell whose issuance row is whose.
    fn issuance_literal(&self, person: usize) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.server_secret).expect("key");
        mac.update(b"candor/subject/v1");
        mac.update(self.people[person].subject.as_bytes());
        quote_blob(&mac.finalize().into_bytes())
    }
}

/// SQLite's literal for a blob, as `quote()` writes it.
fn quote_blob(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!("X'{hex}'")
}

/// An item as the operator's tables show it.
#[derive(Clone)]
struct ItemRow {
    /// Its author key literal: what the scoring uses to know the truth.
    author: String,
    team: String,
    values: Vec<String>,
}

fn item_rows(tables: &[Table]) -> Vec<ItemRow> {
    let items = tables.iter().find(|t| t.name == "items").expect("items table");
    let (author, scope) = (items.column("author_key"), items.column("scope"));
    items
        .rows
        .iter()
        .map(|row| ItemRow {
            author: row[author].clone(),
            team: row[scope].trim_matches('\'').to_owned(),
            values: row.clone(),
        })
        .collect()
}

/// A guess: item (by author literal) → person.
type Guess = BTreeMap<String, usize>;

/// Links the items, taken in `arrival` order, to people: each item to the person of its
/// team whose page loaded most recently before it among those not yet linked — what a
/// widget that sends soon after load would make true.
fn link_by_order(
    roster: &Roster<'_>,
    arrival: &[(String, String)],
    issued_before: &dyn Fn(usize) -> Vec<usize>,
) -> Guess {
    let mut guess = Guess::new();
    let mut taken = BTreeSet::new();
    for (position, (author, team)) in arrival.iter().enumerate() {
        let candidates: Vec<usize> = issued_before(position)
            .into_iter()
            .filter(|&p| roster.people[p].team == team && !taken.contains(&p))
            .collect();
        let pick =
            candidates.last().copied().or_else(|| roster.team(team).into_iter().find(|p| !taken.contains(p)));
        if let Some(person) = pick {
            taken.insert(person);
            guess.insert(author.clone(), person);
        }
    }
    guess
}

/// Strategy: storage order. The k-th item row of a team belongs to the k-th issuance row
/// of that team.
fn by_storage_order(roster: &Roster<'_>, tables: &[Table]) -> Guess {
    let issuance = tables.iter().find(|t| t.name == "issuance").expect("issuance table");
    let hmac = issuance.column("subject_hmac");
    let whose: BTreeMap<String, usize> =
        (0..roster.people.len()).map(|p| (roster.issuance_literal(p), p)).collect();
    let issued: Vec<usize> = issuance.rows.iter().filter_map(|row| whose.get(&row[hmac]).copied()).collect();
    assert_eq!(issued.len(), roster.people.len(), "the operator can tell whose issuance row is whose");
    let mut guess = Guess::new();
    for (team, _) in TEAMS {
        let people = issued.iter().copied().filter(|&p| roster.people[p].team == team);
        let items = item_rows(tables).into_iter().filter(|item| item.team == team);
        for (item, person) in items.zip(people) {
            guess.insert(item.author, person);
        }
    }
    guess
}

/// Strategy: log order. Token lines come in page-load order, which the intranet's logs
/// give away; item lines interleave with them. Item rows are taken to be in arrival
/// order (the best the operator can do: no row says when it came).
fn by_log_order(roster: &Roster<'_>, tables: &[Table], logs: &str) -> Guess {
    let events: Vec<bool> = logs
        .lines()
        .filter_map(|line| {
            // Whatever a line says about issuance or items (today: nothing is logged).
            if line.contains("issu") || line.contains("token") {
                Some(true)
            } else if line.contains("item") || line.contains("feedback") {
                Some(false)
            } else {
                None
            }
        })
        .collect();
    let load_order = roster.by_load();
    // For the m-th item line: who had fetched a token by then.
    let mut issued_by_item = Vec::new();
    let mut issued = 0;
    for is_token in events {
        if is_token {
            issued += 1;
        } else {
            issued_by_item.push(load_order[..issued.min(load_order.len())].to_vec());
        }
    }
    let arrival: Vec<(String, String)> = item_rows(tables).into_iter().map(|i| (i.author, i.team)).collect();
    link_by_order(roster, &arrival, &|m| issued_by_item.get(m).cloned().unwrap_or_default())
}

/// Strategy: file order. Where each item's bytes first appear in the database file and
/// its WAL is taken as its arrival order. On PostgreSQL the adversary reads the heap as
/// it is laid out: 8 KiB pages in order, and in each page rows placed from its end
/// towards its start, so a later row sits lower in its page.
fn by_file_order(roster: &Roster<'_>, tables: &[Table], files: &[u8], postgres: bool) -> Guess {
    let mut located: Vec<((usize, usize), String, String)> = item_rows(tables)
        .into_iter()
        .map(|item| {
            let hex = item.author.trim_start_matches("X'").trim_end_matches('\'');
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            let at = files.windows(bytes.len()).position(|w| w == bytes.as_slice()).unwrap_or(usize::MAX);
            let at = if postgres && at != usize::MAX { (at / 8192, 8192 - at % 8192) } else { (at, 0) };
            (at, item.author, item.team)
        })
        .collect();
    located.sort();
    let arrival: Vec<(String, String)> =
        located.into_iter().map(|(_, author, team)| (author, team)).collect();
    match_ranks(roster, &arrival)
}

/// Links the k-th item of each team, in `arrival` order, to the k-th person of that
/// team to load the page.
fn match_ranks(roster: &Roster<'_>, arrival: &[(String, String)]) -> Guess {
    let load_order = roster.by_load();
    let mut guess = Guess::new();
    for (team, _) in TEAMS {
        let people = load_order.iter().copied().filter(|&p| roster.people[p].team == team);
        let items = arrival.iter().filter(|(_, t)| t == team);
        for ((author, _), person) in items.zip(people) {
            guess.insert(author.clone(), person);
        }
    }
    guess
}

/// Strategy: sizes. Each item's row length against each person's issuance row and token
/// log line lengths, nearest first within the team.
fn by_size(roster: &Roster<'_>, tables: &[Table]) -> Guess {
    let issuance = tables.iter().find(|t| t.name == "issuance").expect("issuance table");
    let hmac = issuance.column("subject_hmac");
    let size_of: BTreeMap<String, usize> =
        issuance.rows.iter().map(|row| (row[hmac].clone(), row.iter().map(String::len).sum())).collect();
    let mut guess = Guess::new();
    let mut taken = BTreeSet::new();
    for item in item_rows(tables) {
        let size: usize = item.values.iter().map(String::len).sum();
        let pick = roster.team(&item.team).into_iter().filter(|p| !taken.contains(p)).min_by_key(|&p| {
            size_of.get(&roster.issuance_literal(p)).map_or(usize::MAX, |s| s.abs_diff(size))
        });
        if let Some(person) = pick {
            taken.insert(person);
            guess.insert(item.author, person);
        }
    }
    guess
}

/// Strategy: shared values. Any value of an item row that also appears on the issuance
/// side (its rows or token log lines) links the item to that issuance's person.
fn by_shared_values(roster: &Roster<'_>, tables: &[Table], logs: &str) -> Guess {
    let issuance = tables.iter().find(|t| t.name == "issuance").expect("issuance table");
    let hmac = issuance.column("subject_hmac");
    let mut guess = Guess::new();
    for item in item_rows(tables) {
        for value in &item.values {
            let matching: Vec<&Vec<String>> =
                issuance.rows.iter().filter(|row| row.contains(value)).collect();
            // Shared by exactly one issuance row: a link. (Shared by all: the round id.)
            if let [row] = matching.as_slice()
                && let Some(person) =
                    (0..roster.people.len()).find(|&p| roster.issuance_literal(p) == row[hmac])
            {
                guess.insert(item.author.clone(), person);
            }
            let person = (0..roster.people.len()).find(|&p| {
                let subject = &roster.people[p].subject;
                value.contains(subject.as_str())
                    || logs
                        .lines()
                        .any(|line| line.contains(subject.as_str()) && line.contains(value.as_str()))
            });
            if let Some(person) = person {
                guess.insert(item.author.clone(), person);
            }
        }
    }
    guess
}

/// Strategy: tags. The host page gave each person a team of their own; any item stored
/// with such a team names its writer.
fn by_tag(roster: &Roster<'_>, items: &[ItemRow]) -> Guess {
    let mut guess = Guess::new();
    for item in items {
        if let Some(person) = (0..roster.people.len()).find(|&p| roster.people[p].tag() == item.team) {
            guess.insert(item.author.clone(), person);
        }
    }
    guess
}

/// Strategy for a leader: the digest's order. The k-th item shown for a team belongs to
/// the k-th person of that team to load the page.
fn by_digest_order(
    roster: &Roster<'_>,
    digest: &serde_json::Value,
    truth_by_text: &BTreeMap<String, String>,
) -> Guess {
    let load_order = roster.by_load();
    let mut guess = Guess::new();
    for group in digest["rounds"][0]["groups"].as_array().expect("groups") {
        let team = group["scope"].as_str().expect("scope");
        let people: Vec<usize> =
            load_order.iter().copied().filter(|&p| roster.people[p].team == team).collect();
        for (item, &person) in group["items"].as_array().expect("items").iter().zip(&people) {
            let text = item["answers"][1]["text"].as_str().expect("text");
            guess.insert(truth_by_text[text].clone(), person);
        }
    }
    guess
}

struct Score {
    correct: usize,
    items: usize,
    chance: f64,
    sd: f64,
}

impl Score {
    fn of(guess: &Guess, truth: &BTreeMap<String, usize>, people: &[Person]) -> Self {
        let correct = truth.iter().filter(|(author, person)| guess.get(*author) == Some(person)).count();
        // A guess uniform among the item's team is right with probability 1/team size.
        let probabilities: Vec<f64> = truth
            .values()
            .map(|&p| 1.0 / people.iter().filter(|q| q.team == people[p].team).count() as f64)
            .collect();
        Self {
            correct,
            items: truth.len(),
            chance: probabilities.iter().sum(),
            sd: probabilities.iter().map(|p| p * (1.0 - p)).sum::<f64>().sqrt(),
        }
    }

    /// The margin: five standard deviations above what chance gets. Correct guesses of a
    /// chance-level adversary are close to Poisson-distributed (mean about 2.8 here), so
    /// one exceeds the bound in about 1 run in 5,000.
    fn bound(&self) -> f64 {
        self.chance + 5.0 * self.sd
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} linked (chance {:.1} ± {:.1}, bound {:.1})",
            self.correct,
            self.items,
            self.chance,
            self.sd,
            self.bound()
        )
    }
}

/// The simulated day, from a fixed seed: who loads when, who writes, when it arrives.
fn simulate(seed: u64, window_minutes: f64) -> Vec<Person> {
    assert!(window_minutes > 0.0);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut people = Vec::new();
    for (team, size) in TEAMS {
        for _ in 0..size {
            let n = people.len();
            let load_minute = rng.random_range(0.0..LOAD_SPREAD_MINUTES);
            let writes = rng.random_bool(0.85);
            let writing = rng.random_range(1.0..15.0);
            let delay = rng.random_range(0.0..window_minutes);
            let text = format!(
                "{} {} ({} of 10)",
                SENTENCES[rng.random_range(0..SENTENCES.len())],
                SENTENCES[rng.random_range(0..SENTENCES.len())],
                rng.random_range(0..=10)
            );
            people.push(Person {
                subject: format!("person-{n:02}@acme.example"),
                team,
                load_minute,
                writing_minutes: writes.then_some(writing),
                delay_minutes: delay,
                text,
            });
        }
    }
    // Texts must tell the scorer who wrote what; make duplicates distinct.
    let mut seen = BTreeSet::new();
    for (n, person) in people.iter_mut().enumerate() {
        if !seen.insert(person.text.clone()) {
            person.text = format!("{} And {n} more things.", person.text);
            seen.insert(person.text.clone());
        }
    }
    people
}

/// Runs the day through the real API, in time order.
async fn run_day(app: &TestApp, people: &[Person]) -> BTreeMap<String, usize> {
    let mut events: Vec<(f64, bool, usize)> = Vec::new();
    for (i, person) in people.iter().enumerate() {
        events.push((person.load_minute, true, i));
        if let Some(arrival) = person.arrival_minute() {
            events.push((arrival, false, i));
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let started = tokio::time::Instant::now();
    let mut employees: BTreeMap<usize, Employee> = BTreeMap::new();
    let mut truth = BTreeMap::new();
    for (minute, is_load, i) in events {
        tokio::time::sleep_until(
            started + std::time::Duration::from_secs_f64(minute * MS_PER_MINUTE / 1000.0),
        )
        .await;
        let person = &people[i];
        if is_load {
            // The page tags every person with a team of their own; the assertion (the
            // intranet's) names their real team.
            let employee = app.obtain_token(&person.subject, &[person.team], &person.tag()).await;
            employees.insert(i, employee);
        } else {
            let employee = &employees[&i];
            let submission = employee.submission(&person.text, 7);
            let response = app
                .post_feedback(&employee.authorization(), serde_json::to_vec(&submission).expect("json"))
                .await;
            assert_eq!(response.status(), 201);
            truth.insert(quote_blob(&employee.author.public_key().to_bytes()), i);
        }
    }
    truth
}

#[tokio::test]
async fn an_operator_with_every_row_log_line_and_file_links_no_better_than_chance() {
    let mut app = spawn_app().await;
    let round = app.open_round_with_teams("acme", &TEAMS.map(|(team, _)| team), 5, 1).await;
    let people = simulate(0x0C0FFEE, SEND_WINDOW_MINUTES);
    let truth = run_day(&app, &people).await;
    assert!(truth.len() >= 25, "most people wrote: {}", truth.len());

    // A copy of the files taken mid-round, for the second control below.
    let (mid_round_tables, mid_round_files) = (app.operator_tables().await, app.database_bytes().await);
    let postgres = app.config.database.is_postgres();
    // The round closes; the leader of the whole organisation reads it.
    app.release(round).await;
    let cookie = app.leader_session("Chief", "acme").await;
    let digest = app.digest(&cookie).await;
    app.stop();

    let tables = app.operator_tables().await;
    let logs = app.logs.text();
    let files = app.database_bytes().await;
    let keys = candor_server::keyfiles::ServerKeys::load(&app.config.keys_dir).expect("keys");
    let roster = Roster { people: &people, server_secret: *keys.server_secret };
    let truth_by_text: BTreeMap<String, String> = truth
        .iter()
        .map(|(author, &p)| (candor_protocol::scrub::normalise(&people[p].text), author.clone()))
        .collect();

    // The simulation is what the server stored: every team has exactly the items its
    // writers sent, and no item has any other team (so a misconfigured round, whose
    // items match none of the simulation's teams, fails here instead of passing).
    let items = item_rows(&tables);
    for (team, _) in TEAMS {
        let sent = truth.values().filter(|&&p| people[p].team == team).count();
        let stored = items.iter().filter(|item| item.team == team).count();
        assert_eq!((team, stored), (team, sent), "the server stored what the simulation sent");
        assert!(sent > 0, "{team} wrote");
    }
    assert_eq!(items.len(), truth.len());

    let strategies: [(&str, Guess); 7] = [
        ("storage order of the rows", by_storage_order(&roster, &tables)),
        ("order of the log lines", by_log_order(&roster, &tables, &logs)),
        ("order of the bytes in the database files", by_file_order(&roster, &tables, &files, postgres)),
        ("sizes of rows", by_size(&roster, &tables)),
        ("values shared between issuance and items", by_shared_values(&roster, &tables, &logs)),
        ("a leader: the digest's order", by_digest_order(&roster, &digest, &truth_by_text)),
        ("the host page's tags", by_tag(&roster, &items)),
    ];
    for (name, guess) in &strategies {
        let score = Score::of(guess, &truth, &people);
        println!("adversary, {name}: {score}");
        assert!(f64::from(u32::try_from(score.correct).expect("small")) <= score.bound(), "{name}: {score}");
    }
    assert!(strategies[4].1.is_empty(), "no value is shared between an item and an issuance");
    assert!(strategies[6].1.is_empty(), "no item carries a tag");

    // The tagging control: the same adversary on what the old server stored, the team
    // the page declared, links every item.
    let declared: Vec<ItemRow> = items
        .iter()
        .map(|item| ItemRow { team: people[truth[&item.author]].tag(), ..item.clone() })
        .collect();
    let tagged = Score::of(&by_tag(&roster, &declared), &truth, &people);
    println!("control, the team the page declared is stored: {tagged}");
    assert!(f64::from(u32::try_from(tagged.correct).expect("small")) > tagged.bound(), "{tagged}");

    // The control: told the true arrival order — which the server never records — the
    // log-order reasoning links far better than chance when the widget sends at once.
    // So the adversary has teeth, and what defeats it above is what is not recorded.
    let mut arrival: Vec<(f64, String, String)> = truth
        .iter()
        .map(|(author, &p)| {
            let person = &people[p];
            let sent_at_once = person.load_minute + person.writing_minutes.expect("wrote");
            (sent_at_once, author.clone(), person.team.to_owned())
        })
        .collect();
    arrival.sort_by(|a, b| a.0.total_cmp(&b.0));
    let loaded_before = |m: usize| -> Vec<usize> {
        roster.by_load().into_iter().filter(|&p| people[p].load_minute <= arrival[m].0).collect()
    };
    let ordered: Vec<(String, String)> = arrival.iter().map(|(_, a, t)| (a.clone(), t.clone())).collect();
    let control = Score::of(&link_by_order(&roster, &ordered, &loaded_before), &truth, &people);
    println!("control, arrival order known, sent at once: {control}");
    assert!(f64::from(u32::try_from(control.correct).expect("small")) > control.bound(), "{control}");

    // The second control: the same file-order adversary, on a copy of the files taken
    // before release, when SQLite's WAL and pages still follow arrival. That order is
    // what the release erases; if it ever stops doing so, the adversary above fails.
    let mid_round =
        Score::of(&by_file_order(&roster, &mid_round_tables, &mid_round_files, postgres), &truth, &people);
    println!("control, the files copied mid-round: {mid_round}");
    assert!(f64::from(u32::try_from(mid_round.correct).expect("small")) > mid_round.bound(), "{mid_round}");

    // On PostgreSQL, the third control: mid-round, every row's system columns (xmin,
    // cmin, ctid) still order the items as they arrived. That is what the release's
    // rewrite erases; the storage-order adversary above reads the same columns after it.
    if postgres {
        let columns = Score::of(&by_storage_order(&roster, &mid_round_tables), &truth, &people);
        println!("control, the system columns read mid-round: {columns}");
        assert!(f64::from(u32::try_from(columns.correct).expect("small")) > columns.bound(), "{columns}");
    }
}

#[tokio::test]
async fn nothing_recorded_at_issuance_appears_with_the_items() {
    let mut app = spawn_app().await;
    let round = app.open_round_with_teams("acme", &TEAMS.map(|(team, _)| team), 5, 1).await;
    let people = simulate(7, SEND_WINDOW_MINUTES);
    let truth = run_day(&app, &people).await;
    app.release(round).await;
    app.stop();
    let tables = app.operator_tables().await;
    let logs = app.logs.text();
    let table = |name: &str| tables.iter().find(|t| t.name == name).expect("table");

    // The issuance side: its rows and its log lines.
    let issuance = table("issuance");
    let issued_values: BTreeSet<&String> = issuance.rows.iter().flatten().collect();
    // The item side: items and spent tokens.
    let item_values: BTreeSet<&String> =
        table("items").rows.iter().chain(&table("spent_tokens").rows).flatten().collect();
    // What tells one issuance row from another (its person's keyed hash) appears nowhere
    // on the item side; what the rows share is the same for everyone (the round, and a
    // count of one token), so it tells nothing.
    let varying: Vec<usize> = (0..issuance.columns.len())
        .filter(|&c| issuance.rows.iter().map(|row| &row[c]).collect::<BTreeSet<_>>().len() > 1)
        .collect();
    assert_eq!(varying, [issuance.column("subject_hmac")]);
    for row in &issuance.rows {
        for &c in &varying {
            assert!(!item_values.contains(&row[c]), "{} is on both sides", row[c]);
            assert!(!logs.contains(row[c].trim_start_matches("X'").trim_end_matches('\'')));
        }
    }
    let constant: BTreeSet<&String> = issued_values
        .iter()
        .copied()
        .filter(|v| !varying.iter().any(|&c| issuance.rows.iter().any(|r| &r[c] == *v)))
        .collect();
    assert_eq!(constant, BTreeSet::from([&format!("'{round}'"), &"1".to_owned()]));
    // Every issuance row is the same size: there is no per-person size to match.
    let sizes: BTreeSet<usize> = issuance.rows.iter().map(|row| row.iter().map(String::len).sum()).collect();
    assert_eq!(sizes.len(), 1, "issuance rows differ in size: {sizes:?}");
    assert_eq!(issuance.rows.len(), people.len());
    // And the logs hold nothing from either path: no line to count, order or time (the
    // server's own start and stop lines are all there is).
    let lines: Vec<&str> =
        logs.lines().filter(|l| !l.contains("listening on") && !l.contains("shut down")).collect();
    assert!(lines.is_empty(), "logged on the employee's path: {lines:#?}");
    assert_eq!(table("items").rows.len(), truth.len());
    for person in &people {
        assert!(!logs.contains(&person.subject), "the logs name {}", person.subject);
    }
}

/// Roll-ups with teams below k. A parent team of four and eight one-person teams below
/// it, all below k = 5, roll up into one group of twelve; a team of six stands alone. Everyone
/// writes. The leader of the parent holds the roster (who is in which team, and when
/// each page loaded) and the digest, and reads the group as the old digest laid it
/// out: the parent's own items first, then each small team as a block, alphabetically.
/// Linking must be no better than a uniform guess among the group's people. The
/// control gives the same leader the old layout — each position's team, which the
/// product must hide — and it links every singleton.
#[tokio::test]
async fn a_leader_reading_rolled_up_small_teams_links_no_better_than_chance() {
    const PARENT: &str = "acme/eng";
    const SINGLETONS: [&str; 8] = [
        "acme/eng/a",
        "acme/eng/b",
        "acme/eng/c",
        "acme/eng/d",
        "acme/eng/e",
        "acme/eng/f",
        "acme/eng/g",
        "acme/eng/h",
    ];
    const BIG: &str = "acme/eng/big";
    let mut app = spawn_app().await;
    let teams: Vec<&str> = SINGLETONS.iter().copied().chain([BIG]).collect();
    let round = app.open_round_with_teams(PARENT, &teams, 5, 1).await;
    let mut rng = StdRng::seed_from_u64(0x5EED);
    let mut roster: Vec<(String, &str, f64)> = Vec::new(); // subject, team, page load
    for (team, size) in [(PARENT, 4), (BIG, 6)].into_iter().chain(SINGLETONS.iter().map(|t| (*t, 1))) {
        for _ in 0..size {
            let n = roster.len();
            roster.push((format!("person-{n:02}@acme.example"), team, rng.random_range(0.0..240.0)));
        }
    }
    // Everyone writes, in page-load order.
    let mut order: Vec<usize> = (0..roster.len()).collect();
    order.sort_by(|&a, &b| roster[a].2.total_cmp(&roster[b].2));
    let mut writer_of: BTreeMap<String, usize> = BTreeMap::new();
    for &p in &order {
        let (subject, team, _) = &roster[p];
        let employee = app.obtain_token(subject, &[team], team).await;
        let text = format!("Feedback number {p} about the week.");
        let body = serde_json::to_vec(&employee.submission(&text, 5)).expect("json");
        assert_eq!(app.post_feedback(&employee.authorization(), body).await.status(), 201);
        writer_of.insert(candor_protocol::scrub::normalise(&text), p);
    }
    app.release(round).await;
    let cookie = app.leader_session("Eng lead", PARENT).await;
    let digest = app.digest(&cookie).await;
    app.stop();

    // The simulation is what the server shows: one group of twelve with the small teams,
    // one of six.
    let groups = digest["rounds"][0]["groups"].as_array().expect("groups");
    let shown: Vec<(String, u64, bool)> = groups
        .iter()
        .map(|g| {
            (
                g["scope"].as_str().expect("scope").to_owned(),
                g["item_count"].as_u64().expect("count"),
                g["may_include_smaller_teams"].as_bool().expect("flag"),
            )
        })
        .collect();
    assert_eq!(shown, [(PARENT.to_owned(), 12, true), (BIG.to_owned(), 6, false)], "what the digest shows");
    let rolled_up = &groups[0];
    let texts: Vec<String> = rolled_up["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["answers"][1]["text"].as_str().expect("text").to_owned())
        .collect();

    // The leader's reading: positions in the old layout, people by page load within
    // each team.
    let layout: Vec<usize> = {
        let mut blocks: Vec<&str> = vec![PARENT];
        blocks.extend(SINGLETONS);
        blocks.iter().flat_map(|team| order.iter().copied().filter(|&p| roster[p].1 == *team)).collect()
    };
    let score = |texts: &[String]| -> usize {
        texts.iter().zip(&layout).filter(|(text, person)| writer_of[text.as_str()] == **person).count()
    };
    // A uniform guess among the group's twelve people is right with probability 1/12.
    let (n, p) = (texts.len() as f64, 1.0 / texts.len() as f64);
    let (chance, sd) = (n * p, (n * p * (1.0 - p)).sqrt());
    let bound = chance + 5.0 * sd;
    let linked = score(&texts);
    println!(
        "adversary, a leader: the rolled-up group's order: {linked} of {} linked (chance {chance:.1} ± {sd:.1}, bound {bound:.1})",
        texts.len()
    );
    assert!((linked as f64) <= bound, "{linked} > {bound}");

    // The control: the old layout (own items first, then each small team as a block in
    // alphabetical order, release order within each).
    let mut old = texts.clone();
    old.sort_by_key(|text| {
        let team = roster[writer_of[text.as_str()]].1;
        (team != PARENT, team)
    });
    let control = score(&old);
    println!("control, the old parent-first, alphabetical-blocks order: {control} of {} linked", old.len());
    assert!((control as f64) > bound, "{control} <= {bound}");
}
