//! The existing names closest to a missing one, offered with a refusal.

/// Up to `limit` names from `candidates` closest to `wanted`, best first: same name in another
/// case or scope first, then by edit distance (names too far away are not offered).
pub(crate) fn closest<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Vec<String> {
    let wanted_lower = wanted.to_lowercase();
    let wanted_short = wanted_lower
        .rsplit('.')
        .next()
        .unwrap_or(&wanted_lower)
        .to_owned();
    let mut scored: Vec<(usize, &str)> = Vec::new();
    for name in candidates {
        if scored.iter().any(|(_, n)| *n == name) {
            continue;
        }
        let lower = name.to_lowercase();
        let short = lower.rsplit('.').next().unwrap_or(&lower);
        let score = if lower == wanted_lower {
            0
        } else if short == wanted_short {
            1
        } else {
            let distance =
                levenshtein(&lower, &wanted_lower).min(levenshtein(short, &wanted_short) + 1);
            let allowed = (wanted_short.chars().count() / 3).max(2);
            if distance > allowed {
                continue;
            }
            2 + distance
        };
        scored.push((score, name));
    }
    scored.sort();
    scored
        .into_iter()
        .take(limit)
        .map(|(_, n)| n.to_owned())
        .collect()
}

/// The edit distance between two strings, in characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_scope_then_distance() {
        let names = ["A.parse", "parse_all", "Parser", "B.render", "pars"];
        assert_eq!(
            closest("parse", names, 3),
            vec!["A.parse".to_owned(), "Parser".to_owned(), "pars".to_owned()]
        );
        assert!(closest("zzzzzz", names, 3).is_empty());
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
