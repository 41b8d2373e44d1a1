//! Criterion benchmark of the policy detector: classify a synthetic German prompt of about
//! 20 kB (administrative text mixed with names, identifiers, contact data and special
//! categories, all invented). Target: median < 2 ms on the build machine.
//! Run: `cargo bench --bench detect`.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use zonegate::policy::{Detector, PolicyDetectConfig};

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
    "Die Stadtverwaltung plant für den Sommer eine Reihe von Veranstaltungen im Stadtpark, darunter ein \
     Konzert, einen Flohmarkt und ein Sportfest für Familien. Die Koordination übernimmt das Kulturamt in \
     Zusammenarbeit mit den örtlichen Vereinen und der Volkshochschule.",
];

fn prompt() -> String {
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
    let text = prompt();
    // Build the lazily compiled automata before measuring.
    if let Err(e) = detector.classify(&text, None) {
        panic!("classify: {e}");
    }
    c.bench_function("classify_20kB_german_prompt", |b| b.iter(|| detector.classify(black_box(&text), None)));
}

criterion_group!(benches, bench);
criterion_main!(benches);
