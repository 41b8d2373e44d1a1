//! Chunking that follows the document's structure.
//!
//! - Every heading starts a new chunk; each chunk begins with its heading path
//!   ("Titel › Abschnitt › Unterabschnitt") so a chunk is understandable and findable alone.
//! - Paragraphs are added whole while the chunk stays within `max_tokens` (counted with the
//!   embedding model's tokenizer, via the `count` function).
//! - A paragraph too long for one chunk is split at sentence ends, a sentence too long at
//!   word boundaries.
//! - When a section continues in a new chunk (split for size), the new chunk repeats the
//!   previous chunk's last sentences up to `overlap_tokens` (never across headings).
//!
//! Token counts of the pieces are summed, which can differ from the count of the joined text
//! by a token or two per piece; chunks therefore aim at 90 % of `max_tokens`.

use super::extract::Block;

/// A sentence (or a word-bounded piece of one) with its token count.
#[derive(Debug, Clone)]
struct Piece {
    text: String,
    tokens: usize,
    /// Starts a new paragraph.
    para_start: bool,
}

/// Abbreviations (lower case, without the dot) that do not end a sentence.
const ABBREV: &[&str] = &[
    "nr", "abs", "ca", "bzw", "vgl", "dr", "str", "tel", "usw", "ggf", "inkl", "max", "min", "mio", "mrd", "bspw", "evtl", "zzgl", "gem", "lt", "sog",
    "u", "a", "z", "b", "d", "h", "s", "o", "v", "i", "e", "ff", "prof", "hr", "fr", "rd", "ziff", "art", "bd", "anl",
];

/// Splits text into sentences: after `.`, `!`, `?` or `:` followed by whitespace and an
/// upper-case letter, digit or quote — but not after a known abbreviation ("z. B.", "Nr.")
/// or an ordinal number ("3. Mai").
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for i in 0..chars.len() {
        let (pos, c) = chars[i];
        if matches!(c, '.' | '!' | '?' | ':') && i + 2 < chars.len() && chars[i + 1].1.is_whitespace() {
            let next = chars[i + 2].1;
            let word = text[start..pos].rsplit(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
            let abbrev = c == '.' && (ABBREV.contains(&word.to_lowercase().as_str()) || (!word.is_empty() && word.chars().all(|c| c.is_ascii_digit())));
            if !abbrev && (next.is_uppercase() || next.is_ascii_digit() || matches!(next, '"' | '„' | '»' | '(' | '§')) {
                let end = pos + c.len_utf8();
                out.push(text[start..end].trim());
                start = end;
            }
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Cuts `text` into pieces of at most `max` tokens at word boundaries.
fn split_words(text: &str, max: usize, count: &dyn Fn(&str) -> usize) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_tokens = 0;
    for w in text.split_whitespace() {
        let t = count(w).max(1);
        if cur_tokens + t > max && !cur.is_empty() {
            out.push(Piece { text: std::mem::take(&mut cur), tokens: cur_tokens, para_start: false });
            cur_tokens = 0;
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
        cur_tokens += t;
    }
    if !cur.is_empty() {
        out.push(Piece { text: cur, tokens: cur_tokens, para_start: false });
    }
    out
}

/// Splits blocks into chunk texts (see the module doc). `max_tokens` ≥ 16.
pub fn chunk(blocks: &[Block], max_tokens: usize, overlap_tokens: usize, count: &dyn Fn(&str) -> usize) -> Vec<String> {
    let max_tokens = max_tokens.max(16);
    let budget = max_tokens * 9 / 10;
    let mut out = Vec::new();
    let mut path: Vec<(u8, String)> = Vec::new();
    // Sections: heading path and the pieces under it.
    let mut sections: Vec<(String, Vec<Piece>)> = vec![(String::new(), Vec::new())];
    for b in blocks {
        if let Some(level) = b.heading {
            path.retain(|(l, _)| *l < level);
            path.push((level, b.text.clone()));
            let title = path.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(" › ");
            sections.push((title, Vec::new()));
            continue;
        }
        let Some((_, pieces)) = sections.last_mut() else { continue };
        let mut first = true;
        for s in sentences(&b.text) {
            let t = count(s);
            let mut ps = if t > budget / 2 { split_words(s, budget / 2, count) } else { vec![Piece { text: s.to_string(), tokens: t, para_start: false }] };
            if first {
                if let Some(p) = ps.first_mut() {
                    p.para_start = true;
                }
                first = false;
            }
            pieces.append(&mut ps);
        }
    }
    for (title, pieces) in sections {
        if pieces.is_empty() {
            // A heading without text of its own: its path lives on in the sub-sections.
            continue;
        }
        let head = if title.is_empty() { String::new() } else { format!("{title}\n\n") };
        let head_tokens = if title.is_empty() { 0 } else { count(&title) + 1 };
        let room = budget.saturating_sub(head_tokens).max(budget / 2);
        let mut cur: Vec<&Piece> = Vec::new();
        let mut cur_tokens = 0;
        let emit = |cur: &[&Piece], out: &mut Vec<String>| {
            let mut s = head.clone();
            for (i, p) in cur.iter().enumerate() {
                if i > 0 {
                    s.push_str(if p.para_start { "\n\n" } else { " " });
                }
                s.push_str(&p.text);
            }
            out.push(s);
        };
        for p in &pieces {
            if cur_tokens + p.tokens > room && !cur.is_empty() {
                emit(&cur, &mut out);
                // Overlap: the last pieces of the closed chunk, within the overlap budget.
                let mut keep = Vec::new();
                let mut kept = 0;
                for q in cur.iter().rev() {
                    if kept + q.tokens > overlap_tokens || kept + q.tokens + p.tokens > room {
                        break;
                    }
                    kept += q.tokens;
                    keep.push(*q);
                }
                keep.reverse();
                cur = keep;
                cur_tokens = kept;
            }
            cur.push(p);
            cur_tokens += p.tokens;
        }
        if !cur.is_empty() {
            emit(&cur, &mut out);
        }
    }
    // A document of headings only (a title page, a one-line text file read as a heading)
    // still says something: its headings become one chunk, within the size bound.
    if out.is_empty() {
        let mut s = String::new();
        for b in blocks.iter().filter(|b| b.heading.is_some() && !b.text.trim().is_empty()) {
            let next = if s.is_empty() { b.text.clone() } else { format!("{s}\n\n{}", b.text) };
            if count(&next) > budget {
                break;
            }
            s = next;
        }
        if !s.is_empty() {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whitespace words as tokens: simple and exact for the tests.
    fn words(s: &str) -> usize {
        s.split_whitespace().count()
    }
    fn h(l: u8, t: &str) -> Block {
        Block { heading: Some(l), text: t.into() }
    }
    fn p(t: &str) -> Block {
        Block { heading: None, text: t.into() }
    }

    #[test]
    fn splits_sentences_but_not_abbreviations() {
        assert_eq!(sentences("Das gilt z. B. für Hunde. Katzen sind frei! Warum? 3. Mai ist Stichtag."), vec![
            "Das gilt z. B. für Hunde.",
            "Katzen sind frei!",
            "Warum?",
            "3. Mai ist Stichtag."
        ]);
    }

    #[test]
    fn headings_start_chunks_and_prefix_their_path() {
        let blocks = vec![h(1, "Hundesteuer"), p("Die Steuer beträgt 90 Euro."), h(2, "Befreiung"), p("Blindenhunde sind befreit."), h(1, "Parken"), p("Ausweis beim Bürgerbüro.")];
        let c = chunk(&blocks, 100, 10, &words);
        assert_eq!(c, vec![
            "Hundesteuer\n\nDie Steuer beträgt 90 Euro.",
            "Hundesteuer › Befreiung\n\nBlindenhunde sind befreit.",
            "Parken\n\nAusweis beim Bürgerbüro."
        ]);
    }

    #[test]
    fn long_sections_are_token_bounded_with_overlap() {
        let para: String = (0..60).map(|i| format!("Satz {i} hat fünf Wörter.")).collect::<Vec<_>>().join(" ");
        let blocks = vec![h(1, "Titel"), p(&para)];
        let c = chunk(&blocks, 50, 10, &words);
        assert!(c.len() >= 7, "{} chunks", c.len());
        for x in &c {
            assert!(words(x) <= 50, "chunk over the limit: {} tokens", words(x));
            assert!(x.starts_with("Titel\n\n"));
        }
        // Overlap: the second chunk starts with the last sentences of the first.
        let first_last = c[0].rsplit(". ").next().unwrap_or_default().trim_end_matches('.');
        assert!(c[1].contains(first_last), "no overlap between\n{}\nand\n{}", c[0], c[1]);
        // Every sentence is somewhere.
        for i in 0..60 {
            assert!(c.iter().any(|x| x.contains(&format!("Satz {i} hat"))), "sentence {i} lost");
        }
    }

    #[test]
    fn giant_sentences_are_cut_at_words() {
        let s = vec!["wort"; 500].join(" ");
        let c = chunk(&[p(&s)], 64, 0, &words);
        assert!(c.iter().all(|x| words(x) <= 64));
        assert_eq!(c.iter().map(|x| words(x)).sum::<usize>(), 500, "no overlap asked, nothing lost or repeated");
    }
}
