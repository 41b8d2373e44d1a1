//! Extractor tests on tiny synthetic files made here (DOCX, ODT and PDF are built byte by
//! byte, so the tests need no fixture files and no office suite).

use std::io::Write as _;

use super::*;

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).expect("zip entry");
        w.write_all(body.as_bytes()).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// A one-page PDF with Helvetica (WinAnsi) text lines; `lines` are PDF string bodies
/// (octal escapes allowed, e.g. `\374` for ü).
pub(crate) fn pdf_of(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 12 Tf 72 760 Td 14 TL\n");
    for l in lines {
        content.push_str(&format!("({l}) Tj T*\n"));
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
    out
}

fn texts(b: &[Block]) -> Vec<(Option<u8>, &str)> {
    b.iter().map(|b| (b.heading, b.text.as_str())).collect()
}

#[test]
fn markdown_headings_paragraphs_and_lists() {
    let md = "# Hundesteuer\n\nDie Steuer\nbeträgt 90 Euro.\n\n## Befreiung\n\n- Blindenhunde\n- Rettungshunde\n\n`code` im Satz.";
    assert_eq!(texts(&extract("a.md", md.as_bytes()).expect("md")), vec![
        (Some(1), "Hundesteuer"),
        (None, "Die Steuer beträgt 90 Euro."),
        (Some(2), "Befreiung"),
        (None, "Blindenhunde"),
        (None, "Rettungshunde"),
        (None, "code im Satz.")
    ]);
}

#[test]
fn html_skips_scripts_and_keeps_structure() {
    let html = "<!DOCTYPE html><html><head><title>T</title><style>p{}</style></head><body><nav>Menü</nav><h1>Bürgerbüro</h1>\
                <p>Öffnungszeiten: <b>Mo&ndash;Fr</b> 8&nbsp;Uhr.</p><script>var geheim=1;</script><ul><li>Ausweis</li><li>Pass</li></ul>\
                <table><tr><td>Gebühr</td><td>30 €</td></tr></table></body></html>";
    let b = extract("seite.html", html.as_bytes()).expect("html");
    assert_eq!(texts(&b), vec![(Some(1), "Bürgerbüro"), (None, "Öffnungszeiten: Mo–Fr 8\u{a0}Uhr.".split_whitespace().collect::<Vec<_>>().join(" ").as_str()), (None, "Ausweis"), (None, "Pass"), (None, "Gebühr"), (None, "30 €")]);
    assert!(!b.iter().any(|x| x.text.contains("geheim") || x.text.contains("Menü")));
}

#[test]
fn plain_text_paragraphs_and_heading_lines() {
    let t = "Dienstanweisung IT\n==================\n\nPasswörter werden alle 90 Tage geändert.\nSie haben 12 Zeichen.\n\nAusnahmen\n\nKeine.";
    assert_eq!(texts(&extract("d.txt", t.as_bytes()).expect("txt")), vec![
        (Some(1), "Dienstanweisung IT"),
        (None, "Passwörter werden alle 90 Tage geändert. Sie haben 12 Zeichen."),
        (Some(2), "Ausnahmen"),
        (None, "Keine.")
    ]);
    assert!(extract("bin.txt", b"ab\x00cd").is_err());
    assert!(extract("latin1.txt", b"Stra\xdfe").expect_err("not UTF-8").contains("UTF-8"));
    assert!(extract("leer.txt", b"  \n\n ").expect_err("empty").contains("no text"));
    assert_eq!(extract("bom.txt", b"\xEF\xBB\xBFHallo Welt.").expect("bom").len(), 1);
}

#[test]
fn docx_paragraphs_headings_and_entities() {
    let doc = r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
        <w:p><w:pPr><w:pStyle w:val="berschrift1"/></w:pPr><w:r><w:t>Dienstvereinbarung Homeoffice</w:t></w:r></w:p>
        <w:p><w:r><w:t xml:space="preserve">Mobiles Arbeiten ist an </w:t></w:r><w:r><w:t>drei Tagen &amp; nach Absprache</w:t></w:r><w:r><w:tab/><w:t>möglich.</w:t></w:r></w:p>
        <w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Geltung</w:t></w:r></w:p>
        <w:tbl><w:tr><w:tc><w:p><w:r><w:t>Zelle &#228;</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
        </w:body></w:document>"#;
    let data = zip_of(&[("[Content_Types].xml", "<Types/>"), ("word/document.xml", doc)]);
    assert_eq!(detect("ohne-endung", &data), Format::Docx);
    assert_eq!(texts(&extract("dv.docx", &data).expect("docx")), vec![
        (Some(1), "Dienstvereinbarung Homeoffice"),
        (None, "Mobiles Arbeiten ist an drei Tagen & nach Absprache möglich."),
        (Some(2), "Geltung"),
        (None, "Zelle ä")
    ]);
    assert!(extract("kaputt.docx", b"PK\x03\x04nope").expect_err("broken").contains("DOCX"));
    assert!(extract("leer.docx", &zip_of(&[("other.xml", "<a/>")])).expect_err("no document.xml").contains("word/document.xml"));
}

#[test]
fn odt_headings_paragraphs_and_spaces() {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>
        <text:h text:outline-level="1">Bebauungsplan Nr. 12</text:h>
        <text:p>Die Traufhöhe<text:s/>beträgt <text:span>höchstens</text:span> 9 m.</text:p>
        <text:h text:outline-level="2">Stellplätze</text:h>
        <text:list><text:list-item><text:p>Je Wohnung ein Stellplatz.</text:p></text:list-item></text:list>
        </office:text></office:body></office:document-content>"#;
    let data = zip_of(&[("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", content)]);
    assert_eq!(detect("x", &data), Format::Odt);
    assert_eq!(texts(&extract("bplan.odt", &data).expect("odt")), vec![
        (Some(1), "Bebauungsplan Nr. 12"),
        (None, "Die Traufhöhe beträgt höchstens 9 m."),
        (Some(2), "Stellplätze"),
        (None, "Je Wohnung ein Stellplatz.")
    ]);
}

#[test]
fn pdf_text_layer() {
    let data = pdf_of(&["Merkblatt Sperrm\\374ll", "Die Abholung im B\\374rgerb\\374ro anmelden."]);
    assert_eq!(detect("merkblatt", &data), Format::Pdf);
    let b = extract("m.pdf", &data).expect("pdf");
    let all: String = b.iter().map(|x| x.text.as_str()).collect::<Vec<_>>().join(" ");
    assert!(all.contains("Sperrmüll") && all.contains("Bürgerbüro anmelden"), "{all:?}");
    assert!(extract("kaputt.pdf", b"%PDF-1.7\nnonsense").is_err());
    assert!(extract("leer.pdf", &pdf_of(&[])).expect_err("no text").contains("text layer"));
}
