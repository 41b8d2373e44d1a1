//! Criterion benchmark of the policy detector: classify synthetic German prompts of about
//! 20 kB, all data invented. `classify_20kB_german_prompt`: administrative prose with a
//! paragraph of personal data, identifiers or special categories every third paragraph (the
//! target case, median < 2 ms on the build machine); `classify_20kB_dense_pii`: only the
//! personal-data paragraphs (about 250 findings, a worst case).
//! Run: `cargo bench --bench detect`.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use zonegate::policy::{Detector, PolicyDetectConfig};

const PROSE: &[&str] = &[
    "Die Verwaltung hat den Entwurf der Haushaltssatzung für das kommende Jahr vorgelegt. Der \
     Ergebnisplan sieht Erträge und Aufwendungen in nahezu gleicher Höhe vor; die Investitionen \
     konzentrieren sich auf Schulen, Kindertagesstätten und die Sanierung von Brücken. Der \
     Finanzausschuss wird den Entwurf in zwei Lesungen beraten und dem Rat eine Empfehlung geben.",
    "Bitte formuliere eine kurze Zusammenfassung der Ergebnisse der Bürgerbeteiligung zum \
     Mobilitätskonzept. Die meisten Rückmeldungen betrafen sichere Radwege, bessere Taktzeiten im \
     Busverkehr und mehr Querungshilfen vor Schulen. Einige Teilnehmende wünschten sich zudem \
     zusätzliche Abstellanlagen für Lastenräder in den Wohnquartieren.",
    "Die Dienstanweisung zur Aktenführung regelt, wie Vorgänge angelegt, bearbeitet und nach Ablauf \
     der Aufbewahrungsfristen ausgesondert werden. Elektronische Akten sind im Dokumentenmanagement \
     zu führen; Papierakten werden nur noch in begründeten Ausnahmefällen angelegt. Bitte prüfe den \
     Text auf Verständlichkeit und schlage Vereinfachungen vor.",
    "Für die Sitzung des Umweltausschusses soll eine Vorlage zur Begrünung von Dächern städtischer \
     Gebäude erstellt werden. Darin sollen Kosten, Fördermöglichkeiten und ökologische Effekte \
     gegenübergestellt werden. Die Fachämter haben zugesagt, bis Ende des Monats Daten zu liefern.",
    "Erstelle eine Gliederung für den Jahresbericht der Stadtbibliothek: Ausleihzahlen, \
     Veranstaltungen, digitale Angebote, Leseförderung in Kooperation mit den Grundschulen sowie \
     einen Ausblick auf die geplante Erweiterung der Öffnungszeiten am Samstag.",
    "Die Stadtverwaltung plant für den Sommer eine Reihe von Veranstaltungen im Stadtpark, darunter \
     ein Konzert, einen Flohmarkt und ein Sportfest für Familien. Die Koordination übernimmt das \
     Kulturamt in Zusammenarbeit mit den örtlichen Vereinen und der Volkshochschule.",
];

const PARAGRAPHS: &[&str] = &[
    "Sehr geehrte Damen und Herren, bitte fassen Sie den folgenden Vorgang für die Amtsleitung zusammen. \
     Der Bauausschuss hat in seiner Sitzung am 14.03.2025 die Änderung des Bebauungsplans Nr. 127 beraten; \
     die Auslegung erfolgt vom 2. Juni bis 4. Juli im Rathaus, Zimmer 214.",
    "Frau Henrike Albrecht, Lindenstraße 37, 99084 Erfurt, beantragt einen Bewohnerparkausweis für das \
     Fahrzeug mit dem Kennzeichen EF-AB 123. Rückfragen bitte unter +49 30 23125 456 oder per Mail an \
     henrike.albrecht@example.org.",
    "Die Erstattung von 84,00 EUR erfolgt auf das Konto IBAN DE75 5121 0800 1245 1261 99 (Kontoinhaber \
     Torben Kowalczyk). Die Steuer-ID 86 095 742 719 liegt der Personalstelle vor.",
    "Das Jugendamt prüft für das Kind (7 Jahre) eine Hilfe zur Erziehung nach § 27 SGB VIII; die Mutter \
     bezieht Bürgergeld. Aktenzeichen 51.2-2025-0815.",
    "Im Jahr 2024 bezogen in der Stadt 12.480 Personen Wohngeld; die Quote stieg um 3,2 Prozent. Die \
     Verwaltung empfiehlt, die Beratungsangebote im Bürgerbüro auszubauen und die Öffnungszeiten zu \
     verlängern.",
    "Herr Mehmet Sievers, geb. 20.08.1961, Versicherungsnummer 15 070649 C 103, ist seit März arbeitsunfähig \
     (Diagnose F32.1). Das BEM-Gespräch findet am Dienstag statt.",
    "Für die Entwicklertests nutzen wir die Testkarte 4111 1111 1111 1111 und die Muster-IBAN \
     DE89 3704 0044 0532 0130 00. Log-Auszug: login failed user=antrag4711 src=37.120.141.68.",
];

/// Prose with a personal-data paragraph every third paragraph, about 20 kB.
fn prompt() -> String {
    let mut s = String::with_capacity(21_000);
    let (mut p, mut d) = (0, 0);
    let mut k = 0;
    while s.len() < 20_000 {
        if k % 3 == 2 {
            s.push_str(PARAGRAPHS[d % PARAGRAPHS.len()]);
            d += 1;
        } else {
            s.push_str(PROSE[p % PROSE.len()]);
            p += 1;
        }
        s.push_str("\n\n");
        k += 1;
    }
    s
}

/// Only personal-data paragraphs, about 20 kB.
fn dense() -> String {
    let mut s = String::with_capacity(21_000);
    let mut i = 0;
    while s.len() < 20_000 {
        s.push_str(PARAGRAPHS[i % PARAGRAPHS.len()]);
        s.push_str("\n\n");
        i += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let detector = match Detector::new(&PolicyDetectConfig::default()) {
        Ok(d) => d,
        Err(e) => panic!("detector: {e}"),
    };
    for (name, text) in [
        ("classify_20kB_german_prompt", prompt()),
        ("classify_20kB_dense_pii", dense()),
    ] {
        // Build the lazily compiled automata before measuring.
        if let Err(e) = detector.classify(&text, None) {
            panic!("classify: {e}");
        }
        c.bench_function(name, |b| {
            b.iter(|| detector.classify(black_box(&text), None))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
