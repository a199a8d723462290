// The model served when no --model-id is given: small, instruction-tuned, Apache-2.0, with an
// official GGUF from its authors (Q4_K_M is about 400 MiB).
export const DEFAULT_MODEL_ID = 'Qwen/Qwen2.5-0.5B-Instruct-GGUF';
