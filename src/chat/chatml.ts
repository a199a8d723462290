/**
 * The template used when the model brings none: ChatML (`<|im_start|>role\ncontent<|im_end|>\n` per
 * message, then `<|im_start|>assistant\n` when a generation prompt is asked for). Content that is not
 * a string renders as nothing; an assistant message's tool calls follow its content, one JSON object
 * `{"name": ..., "arguments": ...}` per line. It does not read `tools`, so tool descriptions reach the
 * model through the prompt text instead.
 */
export const CHATML_FALLBACK = [
  '{%- for message in messages %}',
  "{{- '<|im_start|>' + message.role + '\\n' }}",
  '{%- if message.content is string %}{{- message.content }}{%- endif %}',
  '{%- if message.tool_calls is defined and message.tool_calls %}',
  '{%- for call in message.tool_calls %}',
  "{%- if message.content or not loop.first %}{{- '\\n' }}{%- endif %}",
  "{{- {'name': call.function.name, 'arguments': call.function.arguments} | tojson }}",
  '{%- endfor %}',
  '{%- endif %}',
  "{{- '<|im_end|>\\n' }}",
  '{%- endfor %}',
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
].join('\n');
