// The layer rule: each folder of src/ is one layer, and imports run only downwards, from a tier to
// the tiers below it (never to a tier above, nor to another folder of its own tier). `npm run lint`
// checks it, and CI runs that before the tests. docs/architecture.md describes the layers;
// `node scripts/import-edges.mjs` prints the folder -> folder edges they were derived from.
// Type-only imports count: a layer that names a higher layer's types depends on it.

/** Top to bottom. A folder added to src/ must be placed here (the rule below fails until it is). */
const tiers = [
  ['bench', 'grammar-check'], // developer tools (benchmarks, the grammar checker)
  ['cli'], // the launcher: reads the configuration, starts the threads and the server
  ['server'], // the HTTP faces: routes, request lifecycle, permits, SSE
  ['preprocess'], // the preprocessing and grammar-compile threads
  ['validation'], // request bodies -> validated GenerationRequests
  ['response-cache', 'tracing', 'metrics', 'lora', 'watermark'], // services the server owns
  ['runtime'], // the engine thread's host: client, protocol, thread main
  ['scheduler'], // continuous batching, KV layout, sequences, stop criteria
  ['engine', 'vision'], // the backend: the Engine interface and llama.cpp through koffi; the image encoder (mtmd)
  ['chat', 'images'], // chat templates, messages, tool-call formats; image sources -> decoded pixels
  ['core'], // request and event contracts, the tokenizer seam
  ['api', 'grammar', 'sampling', 'hub', 'logging', 'threads'], // leaves: wire schemas, constraints, sampling, thread RPC...
];

const all = tiers.flat();
const alternatives = (folders) => `^src/(${folders.join('|')})/`;

const forbidden = tiers.flatMap((tier, index) => {
  const below = tiers.slice(index + 1).flat();
  return tier.map((folder) => ({
    name: `layer-${folder}`,
    comment: `src/${folder}/ may import only the layers below it: ${below.join(', ') || 'none'}`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: '^src/[^/]+/', pathNot: [`^src/${folder}/`, ...(below.length ? [alternatives(below)] : [])] },
  }));
});

forbidden.push({
  name: 'layer-unplaced',
  comment: 'every file of src/ lives in a folder placed in the tiers of .dependency-cruiser.cjs',
  severity: 'error',
  from: { path: '^src/', pathNot: alternatives(all) },
  to: {},
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden,
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
