//! Seed lexicons of special categories (Art. 9/10 GDPR), social data (§ 35 SGB I, § 67 SGB X)
//! and confidentiality markers, after SPEC 6.1; the city extends them with its own
//! procedure names. Folded (lower-case) terms with markers:
//! `*` at the start/end lets the match extend over letters before/after (compounds,
//! inflection; hyphenated compounds included at the end); `~` marks a weak context term
//! (reported only when no other hit of its category is in the sentence); `!` marks a marker
//! that needs no person reference (SPEC 6.1 CONFIDENTIAL).
//!
//! Must not: contain matching logic or personal data.

use super::types::Category;

/// Lexicon terms per category.
#[rustfmt::skip]
pub(crate) const TERMS: &[(Category, &[&str])] = &[
    (Category::Health, &[
        "~diagnose*", "~diagnostiziert", "~befund*", "~attest*", "~arztbrief*", "~au-bescheinigung*",
        "~arbeitsunfähigkeitsbescheinigung*", "~krankschreibung*", "~krankmeldung*", "~klinik*", "~krankenhaus*",
        "~therapie*", "~medikament*", "~medikation", "~arztbesuch*",
        "erkrankt", "*erkrankung*", "krankheit*", "*krankheit", "*krankheiten", "chronisch krank*", "depression*",
        "*depression", "*depressionen", "depressiv*", "psychose*", "schizophren*", "psychisch*", "psychiatri*",
        "spielsucht", "alkoholsucht", "drogensucht", "mediensucht", "kaufsucht", "magersucht", "suchtkrank*",
        "suchtberatung*", "suchtproblem*", "suchtmittel*", "alkoholabhängig*", "drogenabhängig*", "alkoholkrank*",
        "alkoholisiert", "alkohol getrunken", "drogen", "drogenkonsum*", "demenz*", "*demenz", "dement",
        "alzheimer*", "krebs", "krebserkrank*", "*krebs", "tumor*", "*tumor", "chemotherapie*", "diabet*", "hiv*",
        "aids", "hepatitis", "*tuberkulose", "tuberkulose", "tbc", "epilep*", "behinderung*", "*behinderung",
        "*behinderungen", "schwerbehinder*", "geistig behindert*", "körperlich behindert*", "pflegebedürftig*",
        "arbeitsunfähig*", "krankgeschrieben", "psychotherap*", "physiotherap*", "ergotherap*", "reha", "reha-*",
        "rehabilitation*", "rehaklinik*", "rehamaßnahme*", "stationär aufgenommen", "stationäre* aufnahme",
        "schwanger*", "schwangerschaft*", "fehlgeburt*", "impfung", "impfungen", "geimpft", "ungeimpft",
        "impfstatus", "impfnachweis*", "*schutzimpfung", "allergie*", "allergisch*", "*allergie", "suizid*",
        "selbstmord*", "selbstverletz*", "trauma*", "traumatisiert*", "ptbs", "posttraumatisch*", "bem", "bem-*",
        "betriebliche* eingliederungsmanagement*", "sozialpsychiatrische* dienst*", "herzinfarkt*", "schlaganfall*",
        "*infarkt", "infektion*", "*infektion", "covid*", "infiziert", "angststörung*", "essstörung*",
        "persönlichkeitsstörung*", "belastungsstörung*", "entwicklungsstörung*", "zwangsstörung*", "schlafstörung*",
        "adhs", "autis*", "burnout", "burn-out", "*syndrom", "asthma*", "bluthochdruck", "mrsa", "masern",
        "gehörlos*", "blind", "erblindet", "rollstuhl", "rollstuhlfahrer*", "pflegegrad", "pflegestufe",
    ]),
    (Category::Religion, &[
        "~religion", "~religionszugehörigkeit", "religiös*", "~konfession*", "kirchenaustritt*", "kirchenmitglied*",
        "kirchensteuer", "~kirchensteuermerkmal*", "kirchensteuerpflicht*", "römisch-katholisch*", "katholisch*",
        "evangelisch*", "ev.-luth.", "orthodox*", "muslim", "muslima", "muslime", "muslimin", "muslimisch*",
        "islamisch*", "islam", "jüdisch*", "jude", "jüdin", "juden", "jesidisch*", "jeside*", "buddhist*",
        "hinduist*", "hindu", "zeugen jehovas", "freikirch*", "taufe", "getauft", "kommunion", "erstkommunion",
        "konfirmation", "firmung", "judentum", "beschneidung", "muslimische* grabfeld*", "koscher", "halal", "atheist*",
        "alevit*", "christ", "christin",
    ]),
    (Category::EthnicOrigin, &[
        "ethnisch*", "ethnie*", "sinti", "roma", "sorben", "sorbisch*", "hautfarbe", "volkszugehörigkeit",
        "abstammung", "migrationshintergrund", "nationale* minderheit*", "friesische* minderheit", "jenische*",
    ]),
    (Category::PoliticalOpinion, &[
        "parteimitglied*", "parteizugehörigkeit", "parteibuch", "politische* einstellung*", "politische* gesinnung",
        "politische* überzeugung*", "politische* meinung*", "politisch aktiv", "wahlverhalten",
        "unterstützungsunterschrift*", "antifa", "antifaschistisch*", "rechtsextrem*", "linksextrem*",
        "rechtsradikal*", "linksradikal*", "reichsbürger*", "demonstrationsteilnahme",
    ]),
    (Category::UnionMembership, &[
        "gewerkschaft", "gewerkschaften", "gewerkschaftsmitglied*", "gewerkschaftlich organisiert",
        "gewerkschaftlich aktiv", "ver.di-mitglied*", "verdi-mitglied*", "gew-mitglied*", "ig-metall-mitglied*",
        "dbb-mitglied*", "komba-mitglied*", "gdp-mitglied*", "streikteilnahme", "am streik teilgenommen",
        "streikgeld", "gewerkschaftsbeitr*",
    ]),
    (Category::SexLifeOrientation, &[
        "sexuelle* orientierung", "sexuelle* identität", "homosexu*", "schwul*", "lesbisch*", "lesbe", "lesben",
        "bisexu*", "queer*", "trans", "transperson*", "trans-person*", "transfrau*", "transmann", "transmänner",
        "transgender*", "transident*", "transsexu*", "intergeschlechtlich*", "intersexu*", "nicht-binär*",
        "nichtbinär*", "non-binär*", "gleichgeschlechtlich*", "sexualleben", "geschlechtseintrag*", "sbgg",
        "selbstbestimmungsgesetz*", "geschlechtsangleich*", "geschlechtsumwandlung*", "lgbt*", "coming-out",
        "coming out", "eingetragene* lebenspartnerschaft",
    ]),
    (Category::Biometric, &[
        "fingerabdr*", "biometrisch*", "biometrie", "gesichtserkennung*", "iris-scan*", "irisscan*",
        "iriserkennung", "stimmprofil*", "handvenen*",
    ]),
    (Category::Genetic, &[
        "dna", "dna-*", "gentest*", "genetisch*", "erbkrankheit*", "abstammungsgutachten*", "vaterschaftstest*",
        "vaterschaftsgutachten*", "genanalyse*", "gendiagnostik*", "erbgut",
    ]),
    (Category::SocialData, &[
        "bürgergeld*", "arbeitslosengeld*", "alg ii", "alg 2", "alg-ii", "alg i", "alg 1", "hartz iv", "hartz 4",
        "hartz-iv*", "grundsicherung*", "grundsicherung im alter", "grundsicherung für arbeitsuchende",
        "sozialhilfe*", "hilfe zum lebensunterhalt", "hilfe zur pflege", "krankenhilfe", "eingliederungshilfe*",
        "hilfe zur überwindung besonderer sozialer schwierigkeiten", "wohngeld*", "kinderzuschlag*", "kindergeld*",
        "elterngeld*", "bafög*", "unterhaltsvorschuss*", "bildung und teilhabe", "but-leistung*", "jobcenter*",
        "agentur für arbeit", "arbeitsagentur", "jugendamt*", "hilfe zur erziehung", "hilfen zur erziehung",
        "inobhutnahme*", "in obhut genommen", "kindeswohlgefährdung*", "pflegekind*", "pflegefamilie*",
        "amtsvormund*", "vormundschaft*", "beistandschaft*", "sozialamt*", "leistungsbescheid*",
        "bewilligungsbescheid*", "bedarfsgemeinschaft*", "kosten der unterkunft", "kdu", "leistungsminderung*",
        "kooperationsplan*", "eingliederungsvereinbarung*", "asylbewerberleistung*", "asylblg", "versorgungsamt*",
        "sozialleistung*", "sozialgeld", "leistungsberechtigt*", "leistungsbezug", "transferleistung*",
        "pflegegeld*", "blindengeld*", "landesblindengeld",
    ]),
    (Category::CriminalOffence, &[
        "straftat*", "vorbestraft*", "vorstrafe*", "verurteilt*", "verurteilung*", "ermittlungsverfahren*",
        "strafanzeige*", "strafbefehl*", "haft", "haftstrafe*", "freiheitsstrafe*", "untersuchungshaft", "u-haft",
        "inhaftiert*", "jva", "justizvollzugsanstalt*", "bewährung", "bewährungsstrafe*", "bewährungshelfer*",
        "bewährungsauflage*", "beschuldigt*", "tatverdacht*", "tatverdächtig*", "jugendgerichtshilfe",
        "straffällig*", "straftäter*", "angeklagt*", "strafverfahren*", "strafakte*", "haftbefehl*", "gefängnis*",
    ]),
    (Category::Confidential, &[
        "!verschlusssache*", "!nur für den dienstgebrauch", "!streng vertraulich", "!vertraulich zu behandeln",
        "!vertraulich behandeln", "!nichtöffentliche* sitzung*", "!nicht öffentliche* sitzung*",
        "!nicht-öffentliche* sitzung*", "!nichtöffentliche* teil*", "!nicht öffentliche* teil*", "!nichtöffentlich*",
        "personalakte*", "personalangelegenheit*", "steuergeheimnis*", "sozialgeheimnis*", "gewerbesteuer*",
        "grundsteuer*", "hundesteuer*", "zweitwohnungsteuer*", "zweitwohnungssteuer*", "vergnügungsteuer*",
        "vergnügungssteuer*", "steuerakte*", "*steuerbescheid*", "steuerrückstand*", "steuerstundung*",
        "disziplinar*",
    ]),
];

/// Extended words that a wildcard term must not report (exact, or prefix when ending in `*`).
#[rustfmt::skip]
pub(crate) const EXCLUDE: &[&str] = &[
    "verkehrsbehinderung*", "baustellenbehinderung*", "infektionsschutz*", "krankheitsvertretung*", "bemüh*",
    "bemerk*", "bemess*", "bemannt*", "bemängel*", "bemittelt*", "christian*", "christoph*", "transport*",
    "transfer*", "transparen*", "transaktion*", "transkript*", "transit*", "transformation*", "juden-*",
    "klinikum*", "haftung*", "haftpflicht*", "gewerbesteuerhebesatz*", "grundsteuerhebesatz*",
    "grundsteuerreform*", "hundesteuersatzung*", "gewerbesteuersatz*", "dnaufnahme*", "romanze*", "erbgutachten*",
    "konfessionsschule*", "krebsgang*", "reha-zentrum*", "migrationshintergrundes",
];

/// Regex terms: (category, pattern, needs person reference).
#[rustfmt::skip]
pub(crate) const PATTERNS: &[(Category, &str, bool)] = &[
    (Category::Health, r"GdB[ ]?(?:von[ ])?[0-9]{2,3}", true),
    (Category::Health, r"Merkzeichen[ ]?(?:aG|TBl|Bl|Gl|RF|G|B|H)(?-u:\b)", true),
    (Category::Health, r"(?i)Pflegegrad[ ]?[1-5]", true),
    (Category::Health, r"(?i)Pflegestufe[ ]?[0-3]", true),
    (Category::Health, r"[0-9]{1,2}\.[ ]?(?:Schwangerschaftswoche|SSW)", true),
    (Category::Health, r"(?i)(?:amts|fach)?ärztliche[nsmr]?[ ](?:Gutachten|Stellungnahme|Bescheinigung)", true),
    (Category::Religion, r"(?i)(?:KiSt|Kirchensteuer(?:merkmal)?)[ :]*(?:rk|ev|ak|lt|rf|fr|is|jd|ib)(?-u:\b)", true),
    (Category::EthnicOrigin, r"Minderheit der [\p{Lu}][\p{L}]+", true),
    (
        Category::PoliticalOpinion,
        r"(?i)Mitglied (?:der|in der|bei der|im) (?:Partei|CDU|CSU|SPD|Grünen|FDP|AfD|Linken?|BSW|NPD|DKP|Piratenpartei|Freien Wähler|Volt|ÖDP)",
        true,
    ),
    (Category::PoliticalOpinion, r"(?:CDU|CSU|SPD|FDP|AfD|BSW|NPD|DKP|Grünen|Linken)-Mitglied\p{L}*", true),
    (
        Category::UnionMembership,
        r"(?i)Mitglied (?:der|bei|in der|im) (?:ver\.?di|GEW|IG Metall|komba|dbb|GdP|IG BAU|IG BCE|EVG|NGG|DGB|Marburger Bund|Gewerkschaft)",
        true,
    ),
    (Category::SocialData, r"SGB[ -]?(?:XIV|XII|XI|X|IX|VIII|VII|VI|V|IV|III|II|I)(?-u:\b)", true),
    (Category::CriminalOffence, r"(?i)Eintr(?:ag|äge|agung)[ ]im[ ](?:erweiterten[ ])?Führungszeugnis", true),
    (
        Category::CriminalOffence,
        r"(?i)wegen[ ](?:Körperverletzung|Diebstahls?|Betrugs?|Raubes|Raub|Nötigung|Bedrohung|Beleidigung|Sachbeschädigung|Hausfriedensbruchs?|Drogenbesitzes|Trunkenheit im Verkehr|Fahrens ohne Fahrerlaubnis|Urkundenfälschung|Unterschlagung|Erpressung|Totschlags?|Mordes|Vergewaltigung|sexuellen Missbrauchs|Volksverhetzung|Steuerhinterziehung)",
        true,
    ),
    (
        Category::Confidential,
        r"VS[ ]?[-–]?[ ]?(?:NUR FÜR DEN DIENSTGEBRAUCH|Nur für den Dienstgebrauch|NfD|NFD|VERTRAULICH|Vertraulich|GEHEIM|Geheim|STRENG GEHEIM)",
        false,
    ),
];
