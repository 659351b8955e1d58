//! The OpenAI-compatible [`LlmClient`](noctune_core::LlmClient) for Noctune.
//!
//! Talks to `POST {base_url}/chat/completions` on llama.cpp, vLLM, LM Studio and Ollama:
//! streaming, retries, structured output. Built by the noctune-llm issue.
