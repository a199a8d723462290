// Regular expressions -> syntax tree: the subset ECMAScript (with the u flag) and Python's re share,
// read as a full-match constraint. Everything outside it is a RegexError naming the construct and
// its position (in code points from 0), never a silent change of meaning.
//
// Where the two dialects disagree the choice is: \d \w \s and `.` as in ECMAScript (see
// char-classes.ts); a `{` that does not open a well-formed `{m}`, `{m,}`, `{m,n}` or `{,n}` is a
// literal, as are a lone `]` and `}` (Python, and ECMAScript without the u flag); `[]` and `[^]`
// are refused, since ECMAScript reads them as an empty class and Python as the start of a class
// holding `]`. Recursion is bounded by limits.maxNesting, checked before each group is entered.
import type { RegexNode } from './ast.js';
import { classEscape, DOT } from './char-classes.js';
import { type CodePointRange, type CodePointSet, complement, isSurrogate, normalize, singleton } from './code-point-set.js';
import { compileStep } from '../deadline.js';
import { RegexError } from './error.js';
import { DEFAULT_REGEX_LIMITS, type RegexLimits } from './limits.js';

export function parseRegex(pattern: string, limits: RegexLimits = DEFAULT_REGEX_LIMITS): RegexNode {
  // A string of more than 2n UTF-16 units has more than n code points: refuse it before splitting.
  const codePoints = pattern.length > 2 * limits.maxPatternLength ? undefined : Array.from(pattern, (c) => c.codePointAt(0)!);
  if (!codePoints || codePoints.length > limits.maxPatternLength) {
    throw new RegexError(`the pattern is longer than ${limits.maxPatternLength} characters`);
  }
  return new Parser(codePoints, limits).parsePattern();
}

/** A class atom: one code point (which may bound a range) or a class escape such as \d. */
type ClassAtom = { readonly codePoint: number } | { readonly set: CodePointSet };

const EMPTY: RegexNode = { type: 'empty' };
const GROUP_NAME = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;
const INLINE_FLAG = /^[aiLmsux-]$/;
const ASCII_ALPHANUMERIC = /^[A-Za-z0-9]$/;
const DIGIT = /^[0-9]$/;
const HEX_DIGIT = /^[0-9A-Fa-f]$/;

class Parser {
  private pos = 0;
  private readonly groupNames = new Set<string>();

  constructor(
    private readonly codePoints: readonly number[],
    private readonly limits: RegexLimits,
  ) {}

  parsePattern(): RegexNode {
    const node = this.parseAlternation(0);
    if (this.pos < this.codePoints.length) this.fail(`unmatched ) at position ${this.pos}`, this.pos);
    return node;
  }

  private parseAlternation(depth: number): RegexNode {
    const options = [this.parseSequence(depth)];
    while (this.peek() === '|') {
      this.pos++;
      options.push(this.parseSequence(depth));
    }
    return options.length === 1 ? options[0] : { type: 'alternation', options };
  }

  private parseSequence(depth: number): RegexNode {
    const items: RegexNode[] = [];
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      // The constraint is a full match, so ^ and $ where they can only match at the ends of the
      // text change nothing: at the start and end of a top-level alternative.
      if (c === '^') {
        if (depth === 0 && this.pos === start) {
          this.pos++;
          continue;
        }
        this.fail(`anchor ^ at position ${this.pos} is not supported: ^ is accepted only at the start of the pattern`, this.pos);
      }
      if (c === '$') {
        const after = this.peekAt(1);
        if (depth === 0 && (after === undefined || after === '|')) {
          this.pos++;
          continue;
        }
        this.fail(`anchor $ at position ${this.pos} is not supported: $ is accepted only at the end of the pattern`, this.pos);
      }
      items.push(this.parseQuantified(this.parseAtom(depth)));
    }
    if (items.length === 0) return EMPTY;
    return items.length === 1 ? items[0] : { type: 'sequence', items };
  }

  private parseAtom(depth: number): RegexNode {
    compileStep();
    const start = this.pos;
    const c = this.peek()!;
    switch (c) {
      case '(':
        return this.parseGroup(depth);
      case '[':
        return this.parseClass();
      case '.':
        this.pos++;
        return { type: 'chars', set: DOT };
      case '\\': {
        const atom = this.parseEscape(false);
        return { type: 'chars', set: 'set' in atom ? atom.set : this.literalSet(atom.codePoint, start) };
      }
      case '*':
      case '+':
      case '?':
        return this.fail(`nothing to repeat before ${c} at position ${start}`, start);
      case '{':
        if (this.quantifierEnd(start) !== undefined)
          this.fail(`nothing to repeat before ${this.quantifierText(start)} at position ${start}`, start);
    }
    this.pos++;
    return { type: 'chars', set: this.literalSet(this.codePoints[start], start) };
  }

  private literalSet(codePoint: number, position: number): CodePointSet {
    if (isSurrogate(codePoint)) {
      this.fail(`lone surrogate ${hexName(codePoint)} at position ${position} is not a character: no UTF-8 text contains it`, position);
    }
    return singleton(codePoint);
  }

  private parseQuantified(item: RegexNode): RegexNode {
    const start = this.pos;
    const bounds = this.readQuantifier();
    if (!bounds) return item;
    const lazy = this.peek() === '?';
    if (lazy) this.pos++;
    const next = this.peek();
    if (next === '*' || next === '+' || next === '?' || (next === '{' && this.quantifierEnd(this.pos) !== undefined)) {
      const text = next === '{' ? this.quantifierText(this.pos) : next;
      this.fail(
        `nothing to repeat before ${text} at position ${this.pos}: it follows the quantifier at position ${start} (possessive quantifiers are not supported; group the repetition to repeat it)`,
        this.pos,
      );
    }
    return { type: 'repeat', item, min: bounds.min, max: bounds.max, lazy };
  }

  /** The quantifier at the current position, consumed, or undefined (and nothing consumed). */
  private readQuantifier(): { min: number; max: number } | undefined {
    const start = this.pos;
    switch (this.peek()) {
      case '*':
        this.pos++;
        return { min: 0, max: Infinity };
      case '+':
        this.pos++;
        return { min: 1, max: Infinity };
      case '?':
        this.pos++;
        return { min: 0, max: 1 };
      case '{':
        break;
      default:
        return undefined;
    }
    const end = this.quantifierEnd(start);
    if (end === undefined) return undefined;
    const [minText, maxText] = this.text(start + 1, end).split(',') as [string, string | undefined];
    const min = minText === '' ? 0 : this.repetitionCount(minText, start);
    const max = maxText === undefined ? min : maxText === '' ? Infinity : this.repetitionCount(maxText, start);
    if (max < min) this.fail(`bad repetition ${this.quantifierText(start)} at position ${start}: the maximum is below the minimum`, start);
    this.pos = end + 1;
    return { min, max };
  }

  private repetitionCount(digits: string, position: number): number {
    const count = Number(digits);
    if (count > this.limits.maxRepetition) {
      const shown = digits.length > 12 ? `${digits.slice(0, 12)}...` : digits;
      this.fail(`repetition count ${shown} at position ${position} is above the limit of ${this.limits.maxRepetition}`, position);
    }
    return count;
  }

  /** Where the `}` of a well-formed `{m}`, `{m,}`, `{m,n}` or `{,n}` opened at `start` is. */
  private quantifierEnd(start: number): number | undefined {
    let i = start + 1;
    const digitsFrom = (from: number): number => {
      let j = from;
      while (j < this.codePoints.length && DIGIT.test(this.charAt(j))) j++;
      return j;
    };
    const afterMin = digitsFrom(i);
    const hasMin = afterMin > i;
    i = afterMin;
    if (this.charAt(i) === ',') {
      const afterMax = digitsFrom(i + 1);
      if (!hasMin && afterMax === i + 1) return undefined;
      i = afterMax;
    } else if (!hasMin) return undefined;
    return this.charAt(i) === '}' ? i : undefined;
  }

  private quantifierText(start: number): string {
    return this.text(start, this.quantifierEnd(start)! + 1);
  }

  private parseGroup(depth: number): RegexNode {
    const start = this.pos;
    if (depth >= this.limits.maxNesting) this.fail(`groups nested deeper than ${this.limits.maxNesting} at position ${start}`, start);
    this.pos++;
    let capturing = true;
    let name: string | undefined;
    if (this.peek() === '?') {
      const kind = this.peekAt(1);
      const third = this.peekAt(2);
      const unsupported = (construct: string): never => this.fail(`${construct} at position ${start} is not supported`, start);
      if (kind === ':') {
        capturing = false;
        this.pos += 2;
      } else if (kind === '<' && third !== '=' && third !== '!') {
        this.pos += 2;
        name = this.readGroupName(start);
      } else if (kind === 'P' && third === '<') {
        this.pos += 3;
        name = this.readGroupName(start);
      } else if (kind === '=') unsupported('lookahead (?=');
      else if (kind === '!') unsupported('negative lookahead (?!');
      else if (kind === '<') unsupported(third === '=' ? 'lookbehind (?<=' : 'negative lookbehind (?<!');
      else if (kind === 'P' && third === '=') unsupported('backreference (?P=');
      else if (kind === '#') unsupported('comment group (?#');
      else if (kind === '>') unsupported('atomic group (?>');
      else if (kind === '(') unsupported('conditional group (?(');
      else if (kind !== undefined && INLINE_FLAG.test(kind)) unsupported(`inline flags (?${kind}`);
      else this.fail(`unknown group syntax (?${kind ?? ''} at position ${start}`, start);
    }
    const item = this.parseAlternation(depth + 1);
    if (this.peek() !== ')') this.fail(`unbalanced parenthesis: ( at position ${start} is not closed`, start);
    this.pos++;
    return name === undefined ? { type: 'group', item, capturing } : { type: 'group', item, capturing, name };
  }

  private readGroupName(groupStart: number): string {
    const nameStart = this.pos;
    while (this.pos < this.codePoints.length && this.peek() !== '>') this.pos++;
    if (this.pos >= this.codePoints.length) this.fail(`unterminated group name at position ${groupStart}`, groupStart);
    const name = this.text(nameStart, this.pos);
    this.pos++;
    if (!GROUP_NAME.test(name)) this.fail(`bad group name '${name}' at position ${groupStart}`, groupStart);
    if (this.groupNames.has(name)) this.fail(`duplicate group name '${name}' at position ${groupStart}`, groupStart);
    this.groupNames.add(name);
    return name;
  }

  private parseClass(): RegexNode {
    const start = this.pos;
    this.pos++;
    const negated = this.peek() === '^';
    if (negated) this.pos++;
    if (this.peek() === ']') {
      const written = negated ? '[^]' : '[]';
      this.fail(
        `${written} at position ${start} is ambiguous (an ${negated ? 'any-character' : 'empty'} class in JavaScript, a class holding ] in Python): write \\] for the character`,
        start,
      );
    }
    const ranges: CodePointRange[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail(`unterminated character class: [ at position ${start} is not closed`, start);
      if (c === ']') break;
      const itemStart = this.pos;
      const first = this.parseClassAtom();
      if (this.peek() === '-' && this.peekAt(1) !== ']' && this.peekAt(1) !== undefined) {
        this.pos++;
        const last = this.parseClassAtom();
        if ('set' in first || 'set' in last) {
          this.fail(`bad range ${this.text(itemStart, this.pos)} at position ${itemStart}: a class escape cannot bound a range`, itemStart);
        }
        if (first.codePoint > last.codePoint) {
          this.fail(`bad range ${this.text(itemStart, this.pos)} at position ${itemStart}: its start is above its end`, itemStart);
        }
        ranges.push([first.codePoint, last.codePoint]);
      } else if ('set' in first) ranges.push(...first.set);
      else ranges.push(...this.literalSet(first.codePoint, itemStart));
    }
    this.pos++;
    const set = normalize(ranges);
    return { type: 'chars', set: negated ? complement(set) : set };
  }

  private parseClassAtom(): ClassAtom {
    if (this.peek() === '\\') return this.parseEscape(true);
    return { codePoint: this.codePoints[this.pos++] };
  }

  private parseEscape(inClass: boolean): ClassAtom {
    const start = this.pos;
    this.pos++;
    if (this.pos >= this.codePoints.length) this.fail(`trailing backslash at position ${start}`, start);
    const letter = this.charAt(this.pos++);
    const set = classEscape(letter);
    if (set) return { set };
    const unsupported = (construct: string, why = ''): never =>
      this.fail(`${construct} at position ${start} is not supported${why}`, start);
    switch (letter) {
      case 'n':
        return { codePoint: 0x0a };
      case 't':
        return { codePoint: 0x09 };
      case 'r':
        return { codePoint: 0x0d };
      case 'f':
        return { codePoint: 0x0c };
      case 'v':
        return { codePoint: 0x0b };
      case '0':
        if (DIGIT.test(this.peek() ?? '')) unsupported('octal escape \\0' + this.peek());
        return { codePoint: 0 };
      case 'x':
        return { codePoint: this.readHex(2, start, '\\x') };
      case 'u':
        return { codePoint: this.peek() === '{' ? this.readBracedHex(start) : this.readUnicodeEscape(start) };
      case 'U':
        return { codePoint: this.readHex(8, start, '\\U') };
      case 'b':
        if (inClass) return { codePoint: 0x08 };
        return unsupported('word boundary \\b');
      case 'B':
        return unsupported('non-word boundary \\B');
      case 'A':
      case 'Z':
      case 'z':
      case 'G':
        return unsupported(`anchor \\${letter}`, ' (the pattern always matches the whole text; ^ and $ are accepted at its ends)');
      case 'k':
        return unsupported('backreference \\k');
      case 'p':
      case 'P':
        return unsupported(`Unicode property escape \\${letter}`);
      case 'c':
        return unsupported('control escape \\c');
    }
    if (DIGIT.test(letter)) return unsupported(`${inClass ? 'octal escape' : 'backreference'} \\${letter}`);
    if (ASCII_ALPHANUMERIC.test(letter)) this.fail(`unknown escape \\${letter} at position ${start}`, start);
    return { codePoint: this.codePoints[this.pos - 1] };
  }

  /** \uHHHH, where a high surrogate followed by \u and a low surrogate is one code point (as with the u flag). */
  private readUnicodeEscape(start: number): number {
    const unit = this.readHex(4, start, '\\u');
    if (unit >= 0xd800 && unit <= 0xdbff && this.peek() === '\\' && this.peekAt(1) === 'u') {
      const save = this.pos;
      this.pos += 2;
      const low = this.tryHex(4);
      if (low !== undefined && low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
      this.pos = save;
    }
    return unit;
  }

  private readBracedHex(start: number): number {
    this.pos++;
    let value = 0;
    let digits = 0;
    while (HEX_DIGIT.test(this.peek() ?? '')) {
      value = value * 16 + parseInt(this.charAt(this.pos++), 16);
      digits++;
      if (value > 0x10ffff) this.fail(`\\u{...} at position ${start} is beyond U+10FFFF`, start);
    }
    if (digits === 0 || this.peek() !== '}') this.fail(`\\u{ at position ${start} needs hex digits and a closing }`, start);
    this.pos++;
    return value;
  }

  private readHex(count: number, start: number, escape: string): number {
    const value = this.tryHex(count);
    if (value === undefined) this.fail(`${escape} at position ${start} needs ${count} hex digits`, start);
    if (value > 0x10ffff) this.fail(`${escape} at position ${start} is beyond U+10FFFF`, start);
    return value;
  }

  private tryHex(count: number): number | undefined {
    const digits = this.text(this.pos, this.pos + count);
    if (digits.length !== count || ![...digits].every((d) => HEX_DIGIT.test(d))) return undefined;
    this.pos += count;
    return parseInt(digits, 16);
  }

  private peek(): string | undefined {
    return this.peekAt(0);
  }

  private peekAt(offset: number): string | undefined {
    const i = this.pos + offset;
    return i < this.codePoints.length ? this.charAt(i) : undefined;
  }

  private charAt(i: number): string {
    const c = this.codePoints[i];
    return c === undefined ? '' : String.fromCodePoint(c);
  }

  private text(from: number, to: number): string {
    return String.fromCodePoint(...this.codePoints.slice(from, Math.min(to, this.codePoints.length)));
  }

  private fail(message: string, position: number): never {
    throw new RegexError(message, position);
  }
}

function hexName(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}
