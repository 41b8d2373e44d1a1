//! Chat templates: turning OpenAI messages into the model's prompt with the template from
//! the GGUF metadata (`tokenizer.chat_template`, applied by llama.cpp's built-in engine).

use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};

use super::EngineError;

/// One message after the API flattened it: role (`system`, `user`, `assistant`, `tool`)
/// and its text (content parts joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTurn {
    /// Role as the template knows it (`developer` is passed as `system`).
    pub role: String,
    /// The message text.
    pub content: String,
}

/// GBNF grammar for any JSON object (llama.cpp `grammars/json.gbnf`), used for
/// `response_format: {"type": "json_object"}`.
pub const JSON_OBJECT_GRAMMAR: &str = r#"root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
ws ::= | " " | "\n" [ \t]{0,20}
"#;

/// The model's default chat template, or ChatML when the GGUF has none.
pub(crate) fn model_template(model: &LlamaModel) -> LlamaChatTemplate {
    model.chat_template(None).unwrap_or_else(|_| {
        log::warn!("model has no chat template in its metadata; using chatml");
        #[allow(clippy::expect_used)]
        LlamaChatTemplate::new("chatml").expect("static string has no NUL")
    })
}

/// Applies `template` to `turns` and appends the assistant prefix.
pub(crate) fn apply(model: &LlamaModel, template: &LlamaChatTemplate, turns: &[ChatTurn]) -> Result<String, EngineError> {
    let msgs = turns
        .iter()
        .map(|t| {
            let role = if t.role == "developer" { "system".to_string() } else { t.role.clone() };
            LlamaChatMessage::new(role, t.content.clone()).map_err(|_| EngineError::Template("a message contains a NUL character".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    model.apply_chat_template(template, &msgs, true).map_err(|e| EngineError::Template(e.to_string()))
}
