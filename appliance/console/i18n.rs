//! The console's strings: German by default, English as a switch (`?lang=en`, remembered in
//! the `zg_lang` cookie). Every visible string is a [`K`] key in the one table below, so a
//! missing translation cannot compile.

use crate::policy::{DataClass, Decision, Zone};

/// Console language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Deutsch (default).
    #[default]
    De,
    /// English.
    En,
}

impl Lang {
    /// `de` or `en` (the `lang` attribute, the cookie value and the query parameter).
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// Parses `de` / `en` (case-insensitive); anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The text of `k` in this language.
    pub fn t(self, k: K) -> &'static str {
        let (de, en) = k.texts();
        match self {
            Lang::De => de,
            Lang::En => en,
        }
    }

    /// The label of a data class (German labels from DESIGN.md).
    pub fn class(self, c: DataClass) -> &'static str {
        match self {
            Lang::De => c.label_de(),
            Lang::En => c.as_str(),
        }
    }

    /// The label of a zone.
    pub fn zone(self, z: Zone) -> &'static str {
        match (self, z) {
            (Lang::De, Zone::Green) => "grün",
            (Lang::De, Zone::Yellow) => "gelb",
            (Lang::De, Zone::Red) => "rot",
            (Lang::En, z) => z.as_str(),
        }
    }

    /// The label of a decision.
    pub fn decision(self, d: Decision) -> &'static str {
        self.t(match d {
            Decision::Allow => K::DecAllow,
            Decision::Block => K::DecBlock,
            Decision::Reroute => K::DecReroute,
            Decision::Pseudonymize => K::DecPseudonymize,
        })
    }

    /// A decision given by its wire name (ledger values); unknown names are shown as they are.
    pub fn decision_str(self, s: &str) -> String {
        match s {
            "allow" => self.decision(Decision::Allow).into(),
            "block" => self.decision(Decision::Block).into(),
            "reroute" => self.decision(Decision::Reroute).into(),
            "pseudonymize" => self.decision(Decision::Pseudonymize).into(),
            other => other.into(),
        }
    }
}

macro_rules! table {
    ($($key:ident => $de:literal, $en:literal;)*) => {
        /// A console string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum K { $($key,)* }

        impl K {
            /// Every key, in table order.
            pub const ALL: &'static [K] = &[$(K::$key,)*];

            /// (German, English).
            pub fn texts(self) -> (&'static str, &'static str) {
                match self { $(K::$key => ($de, $en),)* }
            }
        }
    };
}

table! {
    AppTitle => "zonegate Verwaltung", "zonegate administration";
    NavStatus => "Status", "Status";
    NavZones => "Zonen & Richtlinie", "Zones & policy";
    NavUsage => "Nutzung", "Usage";
    NavAudit => "Prüfprotokoll", "Audit";
    NavCerts => "Zertifikate", "Certificates";
    NavKnowledge => "Wissen", "Knowledge";
    SignedInAs => "Angemeldet als", "Signed in as";
    Language => "Sprache", "Language";
    // status
    Build => "Version", "Version";
    Revision => "Git-Revision", "Git revision";
    Features => "Funktionen", "Features";
    Uptime => "Laufzeit", "Uptime";
    Memory => "Arbeitsspeicher (RSS)", "Memory (RSS)";
    Throughput => "Durchsatz", "Throughput";
    TokensPerSecond => "Tokens/s erzeugt (letzte Minute)", "tokens/s generated (last minute)";
    ThroughputChart => "Erzeugte Tokens pro Sekunde, letzte 10 Minuten", "Generated tokens per second, last 10 minutes";
    Models => "Geladene Modelle", "Loaded models";
    Model => "Modell", "Model";
    Role => "Rolle", "Role";
    Parallel => "Parallel", "Parallel";
    ContextPerSeq => "Kontext je Sequenz", "Context per sequence";
    Queued => "Wartend", "Queued";
    Active => "Aktiv", "Active";
    PromptTokens => "Prompt-Tokens", "Prompt tokens";
    CompletionTokens => "Antwort-Tokens", "Completion tokens";
    Upstreams => "Upstreams (gelbe und rote Zone)", "Upstreams (yellow and red zones)";
    NoUpstreams => "Keine Upstreams konfiguriert: nur die grüne Zone.", "No upstreams configured: green zone only.";
    Zone => "Zone", "Zone";
    Address => "Adresse", "Address";
    Answered => "Beantwortet", "Answered";
    Failed => "Fehlgeschlagen", "Failed";
    LastOutcome => "Letzter Versuch", "Last attempt";
    Never => "noch keiner", "none yet";
    Healthy => "in Ordnung", "healthy";
    LedgerFailures => "Fehlgeschlagene Protokolleinträge seit Start", "Failed ledger appends since start";
    // zones
    Matrix => "Zonen-Matrix", "Zone matrix";
    MaxClass => "Höchste Klasse", "Maximum class";
    OnViolation => "Bei Verstoß", "On violation";
    RerouteModel => "Umleitung auf", "Reroute to";
    DefaultClass => "Standardklasse ohne Angabe", "Default class when none is declared";
    Allowed => "erlaubt", "allowed";
    Receives => "Empfängt", "Receives";
    ClassifyTitle => "Text prüfen", "Classify a text";
    ClassifyHelp => "Der Text wird nur im Arbeitsspeicher geprüft, weder gespeichert noch protokolliert, und verlässt das Gerät nicht.", "The text is checked in memory only, neither stored nor logged, and never leaves the box.";
    Text => "Text", "Text";
    DeclaredClass => "Angegebene Klasse", "Declared class";
    Check => "Prüfen", "Check";
    TestDepartment => "Abteilung (SGB-Stellen: Sozialdaten)", "Department (SGB bodies: social data)";
    DetectedClass => "Erkannte Klasse", "Detected class";
    EffectiveClass => "Wirksame Klasse", "Effective class";
    Findings => "Funde (Kategorie × Anzahl)", "Findings (category × count)";
    NoFindings => "keine", "none";
    DecisionPerZone => "Entscheidung je Zone", "Decision per zone";
    Decision => "Entscheidung", "Decision";
    DecAllow => "erlaubt", "allow";
    DecBlock => "blockiert", "block";
    DecReroute => "umgeleitet", "reroute";
    DecPseudonymize => "pseudonymisiert", "pseudonymize";
    ClassifyFailed => "Die Prüfung ist fehlgeschlagen; die Anfrage würde abgewiesen (fail closed).", "Classification failed; the request would be refused (fail closed).";
    Models2 => "Modelle", "Models";
    // usage
    Month => "Monat", "Month";
    Show => "Anzeigen", "Show";
    TokensPerDay => "Tokens pro Tag", "Tokens per day";
    ByDepartment => "nach Abteilung", "by department";
    ByZone => "nach Zone", "by zone";
    ByModel => "nach Modell", "by model";
    NoUsage => "Keine Anfragen in diesem Monat.", "No requests this month.";
    Totals => "Summen für die Kostenstellen", "Totals for cost-centre billing";
    Department => "Abteilung", "Department";
    Requests => "Anfragen", "Requests";
    CostEur => "Kosten (EUR)", "Cost (EUR)";
    DownloadCsv => "CSV herunterladen", "Download CSV";
    Budgets => "Budgets (laufender Monat)", "Budgets (current month)";
    NoBudgets => "Keine Budgets konfiguriert.", "No budgets configured.";
    Limit => "Grenze", "Limit";
    Fill => "Auslastung", "Fill level";
    Warning => "Warnung ab", "Warning at";
    SmallGroupsNote => "Abteilungen mit zu wenigen aktiven Personen erscheinen nur in der Gruppe „other“ (Betriebsvereinbarung).", "Departments with too few active users appear only in the group “other” (works-council rule).";
    // audit
    ChainOk => "Hash-Kette intakt", "Hash chain intact";
    ChainBroken => "Hash-Kette gebrochen bei Eintrag", "Hash chain broken at record";
    Records => "Einträge", "records";
    NoLedger => "Kein Prüfprotokoll vorhanden.", "No audit ledger.";
    From => "Von", "From";
    To => "Bis", "To";
    Any => "alle", "any";
    Search => "Suchen", "Search";
    Time => "Zeit", "Time";
    Kind => "Art", "Kind";
    User => "Person", "User";
    Classes => "Klassen (angegeben / erkannt / wirksam)", "Classes (declared / detected / effective)";
    Categories => "Kategorien", "Categories";
    Tokens => "Tokens", "Tokens";
    KindRequest => "Anfrage", "request";
    KindAdmin => "Verwaltung", "admin";
    KindKnowledge => "Wissensspeicher (API)", "knowledge store (API)";
    KindRetention => "Aufbewahrung", "retention";
    Pruned => "nach Aufbewahrungsfrist gekürzt", "pruned by retention";
    PrunedHint => "Personenbezug nach Ablauf der Aufbewahrungsfrist entfernt; die Kettenglieder bleiben prüfbar.", "Identifying fields removed after the retention period; the chain links stay checkable.";
    Action => "Aktion", "Action";
    NoRecords => "Keine passenden Einträge.", "No matching records.";
    Page => "Seite", "Page";
    Newer => "← neuer", "← newer";
    Older => "älter →", "older →";
    Matching => "passende Einträge", "matching records";
    // certificates
    IssueTitle => "Client-Zertifikat ausstellen", "Issue a client certificate";
    UserId => "Benutzerkennung", "User id";
    AdminRole => "Verwaltungsrolle (Zugang zu dieser Konsole)", "Admin role (access to this console)";
    Issue => "Ausstellen", "Issue";
    IssuingOff => "Ausstellen ist aus: Der CA-Schlüssel ist der Konsole nicht übergeben ([console] ca_key_credential, systemd LoadCredential=). Zertifikate stellt dann root mit „zonegate pki issue-client“ aus.", "Issuing is off: the CA key is not handed to the console ([console] ca_key_credential, systemd LoadCredential=). Root issues certificates with “zonegate pki issue-client” instead.";
    Issued => "Zertifikat ausgestellt", "Certificate issued";
    BundleOnce => "Das PKCS#12-Paket kann genau einmal heruntergeladen werden; danach ist es gelöscht. Das Passwort wird nur hier angezeigt.", "The PKCS#12 bundle can be downloaded exactly once; then it is gone. The password is shown only here.";
    Password => "Passwort", "Password";
    Download => "Paket herunterladen", "Download bundle";
    BundleGone => "Dieses Paket wurde bereits heruntergeladen oder ist abgelaufen.", "This bundle was already downloaded or has expired.";
    IssuedList => "Ausgestellte Zertifikate", "Issued certificates";
    Serial => "Seriennummer", "Serial";
    Status => "Status", "Status";
    ValidUntil => "Gültig bis", "Valid until";
    Revoke => "Widerrufen", "Revoke";
    Reason => "Grund", "Reason";
    Revoked => "Zertifikat widerrufen; die Sperrliste ist neu signiert und beide Listener verwenden sie.", "Certificate revoked; the CRL is re-signed and both listeners use it.";
    NoPki => "Kein CA-Verzeichnis lesbar", "No readable CA directory";
    ReasonUnspecified => "ohne Angabe", "unspecified";
    ReasonKeyCompromise => "Schlüssel kompromittiert", "key compromise";
    ReasonAffiliationChanged => "Abteilung gewechselt / ausgeschieden", "affiliation changed";
    ReasonSuperseded => "ersetzt", "superseded";
    ReasonCessation => "nicht mehr benötigt", "cessation of operation";
    ReasonPrivilegeWithdrawn => "Rechte entzogen", "privilege withdrawn";
    Valid => "gültig", "valid";
    RevokedStatus => "widerrufen", "revoked";
    Expired => "abgelaufen", "expired";
    ConfirmRevoke => "Dieses Zertifikat wirklich widerrufen?", "Really revoke this certificate?";
    Error => "Fehler", "Error";
    Back => "Zurück", "Back";
    // knowledge
    KnowledgeOff => "Der Wissensspeicher (RAG) ist nicht eingerichtet: Abschnitt [rag] in der Konfiguration (Verzeichnis und Einbettungsmodell) ergänzen und den Dienst neu starten.", "The knowledge store (RAG) is not set up: add a [rag] section (directory and embedding model) to the configuration and restart the service.";
    Collections => "Sammlungen", "Collections";
    Collection => "Sammlung", "Collection";
    NoCollections => "Noch keine Sammlungen.", "No collections yet.";
    NoSuchCollection => "Diese Sammlung gibt es nicht (mehr).", "This collection does not exist (any more).";
    EmbeddingModel => "Einbettungsmodell", "Embedding model";
    Name => "Name", "Name";
    DataClassLabel => "Datenklasse", "Data class";
    OwnerDepartment => "Eigentümer-Abteilung", "Owner department";
    ReadAccess => "Lesezugriff", "Read access";
    ReadOwner => "nur Eigentümer-Abteilung", "owner department only";
    ReadDepartments => "Abteilungen", "departments";
    ReadUsers => "Personen", "users";
    ReadEveryone => "alle", "everyone";
    ReadNames => "Abteilungen oder Personen (durch Komma getrennt)", "Departments or users (comma-separated)";
    Documents => "Dokumente", "Documents";
    Chunks => "Abschnitte", "Chunks";
    Chunk => "Abschnitt", "chunk";
    Size => "Größe", "Size";
    Created => "Angelegt", "Created";
    Updated => "Aktualisiert", "Updated";
    Delete => "Löschen", "Delete";
    ConfirmDeleteCollection => "Diese Sammlung mit allen Dokumenten wirklich löschen?", "Really delete this collection with all its documents?";
    ConfirmDeleteDocument => "Dieses Dokument wirklich löschen?", "Really delete this document?";
    NewCollection => "Neue Sammlung", "New collection";
    Create => "Anlegen", "Create";
    CollectionCreatedFlash => "Sammlung angelegt.", "Collection created.";
    CollectionDeletedFlash => "Sammlung gelöscht; Dateien, die keine andere Sammlung enthält, sind mitgelöscht.", "Collection deleted; files no other collection holds were deleted with it.";
    DocumentRemovedFlash => "Dokument gelöscht.", "Document deleted.";
    NoDocuments => "Diese Sammlung enthält noch keine Dokumente.", "This collection holds no documents yet.";
    SourceName => "Quelle", "Source";
    Upload => "Hochladen", "Upload";
    Files => "Dateien (PDF, DOCX, ODT, HTML, Markdown, Text)", "Files (PDF, DOCX, ODT, HTML, Markdown, text)";
    UploadHelp => "Jede Datei wird einzeln aufgenommen: Eine unlesbare Datei wird mit Grund gemeldet und nicht gespeichert. Eine Datei gleichen Namens ersetzt ihr Dokument; unveränderte Inhalte werden übersprungen. Die Datenklasse ist mindestens die der Sammlung.", "Each file is ingested on its own: an unreadable one is reported with its reason and not stored. A file of the same name replaces its document; unchanged content is skipped. The data class is at least the collection's.";
    NoFileChosen => "Keine Datei ausgewählt.", "No file chosen.";
    Added => "aufgenommen", "added";
    Replaced => "ersetzt", "replaced";
    Unchanged => "unverändert", "unchanged";
    InBackground => "wird im Hintergrund aufgenommen; erscheint in der Liste, sobald gespeichert", "being ingested in the background; listed once stored";
    TestSearch => "Testsuche", "Test search";
    Query => "Suchanfrage", "Query";
    SearchModeLabel => "Suchart", "Search mode";
    ModeHybrid => "hybrid (BM25 + Vektoren)", "hybrid (BM25 + vectors)";
    ModeLexical => "nur BM25", "BM25 only";
    ModeVector => "nur Vektoren", "vectors only";
    NoHits => "Keine Treffer.", "No hits.";
    // errors
    Forbidden => "Nur mit einem Verwaltungszertifikat.", "Admin certificate required.";
    CsrfFailed => "Das Formular ist abgelaufen oder kam nicht von dieser Konsole. Bitte die Seite neu laden.", "The form has expired or did not come from this console. Please reload the page.";
    NotFound => "Seite nicht gefunden.", "Page not found.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_has_both_languages_and_keys_are_distinct() {
        for k in K::ALL {
            let (de, en) = k.texts();
            assert!(!de.trim().is_empty() && !en.trim().is_empty(), "{k:?}");
        }
        assert!(K::ALL.len() > 50);
        assert_eq!(Lang::De.t(K::NavAudit), "Prüfprotokoll");
        assert_eq!(Lang::En.t(K::NavAudit), "Audit");
    }

    #[test]
    fn class_and_zone_labels_follow_design() {
        let de: Vec<_> = DataClass::ALL.iter().map(|c| Lang::De.class(*c)).collect();
        assert_eq!(de, ["öffentlich", "intern", "personenbezogen", "vertraulich", "Sozialdaten"]);
        assert_eq!(Lang::En.class(DataClass::Social), "social");
        assert_eq!(Lang::De.zone(Zone::Yellow), "gelb");
        assert_eq!(Lang::De.decision_str("pseudonymize"), "pseudonymisiert");
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
