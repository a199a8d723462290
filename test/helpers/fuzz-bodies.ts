// What the fuzz test sends: a valid request body of a route, then mutations of it (wrong types,
// extreme numbers, deep nesting, huge arrays, odd unicode, prototype keys, missing and unknown
// fields), sometimes as broken JSON text or under a wrong content type.
import fc from 'fast-check';
import {
  cloneJson,
  DeepJsonString,
  DeepNesting,
  fromPlain,
  HugeArray,
  JsonObject,
  LongString,
  objectsOf,
  placesOf,
  RawText,
  removeAt,
  replaceAt,
  setPath,
  toJsonText,
  type Json,
  type NestingShape,
} from './fuzz-json.js';

export const ROUTES = [
  '/',
  '/generate',
  '/generate_stream',
  '/v1/chat/completions',
  '/v1/completions',
  '/tokenize',
  '/chat_tokenize',
  '/invocations',
] as const;
export type Route = (typeof ROUTES)[number];
export type BodyKind = 'generate' | 'chat' | 'completion';

interface Base {
  kind: BodyKind;
  body: Record<string, unknown>;
}

const GENERATE_STREAMABLE: Record<string, unknown>[] = [
  {
    inputs: 'Once upon a time',
    parameters: {
      best_of: 1,
      temperature: 0.7,
      repetition_penalty: 1.1,
      frequency_penalty: 0.1,
      top_k: 10,
      top_p: 0.9,
      typical_p: 0.95,
      do_sample: true,
      max_new_tokens: 3,
      return_full_text: false,
      stop: [' the'],
      truncate: 10,
      watermark: false,
      details: true,
      seed: 42,
      top_n_tokens: 2,
      grammar: null,
      adapter_id: null,
    },
  },
  { inputs: 'The little dog', parameters: { max_new_tokens: 2 } },
  { inputs: 'Ben had a red ball 🎈', parameters: { max_new_tokens: 2, watermark: true, do_sample: true, details: true, top_n_tokens: 1 } },
];

const GENERATE: Record<string, unknown>[] = [
  ...GENERATE_STREAMABLE,
  { inputs: 'Lily and Tom went', parameters: { best_of: 2, do_sample: true, max_new_tokens: 2, details: true } },
  { inputs: 'One day, a big bear', parameters: { max_new_tokens: 2, details: true, decoder_input_details: true, return_full_text: true } },
];

const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

const CHAT: Record<string, unknown>[] = [
  {
    model: 'tgi',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Tell me a story' },
    ],
    max_tokens: 2,
    max_completion_tokens: 2,
    temperature: 0.5,
    top_p: 0.9,
    n: 1,
    seed: 7,
    stop: ['\n'],
    presence_penalty: 0.1,
    frequency_penalty: 0.1,
    logit_bias: { '5': 1.5 },
    logprobs: true,
    top_logprobs: 2,
    user: 'fuzz',
    top_k: 20,
    repetition_penalty: 1.05,
    typical_p: 0.9,
    response_format: { type: 'text' },
    chat_template_kwargs: { enable_thinking: false },
  },
  {
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ],
    tools: TOOLS,
    tool_choice: 'auto',
    tool_prompt: 'Use the tools.',
    parallel_tool_calls: true,
    max_tokens: 2,
    temperature: 0,
  },
  { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1 },
  {
    messages: [
      { role: 'user', content: 'Go on' },
      { role: 'assistant', content: 'Once upon' },
    ],
    n: 2,
    max_tokens: 2,
    seed: 1,
  },
];

const COMPLETION_STREAMABLE: Record<string, unknown>[] = [
  {
    model: 'tgi',
    prompt: 'Once upon a time',
    max_tokens: 2,
    temperature: 0.8,
    top_p: 0.9,
    n: 1,
    best_of: 1,
    seed: 3,
    stop: ['.'],
    logprobs: 2,
    echo: true,
    presence_penalty: 0.5,
    frequency_penalty: 0.5,
    logit_bias: { '10': -1 },
    user: 'fuzz',
    top_k: 5,
    repetition_penalty: 1.1,
    typical_p: 0.9,
  },
  { prompt: ['The sun was', 'Mom said'], max_tokens: 2, n: 2, temperature: 0 },
  { prompt: 'In the park', max_tokens: 1 },
];

const COMPLETION: Record<string, unknown>[] = [
  ...COMPLETION_STREAMABLE,
  { prompt: 'Ben had', max_tokens: 2, n: 1, best_of: 2, temperature: 1 },
];

const TOKENIZE: Record<string, unknown>[] = [
  { inputs: 'Once upon a time, Lily' },
  { inputs: 'naïve 👩‍👩‍👧 text', parameters: { max_new_tokens: 1 } },
];

const streamed = (body: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...body, stream: true, ...extra });
const as = (kind: BodyKind, bodies: Record<string, unknown>[]): Base[] => bodies.map((body) => ({ kind, body }));

const compatBases = [
  ...as('generate', GENERATE),
  ...as(
    'generate',
    GENERATE_STREAMABLE.map((b) => streamed(b)),
  ),
  ...as('generate', [{ ...GENERATE[1], stream: false }]),
];
const chatBases = [
  ...as('chat', CHAT),
  ...as(
    'chat',
    CHAT.map((b) => streamed(b, { stream_options: { include_usage: true } })),
  ),
  ...as('chat', [{ ...CHAT[2], stream: false }]),
];
const completionBases = [
  ...as('completion', COMPLETION),
  ...as(
    'completion',
    COMPLETION_STREAMABLE.map((b) => streamed(b, { stream_options: { include_usage: true } })),
  ),
];

/** Valid bodies of each route: every one of them gets a 200. */
export const BASES: Record<Route, Base[]> = {
  '/': compatBases,
  '/generate': as('generate', GENERATE),
  '/generate_stream': as('generate', GENERATE_STREAMABLE),
  '/v1/chat/completions': chatBases,
  '/v1/completions': completionBases,
  '/tokenize': as('generate', TOKENIZE),
  '/chat_tokenize': as('chat', CHAT),
  '/invocations': [...compatBases, ...chatBases, ...completionBases],
};

type Path = (string | number)[];
const paths = (dotted: string[]): Path[] => dotted.map((d) => d.split('.').map((step) => (/^\d+$/.test(step) ? Number(step) : step)));

const GENERATE_PARAMETERS = [
  'best_of',
  'temperature',
  'repetition_penalty',
  'frequency_penalty',
  'top_k',
  'top_p',
  'typical_p',
  'do_sample',
  'max_new_tokens',
  'return_full_text',
  'stop',
  'truncate',
  'watermark',
  'details',
  'decoder_input_details',
  'seed',
  'top_n_tokens',
  'grammar',
  'adapter_id',
];
const SAMPLING = [
  'model',
  'max_tokens',
  'temperature',
  'top_p',
  'n',
  'stream',
  'stream_options',
  'stream_options.include_usage',
  'stop',
  'stop.0',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logit_bias.5',
  'user',
  'top_k',
  'repetition_penalty',
  'typical_p',
];

/** The fields a mutation may set, whether or not the base has them. */
const FIELDS: Record<BodyKind, Path[]> = {
  generate: paths([
    'inputs',
    'parameters',
    'stream',
    'parameters.stop.0',
    'parameters.grammar.type',
    'parameters.grammar.value',
    ...GENERATE_PARAMETERS.map((p) => `parameters.${p}`),
  ]),
  chat: paths([
    ...SAMPLING,
    'messages',
    'messages.0',
    'messages.0.role',
    'messages.0.content',
    'messages.0.content.0',
    'messages.0.content.0.type',
    'messages.0.content.0.text',
    'messages.0.name',
    'messages.0.extra',
    'messages.1.tool_calls',
    'messages.1.tool_calls.0.id',
    'messages.1.tool_calls.0.type',
    'messages.1.tool_calls.0.function',
    'messages.1.tool_calls.0.function.name',
    'messages.1.tool_calls.0.function.arguments',
    'messages.2.tool_call_id',
    'max_completion_tokens',
    'logprobs',
    'top_logprobs',
    'tools',
    'tools.0',
    'tools.0.type',
    'tools.0.function.name',
    'tools.0.function.description',
    'tools.0.function.parameters',
    'tools.0.function.parameters.properties',
    'tools.0.function.parameters.properties.city',
    'tool_choice',
    'tool_choice.function.name',
    'tool_prompt',
    'parallel_tool_calls',
    'response_format',
    'response_format.type',
    'chat_template_kwargs',
    'chat_template_kwargs.enable_thinking',
    'chat_template_kwargs.extra',
    // Template variables the server sets itself, and names jinja resolves.
    ...[
      'messages',
      'tools',
      'add_generation_prompt',
      'bos_token',
      'eos_token',
      'raise_exception',
      'strftime_now',
      'range',
      'namespace',
      'loop',
      '__proto__',
      'constructor',
    ].map((name) => `chat_template_kwargs.${name}`),
  ]),
  completion: paths([...SAMPLING, 'prompt', 'prompt.0', 'suffix', 'logprobs', 'echo', 'best_of']),
};

/** The numeric fields, where ranges, NaN and infinities hide. */
const NUMERIC_FIELDS: Record<BodyKind, Path[]> = {
  generate: paths(
    [
      'best_of',
      'temperature',
      'repetition_penalty',
      'frequency_penalty',
      'top_k',
      'top_p',
      'typical_p',
      'max_new_tokens',
      'truncate',
      'seed',
      'top_n_tokens',
    ].map((p) => `parameters.${p}`),
  ),
  chat: paths([
    'max_tokens',
    'max_completion_tokens',
    'temperature',
    'top_p',
    'n',
    'seed',
    'presence_penalty',
    'frequency_penalty',
    'logit_bias.5',
    'logit_bias.511',
    'top_k',
    'repetition_penalty',
    'typical_p',
    'top_logprobs',
  ]),
  completion: paths([
    'max_tokens',
    'temperature',
    'top_p',
    'n',
    'best_of',
    'seed',
    'presence_penalty',
    'frequency_penalty',
    'logit_bias.10',
    'top_k',
    'repetition_penalty',
    'typical_p',
    'logprobs',
  ]),
};

/** Where deep nesting passes the schema and reaches templating, tokenizing or validation. */
const DEEP_TARGETS: Record<BodyKind, Path[]> = {
  generate: paths(['parameters.grammar.value', 'parameters.extra', 'extra', 'inputs', 'parameters.stop.0']),
  chat: paths([
    'chat_template_kwargs.nested',
    'tools.0.function.parameters.properties.city',
    'tools.0.function.parameters',
    'tools.0.function.extra',
    'messages.1.tool_calls.0.function.arguments',
    'messages.0.extra',
    'messages.0.content.0.extra',
    'tool_choice.function.extra',
    'response_format.extra',
    'stream_options.extra',
    'extra',
    'messages.0.content',
  ]),
  completion: paths(['extra', 'prompt', 'stream_options.extra', 'logit_bias']),
};

/** Where a huge array or string goes, and of what. */
interface HugeTarget {
  path: Path;
  element: Json | 'long-string';
}

const HUGE_TARGETS: Record<BodyKind, HugeTarget[]> = {
  generate: [
    { path: ['parameters', 'stop'], element: 'a' },
    { path: ['inputs'], element: 'long-string' },
    { path: ['extra'], element: 1 },
  ],
  chat: [
    { path: ['messages'], element: fromPlain({ role: 'user' }) },
    { path: ['messages'], element: fromPlain({ role: 'user', content: 'a' }) },
    { path: ['stop'], element: 'a' },
    { path: ['tools'], element: fromPlain(TOOLS[0]) },
    { path: ['messages', 0, 'content'], element: fromPlain({ type: 'text', text: 'a' }) },
    { path: ['chat_template_kwargs', 'list'], element: 0 },
    { path: ['messages', 0, 'content'], element: 'long-string' },
  ],
  completion: [
    { path: ['prompt'], element: 'a' },
    { path: ['stop'], element: 'a' },
    { path: ['prompt'], element: 'long-string' },
  ],
};

/** Stays under the server's default --payload-limit (2,000,000 bytes) with the rest of the body. */
const HUGE_BYTES = 1_800_000;

export type Mutation =
  | { op: 'replace'; at: number; value: Json }
  | { op: 'remove'; at: number }
  | { op: 'addKey'; at: number; key: string; value: Json }
  | { op: 'duplicateKey'; at: number; value: Json }
  | { op: 'setField'; field: number; value: Json }
  | { op: 'replaceRoot'; value: Json }
  | { op: 'deepField'; target: number; value: DeepNesting | DeepJsonString }
  | { op: 'numericField'; field: number; value: RawText };

export interface Huge {
  target: number;
  count: number;
}

export type Framing =
  | { kind: 'json' }
  | { kind: 'truncated'; keep: number }
  | { kind: 'trailing'; garbage: string }
  | { kind: 'text'; text: string }
  | { kind: 'bom' };

export interface FuzzCase {
  route: Route;
  base: number;
  mutations: Mutation[];
  huge: Huge | null;
  framing: Framing;
  /** null: no content-type header at all. */
  contentType: string | null;
}

// ---- values

const EXTREME_NUMBERS = [
  '0',
  '-1',
  '1',
  '-0',
  '0.0',
  '-0.0',
  '1e308',
  '-1e308',
  '1e309',
  '-1e309',
  '1e-320',
  '5e-324',
  '2.5',
  '0.5',
  '-0.5',
  '2',
  '3',
  '255',
  '256',
  '4294967295',
  '4294967296',
  '-2147483649',
  '2147483648',
  '9007199254740991',
  '9007199254740993',
  '18446744073709551615',
  '18446744073709551616',
  '123456789012345678901234567890',
  '-123456789012345678901234567890',
  '1.0000000000000002',
  '1E2',
  '1e+2',
  '0.1e1',
];
/** Numbers for numeric fields: the extremes and the edges of the ranges the server checks. */
const FIELD_NUMBERS = [
  ...EXTREME_NUMBERS,
  '1e-40',
  '1e-10',
  '1e-7',
  '1e30',
  '0.999999999',
  '1.0000001',
  '-2',
  '-2.0000001',
  '2.0000001',
  '-100',
  '100',
  '100.5',
  '-101',
  '5',
  '6',
  '20',
  '21',
  '128',
  '129',
  '511',
  '512',
  '513',
  '1e2',
  '0.01',
];
const NAN_LIKE = ['NaN', '-NaN', 'Infinity', '-Infinity', 'inf', '1e999', '0x1F', ' 3 ', '', 'null', 'true', '[]', '{}', '1_000', '٣'];
const ODD_STRINGS = [
  '\ud800',
  '\udfff',
  'a\ud800b',
  '\udc00\ud800',
  '\udbff\udfff',
  '\u0000',
  'a\u0000b',
  '\u202e\u202dright-to-left\u200f',
  '\u061c\u0645\u0631\u062d\u0628\u0627',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  'e\u0301\u0301\u0301\u0301',
  'Z̴̡̧̛̛̛̭̜͎a̵l̶g̷o̸',
  '\u200b\u200c\u200d\ufeff',
  '\ufffd\uffff\ufffe',
  '\u2028\u2029',
  '\r\n\t\u000b\f',
  '<s></s><|im_end|><|endoftext|>',
  '{{ raise_exception("x") }}',
  '{% for x in range(10**9) %}',
  '${}',
  '%s%n',
  '\\u0000',
  '\\',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const UNKNOWN_KEYS = [
  'extra',
  'unknown_field',
  '',
  ' ',
  'max_new_tokens',
  'stream',
  'inputs',
  'messages',
  'prompt',
  'parameters',
  'type',
  'ä',
  '\ud800',
  ...PROTO_KEYS,
];

const depth = fc.oneof(fc.integer({ min: 100, max: 1000 }), fc.integer({ min: 1000, max: 10_000 }), fc.constant(10_000));
const shape = fc.constantFrom<NestingShape>('array', 'object', 'mixed');

const primitive: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -5, max: 10 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

const wrongType: fc.Arbitrary<Json> = fc.oneof(
  primitive,
  fc.constant<Json>([]),
  fc.constant<Json>(new JsonObject()),
  fc.array(primitive, { maxLength: 4 }),
  fc
    .array(fc.tuple(fc.constantFrom(...UNKNOWN_KEYS, 'role', 'content', 'text', 'name'), primitive), { maxLength: 3 })
    .map((entries) => new JsonObject(entries)),
);

const protoObject: fc.Arbitrary<Json> = fc
  .array(
    fc.tuple(
      fc.constantFrom(...PROTO_KEYS),
      fc.oneof(primitive, fc.constant(fromPlain({ polluted: true, max_new_tokens: 100000, inputs: 'x' }))),
    ),
    { minLength: 1, maxLength: 3 },
  )
  .map((entries) => new JsonObject(entries));

const deepValue: fc.Arbitrary<Json> = fc.oneof(
  fc.tuple(shape, depth).map(([s, d]) => new DeepNesting(s, d)),
  fc.tuple(shape, depth).map(([s, d]) => new DeepJsonString(s, d)),
  fc.tuple(shape, depth).map(([s, d]) => new JsonObject([['nested', new DeepNesting(s, d)]])),
);

const oddString: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(...ODD_STRINGS),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.array(fc.constantFrom(...ODD_STRINGS), { minLength: 2, maxLength: 4 }).map((parts) => parts.join('')),
);

export const fuzzValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 10, arbitrary: wrongType },
  { weight: 7, arbitrary: fc.constantFrom(...EXTREME_NUMBERS).map((n) => new RawText(n)) },
  { weight: 5, arbitrary: oddString },
  { weight: 2, arbitrary: fc.constantFrom(...NAN_LIKE) },
  { weight: 4, arbitrary: deepValue },
  { weight: 2, arbitrary: protoObject },
  { weight: 2, arbitrary: fc.array(oddString, { minLength: 1, maxLength: 3 }) },
);

const selector = fc.nat({ max: 10_000 });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('replace' as const), at: selector, value: fuzzValue }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), at: selector }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('addKey' as const), at: selector, key: fc.constantFrom(...UNKNOWN_KEYS), value: fuzzValue }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicateKey' as const), at: selector, value: fuzzValue }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('setField' as const), field: selector, value: fuzzValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('replaceRoot' as const), value: fuzzValue }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('numericField' as const),
      field: selector,
      value: fc.constantFrom(...FIELD_NUMBERS).map((n) => new RawText(n)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('deepField' as const),
      target: selector,
      value: fc.oneof(
        fc.tuple(shape, depth).map(([s, d]) => new DeepNesting(s, d)),
        fc.tuple(shape, depth).map(([s, d]) => new DeepJsonString(s, d)),
      ),
    }),
  },
);

const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 92, arbitrary: fc.constant({ kind: 'json' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('truncated' as const), keep: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('trailing' as const),
      garbage: fc.constantFrom('}', ']', ',', ' x', '\u0000', '{}', '\n{"a":1}', 'null'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: fc.constantFrom('', '   ', 'not json', '{', '[', '"', 'inputs=hi', '{"inputs": "hi",}', "{'inputs': 'hi'}"),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'bom' as const }) },
);

const contentType: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 92, arbitrary: fc.constant('application/json') },
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      null,
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/vnd.api+json',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json-seq',
      '',
      'application/jsonx',
      '*/*',
    ),
  },
);

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.record({
  route: fc.constantFrom(...ROUTES),
  base: fc.nat(),
  mutations: fc.oneof(
    { weight: 1, arbitrary: fc.constant<Mutation[]>([]) },
    { weight: 9, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
  ),
  huge: fc.oneof(
    { weight: 200, arbitrary: fc.constant(null) },
    {
      weight: 1,
      arbitrary: fc.record({
        target: fc.nat(),
        count: fc.oneof(fc.integer({ min: 1000, max: 10_000 }), fc.integer({ min: 10_000, max: 100_000 })),
      }),
    },
  ),
  framing,
  contentType,
});

// ---- building the request

export interface FuzzRequest {
  route: Route;
  kind: BodyKind;
  contentType: string | null;
  text: string;
}

function applyMutation(root: Json, m: Mutation, kind: BodyKind): Json {
  const places = placesOf(root);
  switch (m.op) {
    case 'replace':
      if (places.length > 0) replaceAt(places[m.at % places.length], cloneJson(m.value));
      return root;
    case 'remove':
      if (places.length > 0) removeAt(places[m.at % places.length]);
      return root;
    case 'addKey': {
      const objects = objectsOf(root);
      if (objects.length > 0) objects[m.at % objects.length].entries.push([m.key, cloneJson(m.value)]);
      return root;
    }
    case 'duplicateKey': {
      const keyed = places.filter((p) => p.container instanceof JsonObject);
      if (keyed.length === 0) return root;
      const place = keyed[m.at % keyed.length] as { container: JsonObject; index: number };
      place.container.entries.push([place.container.entries[place.index][0], cloneJson(m.value)]);
      return root;
    }
    case 'setField': {
      const fields = FIELDS[kind];
      return setPath(root, fields[m.field % fields.length], cloneJson(m.value));
    }
    case 'replaceRoot':
      return cloneJson(m.value);
    case 'numericField': {
      const fields = NUMERIC_FIELDS[kind];
      return setPath(root, fields[m.field % fields.length], m.value);
    }
    case 'deepField': {
      const targets = DEEP_TARGETS[kind];
      return setPath(root, targets[m.target % targets.length], m.value);
    }
  }
}

function hugeValue(target: HugeTarget, count: number): Json {
  if (target.element === 'long-string') return new LongString('a ', Math.min(count * 10, HUGE_BYTES / 2));
  return new HugeArray(count, target.element, HUGE_BYTES);
}

export function baseOf(c: Pick<FuzzCase, 'route' | 'base'>): Base {
  const bases = BASES[c.route];
  return bases[c.base % bases.length];
}

export function buildRequest(c: FuzzCase): FuzzRequest {
  const base = baseOf(c);
  let root = fromPlain(base.body);
  for (const m of c.mutations) root = applyMutation(root, m, base.kind);
  if (c.huge) {
    const targets = HUGE_TARGETS[base.kind];
    const target = targets[c.huge.target % targets.length];
    root = setPath(root, target.path, hugeValue(target, c.huge.count));
  }
  const json = toJsonText(root);
  return { route: c.route, kind: base.kind, contentType: c.contentType, text: frame(json, c.framing) };
}

function frame(json: string, f: Framing): string {
  switch (f.kind) {
    case 'json':
      return json;
    case 'truncated':
      return json.slice(0, Math.floor(json.length * f.keep));
    case 'trailing':
      return json + f.garbage;
    case 'text':
      return f.text;
    case 'bom':
      return `\ufeff${json}`;
  }
}

export function validRequest(route: Route, index: number): FuzzRequest {
  return buildRequest({ route, base: index, mutations: [], huge: null, framing: { kind: 'json' }, contentType: 'application/json' });
}

/** For the report: the body text with the middle of a huge one cut out. */
export function shortened(text: string, max = 1500): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.7);
  const tail = max - head;
  return `${text.slice(0, head)} …[${text.length - max} chars cut]… ${text.slice(-tail)}`;
}
