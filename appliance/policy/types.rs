//! Policy vocabulary: data classes, zones, detector categories and findings.
//!
//! Owns: the ordered `DataClass` scale, the `Zone` ladder with each zone's default maximum
//! class (DESIGN.md), the `Category` catalogue of SPEC section 2 plus `SECRET`, and the data
//! class of each category (SPEC section 1: GREEN_ONLY categories map to a class only green
//! may receive, PERSONAL ones to `personal`).
//! Must not: hold text or detected values (a `Finding` is a span, never a copy), log anything,
//! or send anything anywhere.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Data class of a text, ordered `Public < Internal < Personal < Confidential < Social`.
///
/// Serialised in lower case (`"public"`, …, `"social"`); [`DataClass::label_de`] gives the
/// German console label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataClass {
    /// Published or publishable information (öffentlich).
    Public,
    /// Internal administrative information without personal data (intern).
    Internal,
    /// Ordinary personal data, Art. 4 Nr. 1 GDPR (personenbezogen).
    Personal,
    /// Confidential data: Art. 9/10 GDPR special categories, classified markings, tax and
    /// personnel secrets, secrets/credentials (vertraulich).
    Confidential,
    /// Social data, § 35 SGB I / § 67 SGB X (Sozialdaten).
    Social,
}

impl DataClass {
    /// All classes, most open first.
    pub const ALL: [DataClass; 5] = [
        DataClass::Public,
        DataClass::Internal,
        DataClass::Personal,
        DataClass::Confidential,
        DataClass::Social,
    ];

    /// The wire name (`"public"` … `"social"`), identical to the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::Public => "public",
            DataClass::Internal => "internal",
            DataClass::Personal => "personal",
            DataClass::Confidential => "confidential",
            DataClass::Social => "social",
        }
    }

    /// The German label used in the admin console: öffentlich, intern, personenbezogen,
    /// vertraulich, Sozialdaten.
    pub fn label_de(self) -> &'static str {
        match self {
            DataClass::Public => "öffentlich",
            DataClass::Internal => "intern",
            DataClass::Personal => "personenbezogen",
            DataClass::Confidential => "vertraulich",
            DataClass::Social => "Sozialdaten",
        }
    }
}

impl fmt::Display for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`DataClass::from_str`] / [`Zone::from_str`]: the rejected name is not echoed
/// (it may be user input), only the accepted names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name; expected one of: {expected}")]
pub struct UnknownName {
    /// The accepted names, comma separated.
    pub expected: &'static str,
}

impl FromStr for DataClass {
    type Err = UnknownName;

    /// Parses the wire name, case-insensitively (`"Personal"` works too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataClass::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownName {
                expected: "public, internal, personal, confidential, social",
            })
    }
}

/// Where a model runs, ordered by trust: `Green > Yellow > Red` (derived `Ord` follows the
/// declaration order, so `Green < Yellow < Red` means "more open").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Zone {
    /// The appliance itself (llama.cpp on this box): may receive every class.
    Green,
    /// Sovereign cloud with open models: up to personal data.
    Yellow,
    /// Public cloud: public and internal data only.
    Red,
}

impl Zone {
    /// All zones, most trusted first.
    pub const ALL: [Zone; 3] = [Zone::Green, Zone::Yellow, Zone::Red];

    /// The wire name (`"green"`, `"yellow"`, `"red"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Green => "green",
            Zone::Yellow => "yellow",
            Zone::Red => "red",
        }
    }

    /// The default maximum data class the zone may receive (DESIGN.md): green `social`,
    /// yellow `personal`, red `internal`. The config may tighten these, never loosen them
    /// without an explicit override (owned by the config/relay modules, not here).
    pub fn default_max_class(self) -> DataClass {
        match self {
            Zone::Green => DataClass::Social,
            Zone::Yellow => DataClass::Personal,
            Zone::Red => DataClass::Internal,
        }
    }

    /// Whether a text of class `class` may go to this zone under the default limits.
    pub fn admits(self, class: DataClass) -> bool {
        class <= self.default_max_class()
    }

    /// Whether `self` is more open (less trusted) than `other`.
    pub fn is_more_open_than(self, other: Zone) -> bool {
        self > other
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Zone {
    type Err = UnknownName;

    /// Parses the wire name, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Zone::ALL
            .into_iter()
            .find(|z| z.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownName {
                expected: "green, yellow, red",
            })
    }
}

macro_rules! categories {
    ($( $(#[$doc:meta])* $var:ident = $name:literal => $class:ident ),+ $(,)?) => {
        /// Detector category, named exactly as in the SPEC catalogue and the corpus
        /// (serialised `SCREAMING_SNAKE_CASE`, e.g. `DE_TAX_ID`), plus `SECRET`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Category {
            $( $(#[$doc])* #[serde(rename = $name)] $var, )+
        }

        impl Category {
            /// Every category, in catalogue order.
            pub const ALL: &'static [Category] = &[ $( Category::$var, )+ ];

            /// The wire name, e.g. `"DE_TAX_ID"`.
            pub fn as_str(self) -> &'static str {
                match self { $( Category::$var => $name, )+ }
            }

            /// The data class a finding of this category implies on its own (SPEC section 1).
            /// GREEN_ONLY categories map to `Confidential` (Art. 9/10 GDPR, markings, secrets)
            /// or `Social` (§ 35 SGB I identifiers and terms); PERSONAL ones to `Personal`.
            pub fn data_class(self) -> DataClass {
                match self { $( Category::$var => DataClass::$class, )+ }
            }
        }

        impl FromStr for Category {
            type Err = UnknownName;

            /// Parses the wire name exactly (upper case).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $name => Ok(Category::$var), )+
                    _ => Err(UnknownName { expected: "a SPEC category such as PERSON or DE_TAX_ID" }),
                }
            }
        }
    };
}

categories! {
    /// Natural person's name.
    Person = "PERSON" => Personal,
    /// Personal e-mail address (functional mailboxes of the city are not reported).
    Email = "EMAIL" => Personal,
    /// Personal phone number (service and functional numbers are not reported).
    Phone = "PHONE" => Personal,
    /// Postal address attached to a person.
    Address = "ADDRESS" => Personal,
    /// Date of birth.
    DateOfBirth = "DATE_OF_BIRTH" => Personal,
    /// Steuerliche Identifikationsnummer (§ 139b AO).
    DeTaxId = "DE_TAX_ID" => Personal,
    /// Steuernummer of a Finanzamt.
    DeTaxNumber = "DE_TAX_NUMBER" => Personal,
    /// USt-IdNr. (§ 27a UStG).
    DeVatId = "DE_VAT_ID" => Personal,
    /// IBAN (ISO 13616).
    Iban = "IBAN" => Personal,
    /// BIC (ISO 9362), only next to a personal account.
    Bic = "BIC" => Personal,
    /// Payment card number (ISO/IEC 7812).
    CreditCard = "CREDIT_CARD" => Personal,
    /// Personalausweis document number.
    DeIdCard = "DE_ID_CARD" => Personal,
    /// Reisepass document number.
    DePassport = "DE_PASSPORT" => Personal,
    /// Kfz-Kennzeichen (§ 9 FZV).
    DeKfz = "DE_KFZ" => Personal,
    /// Public IP address (CJEU C-582/14).
    IpAddress = "IP_ADDRESS" => Personal,
    /// Handelsregister number of a natural person's firm (HRA).
    DeHandelsregister = "DE_HANDELSREGISTER" => Personal,
    /// Administrative or court file number of a person's case.
    Aktenzeichen = "AKTENZEICHEN" => Personal,
    /// Versicherungsnummer der Rentenversicherung (§ 147 SGB VI).
    DeRvnr = "DE_RVNR" => Social,
    /// Krankenversichertennummer (§ 290 SGB V).
    DeKvnr = "DE_KVNR" => Social,
    /// Jobcenter / Bundesagentur customer or BG number (§ 51a SGB II).
    DeBaNumber = "DE_BA_NUMBER" => Social,
    /// Health data, Art. 9 GDPR.
    Health = "HEALTH" => Confidential,
    /// ICD-10-GM diagnosis code linked to a person.
    Icd10Code = "ICD10_CODE" => Confidential,
    /// Religious or philosophical belief, Art. 9 GDPR.
    Religion = "RELIGION" => Confidential,
    /// Racial or ethnic origin, Art. 9 GDPR.
    EthnicOrigin = "ETHNIC_ORIGIN" => Confidential,
    /// Political opinion, Art. 9 GDPR.
    PoliticalOpinion = "POLITICAL_OPINION" => Confidential,
    /// Trade-union membership, Art. 9 GDPR.
    UnionMembership = "UNION_MEMBERSHIP" => Confidential,
    /// Sex life or sexual orientation / gender identity, Art. 9 GDPR, § 13 SBGG.
    SexLifeOrientation = "SEX_LIFE_ORIENTATION" => Confidential,
    /// Biometric data, Art. 9 GDPR.
    Biometric = "BIOMETRIC" => Confidential,
    /// Genetic data, Art. 9 GDPR.
    Genetic = "GENETIC" => Confidential,
    /// Social data, § 35 SGB I / § 67 SGB X.
    SocialData = "SOCIAL_DATA" => Social,
    /// Criminal convictions and offences, Art. 10 GDPR.
    CriminalOffence = "CRIMINAL_OFFENCE" => Confidential,
    /// Classified or secrecy-protected content (VS-NfD, Steuergeheimnis, Personalakte, …).
    Confidential = "CONFIDENTIAL" => Confidential,
    /// Credentials: API keys, private keys, passwords.
    Secret = "SECRET" => Confidential,
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of a finding of `category` produced by `detector` (see [`Finding::data_class`]).
pub(crate) fn class_of(category: Category, detector: &str) -> DataClass {
    if category == Category::Aktenzeichen && detector.starts_with("aktenzeichen.social") {
        DataClass::Social
    } else {
        category.data_class()
    }
}

/// One detection: a category and a byte span `start..end` of the caller's input.
///
/// There is deliberately no value field: values are never stored or logged; a caller that
/// must see the value slices its own input (`&text[f.start..f.end]`, always on char
/// boundaries). `detector` names the rule that fired (static text, safe to log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Finding {
    /// What was found.
    pub category: Category,
    /// Byte offset of the first byte of the span in the input.
    pub start: usize,
    /// Byte offset one past the last byte of the span in the input.
    pub end: usize,
    /// The rule that fired, e.g. `"tax_id.mod11_10"`; never contains input text.
    pub detector: &'static str,
}

impl Finding {
    /// The data class this finding implies. Equal to `category.data_class()` except for
    /// case numbers of social courts / social offices (`detector` starting with
    /// `"aktenzeichen.social"`), which SPEC 4.12 treats as a social signal (`Social`).
    pub fn data_class(&self) -> DataClass {
        class_of(self.category, self.detector)
    }

    /// Length of the span in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span is empty (never true for findings produced by the detector).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_order_and_labels() {
        assert!(DataClass::Public < DataClass::Internal);
        assert!(DataClass::Personal < DataClass::Confidential);
        assert!(DataClass::Confidential < DataClass::Social);
        assert_eq!(DataClass::Social.label_de(), "Sozialdaten");
        assert_eq!(
            serde_json::to_string(&DataClass::Personal).ok().as_deref(),
            Some("\"personal\"")
        );
        assert_eq!(
            "Confidential".parse::<DataClass>(),
            Ok(DataClass::Confidential)
        );
    }

    #[test]
    fn zone_limits() {
        assert!(Zone::Green.admits(DataClass::Social));
        assert!(Zone::Yellow.admits(DataClass::Personal));
        assert!(!Zone::Yellow.admits(DataClass::Confidential));
        assert!(!Zone::Red.admits(DataClass::Personal));
        assert!(Zone::Red.is_more_open_than(Zone::Yellow));
        assert_eq!(
            serde_json::to_string(&Zone::Yellow).ok().as_deref(),
            Some("\"yellow\"")
        );
    }

    #[test]
    fn green_only_categories_exceed_yellow() {
        // SPEC section 1: GREEN_ONLY must be refused by yellow and red.
        for c in [
            "DE_RVNR",
            "DE_KVNR",
            "DE_BA_NUMBER",
            "HEALTH",
            "ICD10_CODE",
            "RELIGION",
            "ETHNIC_ORIGIN",
            "POLITICAL_OPINION",
            "UNION_MEMBERSHIP",
            "SEX_LIFE_ORIENTATION",
            "BIOMETRIC",
            "GENETIC",
            "SOCIAL_DATA",
            "CRIMINAL_OFFENCE",
            "CONFIDENTIAL",
        ] {
            let cat: Category = c.parse().unwrap_or(Category::Person);
            assert_eq!(cat.as_str(), c);
            assert!(!Zone::Yellow.admits(cat.data_class()), "{c}");
            assert!(Zone::Green.admits(cat.data_class()), "{c}");
        }
        for c in [
            "PERSON",
            "EMAIL",
            "PHONE",
            "ADDRESS",
            "DATE_OF_BIRTH",
            "DE_TAX_ID",
            "DE_TAX_NUMBER",
            "DE_VAT_ID",
            "IBAN",
            "BIC",
            "CREDIT_CARD",
            "DE_ID_CARD",
            "DE_PASSPORT",
            "DE_KFZ",
            "IP_ADDRESS",
            "DE_HANDELSREGISTER",
            "AKTENZEICHEN",
        ] {
            let cat: Category = c.parse().unwrap_or(Category::Secret);
            assert_eq!(cat.as_str(), c);
            assert_eq!(cat.data_class(), DataClass::Personal, "{c}");
        }
        assert_eq!(
            serde_json::to_string(&Category::DeTaxId).ok().as_deref(),
            Some("\"DE_TAX_ID\"")
        );
    }
}
