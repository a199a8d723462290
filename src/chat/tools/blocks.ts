// The shape most formats share: calls in blocks that a marker opens, text between them. Content is
// the text outside the blocks (a possible marker held back at the end while the text may grow); a
// block that turns out not to hold a call is text too.
import type { ParsedCall, ParsedOutput } from './format.js';
import { heldBack } from './json-scan.js';

export interface BlockRead {
  readonly calls: readonly ParsedCall[];
  /** Just past the block; null while it is still being written (or nothing follows it yet). */
  readonly end: number | null;
  /** The text after the marker is not a block of calls and cannot become one. */
  readonly invalid: boolean;
}

export interface BlockSyntax {
  readonly opener: string;
  /** Reads the block whose opener ends just before `at`. */
  read(text: string, at: number, final: boolean): BlockRead;
  /** Markers held back at the end of content (default: the opener). */
  readonly held?: readonly string[];
  /** Content as the format returns it (framing tags of its own removed, say). */
  readonly content?: (text: string) => string;
}

export function parseBlocks(text: string, final: boolean, syntax: BlockSyntax): ParsedOutput {
  const clean = syntax.content ?? ((t: string) => t);
  let content = '';
  const calls: ParsedCall[] = [];
  let pos = 0;
  for (;;) {
    const open = text.indexOf(syntax.opener, pos);
    if (open < 0) {
      const tail = text.slice(pos);
      content += clean(final ? tail : tail.slice(0, tail.length - heldBack(tail, syntax.held ?? [syntax.opener])));
      break;
    }
    content += clean(text.slice(pos, open));
    const block = syntax.read(text, open + syntax.opener.length, final);
    calls.push(...block.calls);
    if (block.invalid) {
      if (final) content += clean(text.slice(open));
      break;
    }
    if (block.end === null) break;
    pos = block.end;
  }
  return { content, calls };
}

/** A block of at most one call: invalid when it ended (or the text did) without one. */
export function oneCallBlock(found: { call?: ParsedCall; end: number | null }, final: boolean): BlockRead {
  if (found.call) return { calls: [found.call], end: found.end, invalid: false };
  return { calls: [], end: null, invalid: final || found.end !== null };
}
