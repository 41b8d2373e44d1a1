//! Reciprocal rank fusion (Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion outperforms
//! Condorcet and individual Rank Learning Methods", SIGIR 2009):
//! `RRF(d) = Σ_lists 1 / (k + rank_list(d))`, ranks from 1, k = 60; and its weighted form
//! `Σ_lists w_list / (k + rank_list(d))` (as in Elasticsearch's and Vespa's weighted RRF),
//! which lets a weak list — e.g. vectors of a generative model used as embedder — break ties
//! without outvoting a strong one.

use std::collections::HashMap;
use std::hash::Hash;

/// The paper's constant.
pub const K: f32 = 60.0;

/// Fuses ranked lists (best first), each with its weight (≥ 0; 1 for every list is the
/// paper's plain RRF), into one, best first, with each item's score. The best possible
/// score is `Σ w / (k + 1)`. Ties keep the order of first appearance (earlier list, better
/// rank).
pub fn rrf<T: Clone + Eq + Hash>(lists: &[(&[T], f32)], k: f32) -> Vec<(T, f32)> {
    let mut score: HashMap<T, (f32, usize)> = HashMap::new();
    let mut seen = 0usize;
    for (list, w) in lists {
        for (rank, item) in list.iter().enumerate() {
            let e = score.entry(item.clone()).or_insert_with(|| {
                seen += 1;
                (0.0, seen)
            });
            e.0 += w / (k + rank as f32 + 1.0);
        }
    }
    let mut out: Vec<(T, f32, usize)> = score.into_iter().map(|(t, (s, o))| (t, s, o)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    out.into_iter().map(|(t, s, _)| (t, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_in_both_lists_win_and_scores_match_the_formula() {
        let a = ["x", "y", "z"];
        let b = ["y", "w"];
        let f = rrf(&[(&a[..], 1.0), (&b[..], 1.0)], K);
        assert_eq!(f[0].0, "y");
        assert!((f[0].1 - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-7);
        assert_eq!(f[1].0, "x");
        assert!((f[1].1 - 1.0 / 61.0).abs() < 1e-7);
        // w (rank 2 in b) and z (rank 3 in a): w scores higher.
        let order: Vec<&str> = f.iter().map(|x| x.0).collect();
        assert_eq!(order, vec!["y", "x", "w", "z"]);
    }

    #[test]
    fn a_light_list_breaks_ties_but_does_not_outvote() {
        let lex = ["a", "b", "c"];
        let vec = ["c", "b", "a"];
        // Equal weights: b (2nd in both) ties with a and c; light vectors keep lexical order.
        let f = rrf(&[(&lex[..], 1.0), (&vec[..], 0.2)], K);
        assert_eq!(f.iter().map(|x| x.0).collect::<Vec<_>>(), vec!["a", "b", "c"]);
        assert!((f[0].1 - (1.0 / 61.0 + 0.2 / 63.0)).abs() < 1e-7);
        // Zero weight: the list only adds its items after the others, with score 0.
        let f = rrf(&[(&lex[..2], 1.0), (&vec[..], 0.0)], K);
        assert_eq!(f.iter().map(|x| x.0).collect::<Vec<_>>(), vec!["a", "b", "c"]);
        assert_eq!(f[2].1, 0.0);
    }

    #[test]
    fn one_list_keeps_its_order() {
        let f = rrf(&[(&[3, 1, 2][..], 1.0)], K);
        assert_eq!(f.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3, 1, 2]);
        assert!(rrf::<u8>(&[], K).is_empty());
    }
}
