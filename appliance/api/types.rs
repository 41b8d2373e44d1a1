//! OpenAI wire types (Chat Completions, Completions, Embeddings, Models), as in OpenAI's
//! API reference. Request types accept and ignore unknown fields, as OpenAI-compatible
//! servers must: SDKs add fields faster than servers learn them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `stop`: one string or an array of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StopSpec {
    /// A single stop sequence.
    One(String),
    /// Up to four stop sequences.
    Many(Vec<String>),
}

/// `stream_options`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamOptions {
    /// Send one extra chunk with `choices: []` and the request's usage before `[DONE]`.
    #[serde(default)]
    pub include_usage: bool,
}

/// One content part of a message (`{"type":"text","text":...}`; other types are refused).
#[derive(Debug, Clone, Deserialize)]
pub struct ContentPart {
    /// Part type; only `text` is served by text models.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    pub text: Option<String>,
}

/// Message `content`: a string or an array of parts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Content parts.
    Parts(Vec<ContentPart>),
}

/// A function call inside an assistant message (`tool_calls[]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ToolCall {
    /// Call id, echoed by the `tool` message that answers it.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// Name and JSON-encoded arguments.
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".into()
}

/// A function name with its arguments as a JSON string.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FunctionCall {
    /// Function name.
    pub name: String,
    /// Arguments, a JSON object encoded as a string.
    pub arguments: String,
}

/// One chat message.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: String,
    /// Text or parts; may be null for assistant messages with tool calls.
    #[serde(default)]
    pub content: Option<Content>,
    /// Optional participant name.
    #[serde(default)]
    pub name: Option<String>,
    /// Tool calls made by an assistant message.
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// The call a `tool` message answers.
    #[serde(default)]
    pub tool_call_id: Option<String>,
}

/// A tool offered to the model.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Tool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function's description.
    pub function: FunctionDef,
}

/// A function the model may call.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FunctionDef {
    /// Name the model uses in its call.
    pub name: String,
    /// What the function does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// `POST /v1/chat/completions` request body.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatCompletionRequest {
    /// Public model id.
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
    /// Stream the answer as server-sent events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Maximum tokens to generate (legacy name).
    #[serde(default)]
    pub max_tokens: Option<i64>,
    /// Maximum tokens to generate.
    #[serde(default)]
    pub max_completion_tokens: Option<i64>,
    /// Sampling temperature, 0..=2.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling, 0..=1.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Top-k sampling (llama.cpp extension), ≥ 0.
    #[serde(default)]
    pub top_k: Option<i64>,
    /// Min-p sampling (llama.cpp extension), 0..=1.
    #[serde(default)]
    pub min_p: Option<f64>,
    /// Keep generating past end-of-generation tokens (llama.cpp extension, for benchmarks).
    #[serde(default)]
    pub ignore_eos: Option<bool>,
    /// Number of choices.
    #[serde(default)]
    pub n: Option<i64>,
    /// RNG seed for reproducible sampling.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Option<StopSpec>,
    /// −2..=2.
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    /// −2..=2.
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    /// Return log-probabilities of the output tokens.
    #[serde(default)]
    pub logprobs: Option<bool>,
    /// Alternatives per position, 0..=20 (needs `logprobs: true`).
    #[serde(default)]
    pub top_logprobs: Option<i64>,
    /// `{"type": "text" | "json_object" | "json_schema", ...}`.
    #[serde(default)]
    pub response_format: Option<Value>,
    /// Tools the model may call.
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
    /// `none`, `auto`, `required` or `{"type":"function","function":{"name":...}}`.
    #[serde(default)]
    pub tool_choice: Option<Value>,
    /// Free-form request metadata (`data_class` is read by the policy).
    #[serde(default)]
    pub metadata: Option<Value>,
}

/// `POST /v1/completions` `prompt`: a string, strings, a token array or token arrays.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PromptInput {
    /// One prompt.
    Text(String),
    /// Several prompts (one choice each).
    Texts(Vec<String>),
    /// One prompt as token ids.
    Tokens(Vec<i64>),
    /// Several prompts as token ids.
    TokenLists(Vec<Vec<i64>>),
}

/// `POST /v1/completions` request body (legacy completions).
#[derive(Debug, Clone, Deserialize)]
pub struct CompletionRequest {
    /// Public model id.
    pub model: String,
    /// The prompt(s).
    pub prompt: PromptInput,
    /// Stream as server-sent events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Maximum tokens to generate (OpenAI's default for this endpoint is 16).
    #[serde(default)]
    pub max_tokens: Option<i64>,
    /// See chat.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// See chat.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// See chat.
    #[serde(default)]
    pub top_k: Option<i64>,
    /// See chat.
    #[serde(default)]
    pub min_p: Option<f64>,
    /// See chat.
    #[serde(default)]
    pub ignore_eos: Option<bool>,
    /// Choices per prompt.
    #[serde(default)]
    pub n: Option<i64>,
    /// See chat.
    #[serde(default)]
    pub seed: Option<i64>,
    /// See chat.
    #[serde(default)]
    pub stop: Option<StopSpec>,
    /// See chat.
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    /// See chat.
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    /// Legacy logprobs: number of alternatives (0..=5).
    #[serde(default)]
    pub logprobs: Option<i64>,
    /// Echo the prompt before the completion.
    #[serde(default)]
    pub echo: Option<bool>,
    /// Text appended after the completion.
    #[serde(default)]
    pub suffix: Option<String>,
}

/// `POST /v1/embeddings` `input`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    /// One string.
    Text(String),
    /// Several strings.
    Texts(Vec<String>),
    /// One token array.
    Tokens(Vec<i64>),
    /// Several token arrays.
    TokenLists(Vec<Vec<i64>>),
}

/// `POST /v1/embeddings` request body.
#[derive(Debug, Clone, Deserialize)]
pub struct EmbeddingRequest {
    /// Public model id.
    pub model: String,
    /// What to embed.
    pub input: EmbeddingInput,
    /// `float` (default) or `base64` (little-endian f32 bytes).
    #[serde(default)]
    pub encoding_format: Option<String>,
    /// Truncate to this many dimensions (then re-normalised); refused above the model's width.
    #[serde(default)]
    pub dimensions: Option<i64>,
}

/// Token counts of a request (OpenAI `usage`).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Usage {
    /// Tokens in the prompt (cached ones included, as OpenAI counts them).
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// Sum of both.
    pub total_tokens: u32,
    /// Breakdown of the prompt tokens.
    pub prompt_tokens_details: PromptTokensDetails,
}

/// OpenAI `usage.prompt_tokens_details`.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct PromptTokensDetails {
    /// Prompt tokens reused from the KV cache (a prefix an earlier request of the same
    /// scope left) instead of evaluated.
    pub cached_tokens: u32,
}

impl Usage {
    /// Usage with `total_tokens` filled in and no cached tokens.
    pub fn new(prompt_tokens: u32, completion_tokens: u32) -> Self {
        Self { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens, prompt_tokens_details: PromptTokensDetails::default() }
    }

    /// The same usage with `cached` of its prompt tokens served from the cache.
    #[must_use]
    pub fn with_cached(mut self, cached: u32) -> Self {
        self.prompt_tokens_details.cached_tokens = cached;
        self
    }
}
