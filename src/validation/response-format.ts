// `response_format` of the OpenAI routes -> the native grammar it stands for. Both OpenAI's forms
// (`{"type": "json_object"}`, `{"type": "json_schema", "json_schema": {name, schema, strict}}`) and
// TGI's (`{"type": "json" | "json_object" | "json_schema" | "regex", "value": ...}`) are accepted.
import type { GenerateParameters } from '../api/native.js';
import { strictSchema } from './closed-objects.js';
import { OpenAiFieldError } from './openai.js';

type Grammar = NonNullable<GenerateParameters['grammar']>;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The grammar of a response_format, or undefined for plain text. */
export function grammarOfResponseFormat(format: { type: string; [key: string]: unknown } | null | undefined): Grammar | undefined {
  if (format == null || format.type === 'text') return undefined;
  const { type } = format;
  if (type === 'json_object' && format.value === undefined) return { type: 'json', value: { type: 'object' } };
  if (type === 'json_schema' && format.value === undefined) {
    const spec = format.json_schema;
    if (!isObject(spec) || spec.schema === undefined)
      throw new OpenAiFieldError(
        'response_format',
        '`response_format` of type "json_schema" needs `json_schema: {"name": ..., "schema": {...}}`',
      );
    return { type: 'json_schema', value: { name: spec.name, schema: spec.strict === true ? strictSchema(spec.schema) : spec.schema } };
  }
  if (type === 'json' || type === 'json_object' || type === 'json_schema' || type === 'regex') return { type, value: format.value };
  throw new OpenAiFieldError(
    'response_format',
    `\`response_format\` type "${type}" is not one of text, json_object, json_schema, json, regex`,
  );
}
