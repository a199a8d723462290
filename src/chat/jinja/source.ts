// Preparing a template's source and parse tree: `{% generation %}` rewrite, variable use, printed expressions.
import { tokenize } from '@huggingface/jinja';
import type { LexerToken, SyntaxNode } from './runtime.js';

const STATEMENT_TYPES = new Set([
  'Program',
  'If',
  'For',
  'Break',
  'Continue',
  'Set',
  'Macro',
  'Comment',
  'CallStatement',
  'FilterStatement',
]);
const GENERATION_MACRO = '__tgi_node_generation_block';

/**
 * transformers accepts `{% generation %}...{% endgeneration %}` (it only marks the assistant's span).
 * jinja2 runs the body as a call block, so the body gets its own scope; a call block of a macro that
 * returns `caller()` is the same construct here. The tags keep their whitespace-control dashes and stay
 * block tags, so trim_blocks and lstrip_blocks treat them exactly as before.
 */
export function rewriteGenerationBlocks(source: string): string {
  const opening = /\{%(-?)\s*generation\s*(-?)%\}/g;
  if (!opening.test(source)) return source;
  const rewritten = source
    .replace(opening, (_tag, before: string, after: string) => `{%${before} call ${GENERATION_MACRO}() ${after}%}`)
    .replace(/\{%(-?)\s*endgeneration\s*(-?)%\}/g, (_tag, before: string, after: string) => `{%${before} endcall ${after}%}`);
  // Defined ahead of everything and printing nothing; trim_blocks eats the newline after it, which
  // keeps the template's first line at the start of a line for lstrip_blocks.
  return `{% macro ${GENERATION_MACRO}() %}{{ caller() }}{% endmacro %}\n` + rewritten;
}

export function referencesVariable(source: string, name: string): boolean {
  let tokens: LexerToken[];
  try {
    tokens = tokenize(source, { lstrip_blocks: true, trim_blocks: true }) as LexerToken[];
  } catch {
    return false;
  }
  return tokens.some(
    (token, index) =>
      token.type === 'Identifier' &&
      token.value === name &&
      tokens[index - 1]?.type !== 'Dot' &&
      // `f(tools=...)` names a keyword argument, not the variable.
      tokens[index + 1]?.type !== 'Equals',
  );
}

/** Expressions whose value a block prints (`{{ ... }}` and template text), found once per template. */
export function collectPrintedExpressions(statements: SyntaxNode[], printed: WeakSet<SyntaxNode>): void {
  for (const node of statements) {
    if (!STATEMENT_TYPES.has(node.type)) {
      printed.add(node);
      continue;
    }
    for (const field of ['body', 'alternate', 'defaultBlock']) {
      if (Array.isArray(node[field])) collectPrintedExpressions(node[field], printed);
    }
  }
}
