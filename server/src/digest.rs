//! The digest a leader reads: released items of the rounds that cover their scope,
//! grouped by team, with the anonymity threshold applied.
//!
//! The rule: nothing about a group — text, ratings, counts — is shown unless it holds at
//! least k items. A team with fewer rolls up into its parent, and so on up to the
//! leader's scope; what is still below k there is withheld, silently. Each group shows only its
//! own items (never a subtotal that includes a visible child), so no leader can
//! subtract one group from another to isolate a smaller one. A group's items come in the
//! round's release order (one uniform shuffle), whichever teams they rolled up from.

//!
//! A released round never changes, so a digest once built is kept ([`DigestCache`]) and
//! served a page at a time: the page for a group's 2,000th item costs a slice, not a read
//! of the round.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use candor_protocol::api::{
    DIGEST_PAGE_ITEMS, DigestItem, Group, ItemPage, QuestionSummary, RatingDistribution, RoundDigest,
};
use candor_protocol::domain::{RoundId, Scope};
use candor_protocol::manifest::{QuestionKind, RoundManifest};
use candor_protocol::submission::AnswerValue;

use crate::store::ItemRecord;

/// The part of a round a leader of `leader_scope` reads: their scope, or the round's if
/// narrower. None if the two do not overlap.
pub fn covers(manifest: &RoundManifest, leader_scope: &Scope) -> Option<Scope> {
    if manifest.scope.contains(leader_scope) {
        Some(leader_scope.clone())
    } else if leader_scope.contains(&manifest.scope) {
        Some(manifest.scope.clone())
    } else {
        None
    }
}

/// Builds the digest of one released round for a leader of `leader_scope`, every item of
/// every group in it. Returns None if the round and the leader's scope do not overlap.
pub fn build(manifest: &RoundManifest, leader_scope: &Scope, items: Vec<ItemRecord>) -> Option<RoundDigest> {
    let covers = covers(manifest, leader_scope)?;
    let k = manifest.threshold as usize;

    // Items by their exact team scope, within what this digest covers, each with its
    // place in the round's release order.
    let mut by_scope: BTreeMap<Scope, Vec<(usize, ItemRecord)>> = BTreeMap::new();
    for (place, item) in items.into_iter().enumerate().filter(|(_, item)| covers.contains(&item.scope)) {
        if let Some(own) = by_scope.get_mut(&item.scope) {
            own.push((place, item));
            continue;
        }
        // A team met for the first time: every ancestor up to `covers` is a node of the
        // tree, even with no own items.
        let mut scope = item.scope.clone();
        while scope != covers {
            let Some(parent) = scope.parent() else { break };
            by_scope.entry(parent.clone()).or_default();
            scope = parent;
        }
        by_scope.entry(item.scope.clone()).or_default().push((place, item));
    }

    // Deepest first, so children are settled before their parents.
    let mut scopes: Vec<Scope> = by_scope.keys().cloned().collect();
    scopes.sort_by_key(|scope| std::cmp::Reverse(scope.depth()));
    let mut rolled_up: BTreeMap<Scope, Vec<(usize, ItemRecord)>> = BTreeMap::new();
    let mut groups = Vec::new();
    for scope in scopes {
        let own = by_scope.remove(&scope).unwrap_or_default();
        let from_below = rolled_up.remove(&scope).unwrap_or_default();
        // From the manifest, not from what rolled up: whether a small team below wrote
        // is exactly what the digest must not say.
        let may_include_smaller_teams =
            manifest.teams.iter().any(|team| team.scope != scope && scope.contains(&team.scope));
        let mut pool = own;
        pool.extend(from_below);
        if pool.is_empty() {
            continue;
        }
        if pool.len() >= k {
            groups.push(group(manifest, scope, may_include_smaller_teams, pool));
        } else if scope == covers {
            // Below k even at the top: withheld, and the digest does not say so (for a
            // leader of a tiny team that would tell whether anyone wrote).
        } else if let Some(parent) = scope.parent() {
            rolled_up.entry(parent).or_default().extend(pool);
        }
    }
    groups.sort_by(|a, b| a.scope.cmp(&b.scope));

    Some(RoundDigest {
        round: manifest.round,
        scope: manifest.scope.clone(),
        covers,
        questions: manifest
            .questions
            .iter()
            .map(|q| QuestionSummary { id: q.id.clone(), prompt: q.prompt.clone(), kind: q.kind.clone() })
            .collect(),
        opens: manifest.opens,
        closes: manifest.closes,
        threshold: manifest.threshold,
        groups,
    })
}

fn group(
    manifest: &RoundManifest,
    scope: Scope,
    may_include_smaller_teams: bool,
    mut pool: Vec<(usize, ItemRecord)>,
) -> Group {
    // One uniform order for the whole group: the round's release order, drawn once at
    // release. Never the group's own items first and each rolled-up team as a block,
    // which would place a one-person team's item at the same spot every time.
    pool.sort_by_key(|(place, _)| *place);
    let pool: Vec<ItemRecord> = pool.into_iter().map(|(_, item)| item).collect();
    let ratings = manifest
        .questions
        .iter()
        .filter_map(|question| match question.kind {
            QuestionKind::Rating { scale } => {
                let range = scale.range();
                let mut counts = vec![0u32; usize::from(range.end() - range.start()) + 1];
                for item in &pool {
                    for answer in item.answers.iter().filter(|a| a.question == question.id) {
                        if let AnswerValue::Rating(value) = answer.value
                            && range.contains(&value)
                        {
                            counts[usize::from(value - range.start())] += 1;
                        }
                    }
                }
                Some(RatingDistribution { question: question.id.clone(), min: *range.start(), counts })
            }
            QuestionKind::Text { .. } => None,
        })
        .collect();
    Group {
        scope,
        may_include_smaller_teams,
        item_count: pool.len(),
        items: pool.into_iter().map(|item| DigestItem { answers: item.answers }).collect(),
        ratings,
    }
}

/// The digest as its first answer carries it: each group with its first
/// [`DIGEST_PAGE_ITEMS`] items.
pub fn first_page(digest: &RoundDigest) -> RoundDigest {
    RoundDigest {
        round: digest.round,
        scope: digest.scope.clone(),
        covers: digest.covers.clone(),
        questions: digest.questions.clone(),
        opens: digest.opens,
        closes: digest.closes,
        threshold: digest.threshold,
        groups: digest
            .groups
            .iter()
            .map(|group| Group {
                scope: group.scope.clone(),
                may_include_smaller_teams: group.may_include_smaller_teams,
                item_count: group.item_count,
                items: group.items.iter().take(DIGEST_PAGE_ITEMS).cloned().collect(),
                ratings: group.ratings.clone(),
            })
            .collect(),
    }
}

/// Up to [`DIGEST_PAGE_ITEMS`] items of a visible group from its `from`-th on (none past
/// its end). None if no visible group has that scope: a group below the threshold is
/// answered exactly as one that does not exist.
pub fn page(digest: &RoundDigest, group: &Scope, from: usize) -> Option<ItemPage> {
    let shown = digest.groups.iter().find(|shown| &shown.scope == group)?;
    Some(ItemPage {
        group: group.clone(),
        from,
        item_count: shown.item_count,
        items: shown.items.iter().skip(from).take(DIGEST_PAGE_ITEMS).cloned().collect(),
    })
}

/// Built digests, by round and covered scope, the most recently used first, holding at
/// most [`DigestCache::ITEMS`] items in all (and always the newest one).
#[derive(Debug, Default)]
pub struct DigestCache {
    entries: Mutex<VecDeque<(RoundId, Scope, Arc<RoundDigest>)>>,
}

impl DigestCache {
    /// How many items the cache holds at most, over every digest in it.
    pub const ITEMS: usize = 200_000;

    /// The digest of `round` covering `covers`, if built.
    pub fn get(&self, round: RoundId, covers: &Scope) -> Option<Arc<RoundDigest>> {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = entries.iter().position(|(id, scope, _)| *id == round && scope == covers)?;
        let entry = entries.remove(at)?;
        let digest = entry.2.clone();
        entries.push_front(entry);
        Some(digest)
    }

    /// Keeps a digest just built, dropping the least recently used beyond the bound.
    pub fn put(&self, digest: Arc<RoundDigest>) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|(id, scope, _)| !(*id == digest.round && *scope == digest.covers));
        entries.push_front((digest.round, digest.covers.clone(), digest));
        let size = |digest: &RoundDigest| digest.groups.iter().map(|group| group.items.len()).sum::<usize>();
        while entries.len() > 1
            && entries.iter().map(|(_, _, digest)| size(digest)).sum::<usize>() > Self::ITEMS
        {
            entries.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_protocol::domain::{Day, QuestionId, RoundId};
    use candor_protocol::keys::ReceiptKey;
    use candor_protocol::manifest::{Question, RatingScale, Release, Team};
    use candor_protocol::submission::Answer;
    use candor_protocol::token::TokenKeyId;

    fn manifest(scope: &str, threshold: u32) -> RoundManifest {
        RoundManifest {
            round: RoundId::parse("00000000000000000000000000000001").unwrap(),
            scope: Scope::parse(scope).unwrap(),
            questions: vec![Question {
                id: QuestionId::parse("enps").unwrap(),
                prompt: "p".into(),
                kind: QuestionKind::Rating { scale: RatingScale::Enps },
            }],
            opens: Day::parse("2026-11-01").unwrap(),
            closes: Day::parse("2026-11-02").unwrap(),
            time_zone: "UTC".into(),
            opens_at: Day::parse("2026-11-01").unwrap().utc_midnight(),
            closes_at: Day::parse("2026-11-03").unwrap().utc_midnight(),
            threshold,
            tokens_per_person: 1,
            release: Release::AtClose,
            send_delay_minutes: 1,
            issuer_name: "i".into(),
            origin: "o".into(),
            // The teams the tests' items come from, within the round.
            teams: ["acme", "acme/eng", "acme/eng/platform", "acme/eng/web", "acme/eng/data", "acme/sales"]
                .into_iter()
                .map(|team| Scope::parse(team).unwrap())
                .filter(|team| Scope::parse(scope).unwrap().contains(team))
                .map(|team| Team { scope: team, token_key_id: TokenKeyId([0; 32]) })
                .collect(),
            receipt_key: ReceiptKey::from_seed(&[1; 32]).public_key(),
            id_patterns: vec![],
            keep_on_device_days: 30,
        }
    }

    fn items(scope: &str, n: usize) -> Vec<ItemRecord> {
        (0..n)
            .map(|i| ItemRecord {
                scope: Scope::parse(scope).unwrap(),
                answers: vec![Answer {
                    question: QuestionId::parse("enps").unwrap(),
                    value: AnswerValue::Rating(u8::try_from(i % 11).unwrap()),
                }],
            })
            .collect()
    }

    fn shown(digest: &RoundDigest) -> Vec<(String, usize, bool)> {
        digest
            .groups
            .iter()
            .map(|g| (g.scope.to_string(), g.item_count, g.may_include_smaller_teams))
            .collect()
    }

    #[test]
    fn small_teams_roll_up_and_big_ones_stand_alone() {
        let mut all = items("acme/eng/platform", 5);
        all.extend(items("acme/eng/web", 2));
        all.extend(items("acme/eng/data", 1));
        all.extend(items("acme/eng", 2));
        let digest = build(&manifest("acme/eng", 5), &Scope::parse("acme/eng").unwrap(), all).unwrap();
        assert_eq!(shown(&digest), [("acme/eng".into(), 5, true), ("acme/eng/platform".into(), 5, false)]);
    }

    /// Whether a small team below a visible group wrote is not for the digest to say:
    /// the group's flag comes from the manifest (it has teams below it), so eng's group
    /// reads the same whether web sent nothing or one item (found by a review: the flag
    /// used to be "some item rolled up").
    #[test]
    fn whether_a_small_team_wrote_is_not_flagged() {
        let quiet = items("acme/eng", 5);
        let mut one = items("acme/eng", 5);
        one.extend(items("acme/eng/web", 1));
        let eng = Scope::parse("acme/eng").unwrap();
        let flags =
            |all| build(&manifest("acme/eng", 5), &eng, all).unwrap().groups[0].may_include_smaller_teams;
        assert_eq!(flags(quiet), flags(one));
        assert!(flags(items("acme/eng", 5)), "a group with teams below it may include their items");
        let sales =
            build(&manifest("acme", 3), &Scope::parse("acme").unwrap(), items("acme/sales", 3)).unwrap();
        assert!(!sales.groups[0].may_include_smaller_teams, "a team with none below it");
    }

    #[test]
    fn the_leftover_group_is_withheld_not_subtractable() {
        // Parent minus its visible child leaves 2 < k: those 2 are withheld, and no
        // count anywhere lets a leader work them out.
        let mut all = items("acme/eng/platform", 5);
        all.extend(items("acme/eng", 2));
        let digest = build(&manifest("acme/eng", 5), &Scope::parse("acme/eng").unwrap(), all).unwrap();
        assert_eq!(shown(&digest), [("acme/eng/platform".into(), 5, false)]);
        let json = serde_json::to_string(&digest).unwrap();
        assert!(!json.contains("\"item_count\":7"), "no subtotal of parent and child");
    }

    #[test]
    fn below_threshold_everywhere_shows_nothing() {
        let digest =
            build(&manifest("acme", 3), &Scope::parse("acme").unwrap(), items("acme/eng/web", 2)).unwrap();
        assert!(digest.groups.is_empty());
    }

    #[test]
    fn a_leader_sees_only_their_part_of_a_wider_round() {
        let mut all = items("acme/eng", 3);
        all.extend(items("acme/sales", 3));
        let digest = build(&manifest("acme", 3), &Scope::parse("acme/sales").unwrap(), all).unwrap();
        assert_eq!(digest.covers.as_str(), "acme/sales");
        assert_eq!(shown(&digest), [("acme/sales".into(), 3, false)]);
        assert!(build(&manifest("acme/eng", 3), &Scope::parse("acme/sales").unwrap(), vec![]).is_none());
    }

    #[test]
    fn ratings_are_counted_per_value() {
        let digest = build(&manifest("acme", 3), &Scope::parse("acme").unwrap(), items("acme", 12)).unwrap();
        let ratings = &digest.groups[0].ratings[0];
        assert_eq!(ratings.min, 0);
        assert_eq!(ratings.counts, [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    }

    #[test]
    fn the_pages_of_a_group_hold_each_of_its_items_once_in_its_order() {
        let mut all = items("acme/eng", 2 * DIGEST_PAGE_ITEMS + 7);
        all.extend(items("acme/eng/web", 2));
        let digest = build(&manifest("acme", 3), &Scope::parse("acme").unwrap(), all).unwrap();
        let group = Scope::parse("acme/eng").unwrap();
        let first = first_page(&digest);
        assert_eq!(first.groups[0].item_count, 2 * DIGEST_PAGE_ITEMS + 9);
        assert_eq!(first.groups[0].items.len(), DIGEST_PAGE_ITEMS);
        let mut read = first.groups[0].items.clone();
        while let Some(page) = page(&digest, &group, read.len()).filter(|page| !page.items.is_empty()) {
            assert_eq!(page.from, read.len());
            read.extend(page.items);
        }
        assert_eq!(read, digest.groups[0].items);
        assert!(page(&digest, &group, 10_000).unwrap().items.is_empty());
        // acme/eng/web has 2 < k items: it rolled up, and has no pages of its own, just
        // as a team that does not exist.
        assert_eq!(page(&digest, &Scope::parse("acme/eng/web").unwrap(), 0), None);
        assert_eq!(page(&digest, &Scope::parse("acme/none").unwrap(), 0), None);
    }

    #[test]
    fn the_cache_keeps_the_newest_digests_within_its_bound() {
        let cache = DigestCache::default();
        let round = |n: u8, count: usize| {
            let mut manifest = manifest("acme", 1);
            manifest.round = RoundId::parse(&format!("{n:032x}")).unwrap();
            Arc::new(build(&manifest, &Scope::parse("acme").unwrap(), items("acme", count)).unwrap())
        };
        let acme = Scope::parse("acme").unwrap();
        let (a, b) = (round(1, DigestCache::ITEMS / 2), round(2, DigestCache::ITEMS / 2));
        cache.put(a.clone());
        cache.put(b.clone());
        assert!(cache.get(a.round, &acme).is_some() && cache.get(b.round, &acme).is_some());
        assert!(cache.get(a.round, &Scope::parse("acme/eng").unwrap()).is_none(), "by covered scope too");
        // a was used last; a third digest pushes b out.
        cache.get(a.round, &acme);
        let c = round(3, 10);
        cache.put(c.clone());
        assert!(cache.get(b.round, &acme).is_none());
        assert!(cache.get(a.round, &acme).is_some() && cache.get(c.round, &acme).is_some());
        // One digest over the bound is still kept: it was just built.
        let big = round(4, DigestCache::ITEMS + 1);
        cache.put(big.clone());
        assert!(cache.get(big.round, &acme).is_some());
        assert!(cache.get(a.round, &acme).is_none());
    }
}
