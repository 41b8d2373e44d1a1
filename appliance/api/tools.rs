//! Function calling on green models: the tools are described to the model in the system
//! prompt (the Hermes `<tool_call>` convention most open chat models are trained on);
//! `tool_choice: "required"` or a named function constrains the output with a grammar
//! built from the functions' JSON Schemas, so the call always parses.

use serde_json::{json, Value};

use super::error::ApiError;
use super::types::{FunctionCall, Tool, ToolCall};

/// How a request uses tools.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToolMode {
    /// No tools (or `tool_choice: "none"`).
    Off,
    /// The model may answer with text or `<tool_call>` blocks.
    Auto,
    /// The model must call a function: the whole output is one `{"name","arguments"}` object.
    Forced,
}

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";

/// Checks `tools`/`tool_choice`; returns the mode, the system-prompt text describing the
/// tools, and for [`ToolMode::Forced`] the JSON Schema the output must match.
pub(crate) fn prepare(tools: Option<&[Tool]>, choice: Option<&Value>) -> Result<(ToolMode, Option<String>, Option<Value>), ApiError> {
    let tools = tools.unwrap_or_default();
    for (i, t) in tools.iter().enumerate() {
        if t.kind != "function" {
            return Err(ApiError::invalid(format!("tools[{i}].type"), format!("unsupported tool type {:?}; only \"function\" is supported", t.kind)));
        }
        if t.function.name.is_empty() || !t.function.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(ApiError::invalid(format!("tools[{i}].function.name"), "function names use a-z, A-Z, 0-9, '_' and '-'"));
        }
    }
    let named = match choice {
        None => None,
        Some(Value::String(s)) if s == "none" => return Ok((ToolMode::Off, None, None)),
        Some(Value::String(s)) if s == "auto" => None,
        Some(Value::String(s)) if s == "required" => Some(None),
        Some(v @ Value::Object(_)) => {
            let name = v.pointer("/function/name").and_then(Value::as_str).ok_or_else(|| ApiError::invalid("tool_choice", "expected {\"type\": \"function\", \"function\": {\"name\": ...}}"))?;
            if !tools.iter().any(|t| t.function.name == name) {
                return Err(ApiError::invalid("tool_choice", format!("tool_choice names {name:?}, which is not in tools")));
            }
            Some(Some(name.to_string()))
        }
        Some(_) => return Err(ApiError::invalid("tool_choice", "expected \"none\", \"auto\", \"required\" or a function object")),
    };
    if tools.is_empty() {
        return match named {
            Some(_) => Err(ApiError::invalid("tool_choice", "tool_choice requires tools")),
            None => Ok((ToolMode::Off, None, None)),
        };
    }
    let defs: Vec<Value> = tools.iter().map(|t| json!({"type": "function", "function": t.function})).collect();
    let mut prompt = format!(
        "You are a function calling AI model. You are provided with function signatures within <tools></tools> XML tags. \
         You may call one or more functions to assist with the user query.\n<tools>\n{}\n</tools>\n",
        defs.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
    );
    let Some(name) = named else {
        prompt.push_str("For each function call return a JSON object with the function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
        return Ok((ToolMode::Auto, Some(prompt), None));
    };
    prompt.push_str("Answer with exactly one JSON object {\"name\": <function-name>, \"arguments\": <args-json-object>}.");
    let variants: Vec<Value> = tools
        .iter()
        .filter(|t| name.as_deref().is_none_or(|n| n == t.function.name))
        .map(|t| {
            let params = t.function.parameters.clone().unwrap_or_else(|| json!({"type": "object"}));
            json!({"type": "object", "properties": {"name": {"const": t.function.name}, "arguments": params}, "required": ["name", "arguments"], "additionalProperties": false})
        })
        .collect();
    let schema = if variants.len() == 1 { variants.into_iter().next().unwrap_or_default() } else { json!({"oneOf": variants}) };
    Ok((ToolMode::Forced, Some(prompt), Some(schema)))
}

/// Parses generated text into tool calls: the whole text for [`ToolMode::Forced`], the
/// `<tool_call>` blocks for [`ToolMode::Auto`]. `None` when the text holds no valid call.
pub(crate) fn parse_calls(mode: &ToolMode, text: &str) -> Option<Vec<ToolCall>> {
    let objects: Vec<Value> = match mode {
        ToolMode::Off => return None,
        ToolMode::Forced => vec![serde_json::from_str(text.trim()).ok()?],
        ToolMode::Auto => {
            let mut v = Vec::new();
            let mut rest = text.trim_start();
            if !rest.starts_with(OPEN) {
                return None;
            }
            while let Some(start) = rest.find(OPEN) {
                let body = &rest[start + OPEN.len()..];
                let end = body.find(CLOSE).unwrap_or(body.len());
                v.push(serde_json::from_str(body[..end].trim()).ok()?);
                rest = body.get(end + CLOSE.len()..).unwrap_or("");
            }
            v
        }
    };
    objects
        .into_iter()
        .map(|o| {
            let name = o.get("name")?.as_str()?.to_string();
            let args = o.get("arguments").cloned().unwrap_or_else(|| json!({}));
            let arguments = if let Value::String(s) = args { s } else { args.to_string() };
            Some(ToolCall { id: super::stream::new_id("call_"), kind: "function".into(), function: FunctionCall { name, arguments } })
        })
        .collect()
}

/// Whether text streamed so far may still turn out to be an auto-mode tool call.
pub(crate) fn may_be_call(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with(OPEN) || OPEN.starts_with(t)
}

/// Renders an assistant message's earlier tool calls for the prompt.
pub(crate) fn render_calls(calls: &[ToolCall]) -> String {
    calls
        .iter()
        .map(|c| {
            let args: Value = serde_json::from_str(&c.function.arguments).unwrap_or(Value::String(c.function.arguments.clone()));
            format!("{OPEN}\n{}\n{CLOSE}", json!({"name": c.function.name, "arguments": args}))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Vec<Tool> {
        serde_json::from_value(json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])).unwrap()
    }

    #[test]
    fn required_choice_forces_a_schema() {
        let (mode, prompt, schema) = prepare(Some(&tools()), Some(&json!("required"))).unwrap();
        assert_eq!(mode, ToolMode::Forced);
        assert!(prompt.unwrap().contains("get_weather"));
        assert_eq!(schema.unwrap()["properties"]["name"]["const"], "get_weather");
    }

    #[test]
    fn unknown_named_function_is_refused() {
        let e = prepare(Some(&tools()), Some(&json!({"type": "function", "function": {"name": "nope"}}))).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("tool_choice"));
    }

    #[test]
    fn auto_calls_parse_from_tags_and_arguments_become_strings() {
        let calls = parse_calls(&ToolMode::Auto, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Musterstadt\"}}\n</tool_call>").unwrap();
        assert_eq!(calls[0].function.name, "get_weather");
        let args: Value = serde_json::from_str(&calls[0].function.arguments).unwrap();
        assert_eq!(args["city"], "Musterstadt");
        assert!(parse_calls(&ToolMode::Auto, "Das Wetter ist gut.").is_none());
    }

    #[test]
    fn prefix_of_the_tag_may_still_be_a_call() {
        assert!(may_be_call("  <tool"));
        assert!(!may_be_call("Hallo"));
    }
}
