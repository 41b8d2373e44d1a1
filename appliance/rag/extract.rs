//! Text extraction: PDF, DOCX, ODT, HTML, Markdown and plain text into structural blocks
//! (headings with their level, paragraphs) for the chunker.
//!
//! Formats are chosen by file extension, else by content (`%PDF-`, a ZIP with
//! `word/document.xml` or `content.xml`). Crates: `pdf-extract` (PDF text layer),
//! `zip` + `quick-xml` (DOCX: ECMA-376 WordprocessingML `word/document.xml`, headings from
//! `w:pStyle` Heading N/Überschrift N or `w:outlineLvl`; ODT: OASIS ODF 1.2 `content.xml`,
//! `text:h` with `text:outline-level`, `text:p`), `scraper` (HTML5 parsing; `h1`–`h6`,
//! block elements as paragraphs, `script`/`style`/`nav` skipped), `pulldown-cmark`
//! (CommonMark). Plain text must be UTF-8 without NUL bytes or many control characters.
//!
//! Errors are reasons for [`super::RagError::Unreadable`], never document text.

use std::io::Read as _;

use quick_xml::events::Event;

/// A structural block of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// `Some(level)` (1 = top) for a heading, `None` for a paragraph.
    pub heading: Option<u8>,
    /// The block's text, whitespace-normalised (single spaces; lines kept for `pre`).
    pub text: String,
}

/// A recognised input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PDF (text layer).
    Pdf,
    /// Office Open XML word processing.
    Docx,
    /// OpenDocument text.
    Odt,
    /// HTML.
    Html,
    /// Markdown (CommonMark).
    Markdown,
    /// UTF-8 plain text.
    Text,
}

/// The format of a file from its name, else its first bytes.
pub fn detect(source_name: &str, data: &[u8]) -> Format {
    let ext = source_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "pdf" => Format::Pdf,
        "docx" => Format::Docx,
        "odt" => Format::Odt,
        "html" | "htm" | "xhtml" => Format::Html,
        "md" | "markdown" => Format::Markdown,
        "txt" | "text" => Format::Text,
        _ if data.starts_with(b"%PDF-") => Format::Pdf,
        _ if data.starts_with(b"PK\x03\x04") => {
            if zip_has(data, "word/document.xml") {
                Format::Docx
            } else {
                Format::Odt
            }
        }
        _ if data.len() > 5 && String::from_utf8_lossy(&data[..data.len().min(512)]).trim_start().to_ascii_lowercase().starts_with("<!doctype html") => Format::Html,
        _ => Format::Text,
    }
}

fn zip_has(data: &[u8], name: &str) -> bool {
    zip::ZipArchive::new(std::io::Cursor::new(data)).is_ok_and(|mut z| z.by_name(name).is_ok())
}

/// Extracts the blocks of a document.
///
/// # Errors
/// The reason the document cannot be read (format error, encoding, no text at all).
pub fn extract(source_name: &str, data: &[u8]) -> Result<Vec<Block>, String> {
    let format = detect(source_name, data);
    // Parsers of untrusted files may panic on malformed input: that is an unreadable file,
    // not a crashed ingest.
    let out = std::panic::catch_unwind(|| match format {
        Format::Pdf => pdf(data),
        Format::Docx => docx(data),
        Format::Odt => odt(data),
        Format::Html => text(data).map(|t| html(&t)),
        Format::Markdown => text(data).map(|t| markdown(&t)),
        Format::Text => text(data).map(|t| plain(&t)),
    })
    .map_err(|_| format!("the {format:?} parser failed on this file"))??;
    if out.iter().all(|b| b.text.trim().is_empty()) {
        return Err(match format {
            Format::Pdf => "the PDF has no text layer (scanned image?)".into(),
            _ => "the document contains no text".into(),
        });
    }
    Ok(out)
}

/// UTF-8 text without a BOM; binary content is refused.
fn text(data: &[u8]) -> Result<String, String> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let s = std::str::from_utf8(data).map_err(|e| format!("not valid UTF-8 text (invalid byte at offset {})", e.valid_up_to()))?;
    let control = s.chars().filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}')).count();
    if s.contains('\0') || control * 100 > s.chars().count().max(1) {
        return Err("binary content, not text".into());
    }
    Ok(s.to_string())
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Collects blocks, dropping empty ones.
#[derive(Default)]
struct Blocks {
    out: Vec<Block>,
    buf: String,
}

impl Blocks {
    fn push(&mut self, heading: Option<u8>, text: &str) {
        let t = squash(text);
        if !t.is_empty() {
            self.out.push(Block { heading, text: t });
        }
    }
    fn flush(&mut self, heading: Option<u8>) {
        let b = std::mem::take(&mut self.buf);
        self.push(heading, &b);
    }
}

/// Plain text: paragraphs are separated by blank lines; a one-line paragraph of at most 80
/// characters that does not end in sentence punctuation is a heading (level 2), as are
/// lines underlined with `===` (level 1) or `---` (level 2).
pub fn plain(t: &str) -> Vec<Block> {
    let mut b = Blocks::default();
    let t = t.replace("\r\n", "\n");
    for para in t.split("\n\n") {
        let lines: Vec<&str> = para.lines().filter(|l| !l.trim().is_empty()).collect();
        match lines.as_slice() {
            [] => {}
            [h, u] if !u.trim().is_empty() && u.trim().chars().all(|c| c == '=') => b.push(Some(1), h),
            [h, u] if !u.trim().is_empty() && u.trim().chars().all(|c| c == '-') => b.push(Some(2), h),
            [l] if l.trim().chars().count() <= 80 && !l.trim_end().ends_with(['.', ',', ';', ':', '!', '?']) => b.push(Some(2), l),
            _ => b.push(None, para),
        }
    }
    b.out
}

/// Markdown via pulldown-cmark: headings, paragraphs, list items, code blocks, table cells.
pub fn markdown(t: &str) -> Vec<Block> {
    use pulldown_cmark::{Event as E, Options, Parser, Tag, TagEnd};
    let mut b = Blocks::default();
    let mut level = None;
    for ev in Parser::new_ext(t, Options::ENABLE_TABLES) {
        match ev {
            E::Start(Tag::Heading { level: l, .. }) => {
                b.flush(None);
                level = Some(l as u8);
            }
            E::End(TagEnd::Heading(_)) => {
                b.flush(level);
                level = None;
            }
            E::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::CodeBlock | TagEnd::TableRow | TagEnd::TableHead | TagEnd::BlockQuote(_)) => b.flush(None),
            E::Start(Tag::Item) => b.flush(None),
            E::Text(s) | E::Code(s) => b.buf.push_str(&s),
            E::SoftBreak | E::HardBreak => b.buf.push(' '),
            E::End(TagEnd::TableCell) => b.buf.push_str(" | "),
            _ => {}
        }
    }
    b.flush(None);
    b.out
}

/// HTML via scraper (html5ever): the `body` walked in document order.
pub fn html(t: &str) -> Vec<Block> {
    use scraper::{ElementRef, Html, Node};
    const SKIP: &[&str] = &["script", "style", "noscript", "nav", "template", "head", "svg"];
    const BLOCK: &[&str] = &[
        "p", "div", "li", "td", "th", "tr", "pre", "blockquote", "dt", "dd", "section", "article", "header", "footer", "main", "ul", "ol", "table",
        "br", "figcaption", "address",
    ];
    fn walk(el: ElementRef<'_>, b: &mut Blocks) {
        let name = el.value().name();
        if SKIP.contains(&name) {
            return;
        }
        if let Some(l) = name.strip_prefix('h').and_then(|d| d.parse::<u8>().ok()).filter(|l| (1..=6).contains(l)) {
            b.flush(None);
            let text: String = el.text().collect::<Vec<_>>().join(" ");
            b.push(Some(l), &text);
            return;
        }
        let block = BLOCK.contains(&name);
        if block {
            b.flush(None);
        }
        for child in el.children() {
            match child.value() {
                Node::Text(t) => b.buf.push_str(t),
                Node::Element(_) => {
                    if let Some(e) = ElementRef::wrap(child) {
                        walk(e, b);
                    }
                }
                _ => {}
            }
        }
        if block {
            b.flush(None);
        } else {
            b.buf.push(' ');
        }
    }
    let doc = Html::parse_document(t);
    let mut b = Blocks::default();
    walk(doc.root_element(), &mut b);
    b.flush(None);
    b.out
}

fn zip_entry(data: &[u8], name: &str, what: &str) -> Result<String, String> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(data)).map_err(|e| format!("not a valid {what} (ZIP container): {e}"))?;
    let f = z.by_name(name).map_err(|_| format!("not a valid {what}: {name} is missing"))?;
    let mut s = String::new();
    // Bound the inflated size (zip bombs): 64 MiB of XML is far beyond any real document.
    f.take(64 << 20).read_to_string(&mut s).map_err(|e| format!("{name} of the {what} cannot be read: {e}"))?;
    Ok(s)
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.as_ref() == name).map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

/// Heading level of a Word paragraph style id: `Heading1`, `berschrift1` (German Word's
/// id for "Überschrift 1"), `Title`.
fn word_style_level(style: &str) -> Option<u8> {
    let s = style.to_ascii_lowercase();
    if s == "title" || s == "titel" {
        return Some(1);
    }
    let digits = s.strip_prefix("heading").or_else(|| s.strip_prefix("berschrift")).or_else(|| s.strip_prefix("überschrift"))?;
    digits.trim().parse::<u8>().ok().filter(|l| (1..=9).contains(l))
}

/// DOCX: paragraphs of `word/document.xml` (tables' cells are paragraphs too).
pub fn docx(data: &[u8]) -> Result<Vec<Block>, String> {
    let xml = zip_entry(data, "word/document.xml", "DOCX")?;
    let mut r = quick_xml::Reader::from_str(&xml);
    let mut b = Blocks::default();
    let (mut level, mut in_text) = (None, false);
    loop {
        match r.read_event().map_err(|e| format!("word/document.xml is not well-formed XML: {e}"))? {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"w:pStyle" => level = attr(&e, b"w:val").and_then(|s| word_style_level(&s)).or(level),
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"w:outlineLvl" => {
                level = attr(&e, b"w:val").and_then(|v| v.parse::<u8>().ok()).map(|l| l + 1).or(level)
            }
            Event::Start(e) if e.name().as_ref() == b"w:p" => {
                b.flush(None);
                level = None;
            }
            Event::Start(e) if e.name().as_ref() == b"w:t" => in_text = true,
            Event::End(e) if e.name().as_ref() == b"w:t" => in_text = false,
            Event::Empty(e) if matches!(e.name().as_ref(), b"w:tab" | b"w:br" | b"w:cr") => b.buf.push(' '),
            Event::Text(t) if in_text => b.buf.push_str(&t.decode().map_err(|e| format!("bad text in word/document.xml: {e}"))?),
            Event::GeneralRef(g) if in_text => push_ref(&mut b.buf, &g),
            Event::End(e) if e.name().as_ref() == b"w:p" => {
                b.flush(level);
                level = None;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    b.flush(None);
    Ok(b.out)
}

/// Resolves an XML entity or character reference (`&amp;`, `&#228;`) into `buf`.
fn push_ref(buf: &mut String, g: &quick_xml::events::BytesRef<'_>) {
    if let Ok(Some(c)) = g.resolve_char_ref() {
        buf.push(c);
    } else if let Ok(name) = g.decode() {
        if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
            buf.push_str(s);
        }
    }
}

/// ODT: `text:h` (with `text:outline-level`) and `text:p` of `content.xml`.
pub fn odt(data: &[u8]) -> Result<Vec<Block>, String> {
    let xml = zip_entry(data, "content.xml", "ODT")?;
    let mut r = quick_xml::Reader::from_str(&xml);
    let mut b = Blocks::default();
    let mut depth = 0usize; // nesting of text:p/text:h (notes inside paragraphs)
    let mut level = None;
    loop {
        match r.read_event().map_err(|e| format!("content.xml is not well-formed XML: {e}"))? {
            Event::Start(e) if matches!(e.name().as_ref(), b"text:p" | b"text:h") => {
                if depth == 0 {
                    b.flush(None);
                    level = (e.name().as_ref() == b"text:h").then(|| attr(&e, b"text:outline-level").and_then(|l| l.parse::<u8>().ok()).unwrap_or(1));
                }
                depth += 1;
            }
            Event::End(e) if matches!(e.name().as_ref(), b"text:p" | b"text:h") => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    b.flush(level);
                    level = None;
                }
            }
            Event::Empty(e) if matches!(e.name().as_ref(), b"text:s" | b"text:tab" | b"text:line-break") => b.buf.push(' '),
            Event::Text(t) if depth > 0 => b.buf.push_str(&t.decode().map_err(|e| format!("bad text in content.xml: {e}"))?),
            Event::GeneralRef(g) if depth > 0 => push_ref(&mut b.buf, &g),
            Event::Eof => break,
            _ => {}
        }
    }
    b.flush(None);
    Ok(b.out)
}

/// PDF: the text layer via pdf-extract, split into paragraphs at blank lines.
pub fn pdf(data: &[u8]) -> Result<Vec<Block>, String> {
    let t = pdf_extract::extract_text_from_mem(data).map_err(|e| format!("not a readable PDF: {e}"))?;
    Ok(plain(&t))
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
