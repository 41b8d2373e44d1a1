//! BM25 scoring (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and
//! Beyond", 2009), with the non-negative idf of Lucene:
//! `idf = ln(1 + (N − df + 0.5) / (df + 0.5))`,
//! `score = Σ w_q · idf · tf·(k1+1) / (tf + k1·(1 − b + b·len/avglen))`.

/// Term-frequency saturation.
pub const K1: f32 = 1.2;
/// Length normalisation.
pub const B: f32 = 0.75;

/// Inverse document frequency of a term in `df` of `n` chunks.
pub fn idf(df: usize, n: usize) -> f32 {
    let (df, n) = (df as f32, n as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// The BM25 contribution of one term occurring `tf` times in a chunk of `len` words, where
/// chunks average `avg_len` words.
pub fn term_score(idf: f32, tf: u32, len: u32, avg_len: f32) -> f32 {
    let tf = tf as f32;
    let norm = if avg_len > 0.0 { len as f32 / avg_len } else { 1.0 };
    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * norm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_terms_weigh_more_and_idf_stays_positive() {
        assert!(idf(1, 1000) > idf(100, 1000));
        assert!(idf(1000, 1000) > 0.0);
        // Known value: N=10, df=1 -> ln(1 + 9.5/1.5) = ln(7.333…)
        assert!((idf(1, 10) - (1.0f32 + 9.5 / 1.5).ln()).abs() < 1e-6);
    }

    #[test]
    fn frequency_saturates_and_long_chunks_are_penalised() {
        let i = idf(5, 100);
        let one = term_score(i, 1, 50, 50.0);
        let two = term_score(i, 2, 50, 50.0);
        let ten = term_score(i, 10, 50, 50.0);
        assert!(two > one && ten > two);
        assert!(ten < i * (K1 + 1.0), "bounded by idf·(k1+1)");
        assert!(term_score(i, 1, 200, 50.0) < one, "longer chunk, same tf: lower");
        // At average length and tf=1 the score is exactly idf.
        assert!((one - i).abs() < 1e-6);
    }
}
