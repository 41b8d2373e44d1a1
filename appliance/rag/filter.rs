//! Attribute filters in the JSON shape of OpenAI's file search
//! (<https://platform.openai.com/docs/api-reference/vector-stores/search>):
//! comparison `{"type": "eq"|"ne"|"gt"|"gte"|"lt"|"lte"|"in"|"nin", "key": K, "value": V}`
//! and compound `{"type": "and"|"or", "filters": [...]}`.
//!
//! Semantics: numbers compare numerically, strings lexicographically (ISO dates sort
//! correctly), booleans only by `eq`/`ne`; comparing different types is false. A missing key
//! matches only `ne` and `nin`. `in`/`nin` take an array value.

use std::collections::BTreeMap;
use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A filter over document attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Filter {
    /// Equal.
    Eq {
        /// Attribute name.
        key: String,
        /// Value to compare with.
        value: Value,
    },
    /// Not equal (or missing).
    Ne {
        /// Attribute name.
        key: String,
        /// Value to compare with.
        value: Value,
    },
    /// Greater than.
    Gt {
        /// Attribute name.
        key: String,
        /// Value to compare with.
        value: Value,
    },
    /// Greater than or equal.
    Gte {
        /// Attribute name.
        key: String,
        /// Value to compare with.
        value: Value,
    },
    /// Less than.
    Lt {
        /// Attribute name.
        key: String,
        /// Value to compare with.
        value: Value,
    },
    /// Less than or equal.
    Lte {
        /// Attribute name.
        key: String,
        /// Value to compare with.
        value: Value,
    },
    /// Equal to one of the array's values.
    In {
        /// Attribute name.
        key: String,
        /// Value to compare with.
        value: Value,
    },
    /// Equal to none of the array's values (or missing).
    Nin {
        /// Attribute name.
        key: String,
        /// Value to compare with.
        value: Value,
    },
    /// All filters match.
    And {
        /// The parts.
        filters: Vec<Filter>,
    },
    /// Any filter matches.
    Or {
        /// The parts.
        filters: Vec<Filter>,
    },
}

fn cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Filter {
    /// Checks shapes: comparison values are strings, numbers or booleans (arrays of them for
    /// `in`/`nin`), order comparisons are not on booleans, compounds are not empty.
    ///
    /// # Errors
    /// A message naming the offending part (`filters.key` …).
    pub fn validate(&self) -> Result<(), String> {
        let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
        match self {
            Filter::Eq { value, .. } | Filter::Ne { value, .. } if !scalar(value) => Err("filters.value: use a string, number or boolean".into()),
            Filter::Gt { value, .. } | Filter::Gte { value, .. } | Filter::Lt { value, .. } | Filter::Lte { value, .. }
                if !matches!(value, Value::String(_) | Value::Number(_)) =>
            {
                Err("filters.value: gt/gte/lt/lte compare numbers or strings".into())
            }
            Filter::In { value, .. } | Filter::Nin { value, .. } if !value.as_array().is_some_and(|a| a.iter().all(scalar)) => {
                Err("filters.value: in/nin take an array of strings, numbers or booleans".into())
            }
            Filter::And { filters } | Filter::Or { filters } => {
                if filters.is_empty() {
                    return Err("filters.filters: a compound filter needs at least one filter".into());
                }
                filters.iter().try_for_each(Filter::validate)
            }
            _ => Ok(()),
        }
    }

    /// Whether a document with these attributes matches.
    pub fn matches(&self, attrs: &BTreeMap<String, Value>) -> bool {
        let ord = |key: &str, value: &Value| attrs.get(key).and_then(|a| cmp(a, value));
        let eq = |key: &str, value: &Value| ord(key, value) == Some(Ordering::Equal);
        let one_of = |key: &str, value: &Value| value.as_array().is_some_and(|vs| vs.iter().any(|v| eq(key, v)));
        match self {
            Filter::Eq { key, value } => eq(key, value),
            Filter::Ne { key, value } => !eq(key, value),
            Filter::Gt { key, value } => ord(key, value) == Some(Ordering::Greater),
            Filter::Gte { key, value } => matches!(ord(key, value), Some(Ordering::Greater | Ordering::Equal)),
            Filter::Lt { key, value } => ord(key, value) == Some(Ordering::Less),
            Filter::Lte { key, value } => matches!(ord(key, value), Some(Ordering::Less | Ordering::Equal)),
            Filter::In { key, value } => one_of(key, value),
            Filter::Nin { key, value } => !one_of(key, value),
            Filter::And { filters } => filters.iter().all(|f| f.matches(attrs)),
            Filter::Or { filters } => filters.iter().any(|f| f.matches(attrs)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs() -> BTreeMap<String, Value> {
        serde_json::from_value(json!({"amt": "Bauamt", "jahr": 2023, "gueltig_ab": "2023-04-01", "entwurf": false})).unwrap_or_default()
    }
    fn f(v: Value) -> Filter {
        let f: Filter = serde_json::from_value(v).expect("valid filter JSON");
        f.validate().expect("valid filter");
        f
    }

    #[test]
    fn comparisons() {
        let a = attrs();
        assert!(f(json!({"type": "eq", "key": "amt", "value": "Bauamt"})).matches(&a));
        assert!(!f(json!({"type": "eq", "key": "amt", "value": "Ordnungsamt"})).matches(&a));
        assert!(f(json!({"type": "ne", "key": "amt", "value": "Ordnungsamt"})).matches(&a));
        assert!(f(json!({"type": "gt", "key": "jahr", "value": 2022})).matches(&a));
        assert!(f(json!({"type": "gte", "key": "jahr", "value": 2023.0})).matches(&a));
        assert!(!f(json!({"type": "lt", "key": "jahr", "value": 2023})).matches(&a));
        assert!(f(json!({"type": "lte", "key": "gueltig_ab", "value": "2024-01-01"})).matches(&a));
        assert!(f(json!({"type": "eq", "key": "entwurf", "value": false})).matches(&a));
        assert!(f(json!({"type": "in", "key": "amt", "value": ["Bauamt", "Kämmerei"]})).matches(&a));
        assert!(f(json!({"type": "nin", "key": "amt", "value": ["Kämmerei"]})).matches(&a));
        // Type mismatch and missing keys.
        assert!(!f(json!({"type": "gt", "key": "amt", "value": 3})).matches(&a));
        assert!(!f(json!({"type": "eq", "key": "fehlt", "value": 1})).matches(&a));
        assert!(f(json!({"type": "ne", "key": "fehlt", "value": 1})).matches(&a));
    }

    #[test]
    fn compounds_nest() {
        let a = attrs();
        let g = f(json!({"type": "and", "filters": [
            {"type": "eq", "key": "amt", "value": "Bauamt"},
            {"type": "or", "filters": [{"type": "lt", "key": "jahr", "value": 2000}, {"type": "eq", "key": "entwurf", "value": false}]}
        ]}));
        assert!(g.matches(&a));
        let h = f(json!({"type": "and", "filters": [{"type": "eq", "key": "amt", "value": "Bauamt"}, {"type": "eq", "key": "jahr", "value": 1999}]}));
        assert!(!h.matches(&a));
    }

    #[test]
    fn bad_shapes_are_rejected() {
        assert!(serde_json::from_value::<Filter>(json!({"type": "like", "key": "a", "value": 1})).is_err());
        assert!(serde_json::from_value::<Filter>(json!({"type": "eq", "value": 1})).is_err());
        let bad = [
            json!({"type": "eq", "key": "a", "value": [1]}),
            json!({"type": "gt", "key": "a", "value": true}),
            json!({"type": "in", "key": "a", "value": "x"}),
            json!({"type": "and", "filters": []}),
        ];
        for b in bad {
            let x: Filter = serde_json::from_value(b.clone()).expect("parses");
            assert!(x.validate().is_err(), "{b}");
        }
    }
}
