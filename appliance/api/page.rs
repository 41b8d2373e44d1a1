//! OpenAI's cursor-paginated list envelope `{"object":"list","data","first_id","last_id",
//! "has_more"}` and its query parameters `limit`, `order` (`asc`/`desc` by `created_at`,
//! default `desc`), `after` and `before` (object ids), as the API reference defines them for
//! files, vector stores and vector store files. The SDKs page on with `after=last_id` while
//! `has_more` is true.

use serde_json::{json, Value};

use super::error::ApiError;

/// Parsed list parameters; other keys are kept for the endpoint (e.g. `purpose`, `filter`).
#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    limit: usize,
    desc: bool,
    after: Option<String>,
    before: Option<String>,
    extra: Vec<(String, String)>,
}

impl ListQuery {
    /// Parses a raw query string (`application/x-www-form-urlencoded`). `default_limit` applies
    /// when `limit` is absent; `max_limit` is the largest allowed.
    ///
    /// # Errors
    /// 400 naming `limit` or `order` for values outside the reference's ranges.
    pub(crate) fn parse(raw: Option<&str>, default_limit: usize, max_limit: usize) -> Result<ListQuery, ApiError> {
        let mut q = ListQuery { limit: default_limit, desc: true, after: None, before: None, extra: Vec::new() };
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "limit" => {
                    q.limit = v.parse::<usize>().ok().filter(|n| (1..=max_limit).contains(n)).ok_or_else(|| ApiError::invalid("limit", format!("'limit' must be an integer from 1 to {max_limit}")))?;
                }
                "order" => {
                    q.desc = match v.as_ref() {
                        "desc" => true,
                        "asc" => false,
                        _ => return Err(ApiError::invalid("order", "'order' must be \"asc\" or \"desc\"")),
                    }
                }
                "after" if !v.is_empty() => q.after = Some(v.into_owned()),
                "before" if !v.is_empty() => q.before = Some(v.into_owned()),
                _ => q.extra.push((k.into_owned(), v.into_owned())),
            }
        }
        Ok(q)
    }

    /// The value of another query key.
    pub(crate) fn extra(&self, key: &str) -> Option<&str> {
        self.extra.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// One page of `(id, created_at, object)` items: sorted by `created_at` (ties by id),
    /// cut at the cursors, at most `limit` long.
    ///
    /// # Errors
    /// 400 naming `after`/`before` when the cursor is not an id of the list.
    pub(crate) fn page(&self, mut items: Vec<(String, i64, Value)>) -> Result<Value, ApiError> {
        items.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        if self.desc {
            items.reverse();
        }
        let cursor = |key: &str, id: &Option<String>| -> Result<Option<usize>, ApiError> {
            let Some(id) = id else { return Ok(None) };
            items.iter().position(|(i, _, _)| i == id).map(Some).ok_or_else(|| ApiError::invalid(key, format!("'{key}' names {id:?}, which is not in this list")))
        };
        let start = cursor("after", &self.after)?.map_or(0, |p| p + 1);
        let end = cursor("before", &self.before)?.unwrap_or(items.len()).max(start);
        // With only `before`, the page is the `limit` items right before the cursor.
        let (from, to) = if self.before.is_some() && self.after.is_none() { (end.saturating_sub(self.limit), end) } else { (start, (start + self.limit).min(end)) };
        let has_more = to < end;
        let data: Vec<Value> = items.drain(from..to).map(|(_, _, v)| v).collect();
        let id = |v: Option<&Value>| v.and_then(|v| v.get("id")).cloned().unwrap_or(Value::Null);
        Ok(json!({"object": "list", "first_id": id(data.first()), "last_id": id(data.last()), "has_more": has_more, "data": data}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: i64) -> Vec<(String, i64, Value)> {
        (0..n).map(|i| (format!("x{i}"), i, json!({"id": format!("x{i}")}))).collect()
    }

    fn ids(v: &Value) -> Vec<String> {
        v["data"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn pages_newest_first_and_continue_after_the_last_id() {
        let q = ListQuery::parse(Some("limit=2"), 20, 100).unwrap();
        let p = q.page(items(5)).unwrap();
        assert_eq!(ids(&p), ["x4", "x3"]);
        assert_eq!((p["first_id"].as_str(), p["last_id"].as_str(), p["has_more"].as_bool()), (Some("x4"), Some("x3"), Some(true)));
        let q = ListQuery::parse(Some("limit=2&after=x1"), 20, 100).unwrap();
        let p = q.page(items(5)).unwrap();
        assert_eq!(ids(&p), ["x0"]);
        assert_eq!(p["has_more"], false);
    }

    #[test]
    fn ascending_before_cursor_and_empty_lists() {
        let q = ListQuery::parse(Some("order=asc&before=x3&limit=2"), 20, 100).unwrap();
        assert_eq!(ids(&q.page(items(5)).unwrap()), ["x1", "x2"]);
        let p = ListQuery::parse(None, 20, 100).unwrap().page(Vec::new()).unwrap();
        assert_eq!((p["first_id"].is_null(), p["has_more"].as_bool()), (true, Some(false)));
    }

    #[test]
    fn bad_parameters_name_the_key() {
        assert_eq!(ListQuery::parse(Some("limit=0"), 20, 100).unwrap_err().param.as_deref(), Some("limit"));
        assert_eq!(ListQuery::parse(Some("order=up"), 20, 100).unwrap_err().param.as_deref(), Some("order"));
        let q = ListQuery::parse(Some("after=nope&purpose=assistants"), 20, 100).unwrap();
        assert_eq!(q.extra("purpose"), Some("assistants"));
        assert_eq!(q.page(items(2)).unwrap_err().param.as_deref(), Some("after"));
    }
}
