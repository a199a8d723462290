// Python's binary operators where the library's differ: ~, + (Markup-aware), ==, in, sequence *, string order.
import { ArrayValue, BooleanValue, StringValue, isList, isString, type RuntimeValue } from './runtime.js';
import { markup, markupStrings } from './python-types.js';
import { compareCodePoints, pythonContains, pythonEquals, pythonStr, pythonTypeName } from './python-values.js';

/** `left operator right` with Python's semantics; undefined where the library's own result is right. */
export function pythonBinaryOperation(operator: string, left: RuntimeValue, right: RuntimeValue): RuntimeValue | undefined {
  switch (operator) {
    case '~':
      return new StringValue(pythonStr(left) + pythonStr(right));
    case '+':
      if (isString(left) || isString(right)) return addStrings(left, right);
      break;
    case '==':
      return new BooleanValue(pythonEquals(left, right));
    case '!=':
      return new BooleanValue(!pythonEquals(left, right));
    case 'in':
      return new BooleanValue(pythonContains(right, left));
    case 'not in':
      return new BooleanValue(!pythonContains(right, left));
    case '*':
      if ((isString(left) || isList(left)) && right.type === 'IntegerValue') return repeated(left, right.value);
      if ((isString(right) || isList(right)) && left.type === 'IntegerValue') return repeated(right, left.value);
      break;
    case '<':
    case '>':
    case '<=':
    case '>=':
      if (isString(left) && isString(right)) return new BooleanValue(compareWith(operator, compareCodePoints(left.value, right.value)));
      break;
  }
  return undefined;
}

function htmlEscape(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
  return text.replace(/[&<>"']/g, (character) => entities[character]);
}

/** Python's str + str; a str added to a Markup string (from `|safe`) is HTML-escaped first. */
function addStrings(left: RuntimeValue, right: RuntimeValue): RuntimeValue {
  for (const value of [left, right]) {
    if (!isString(value)) throw new Error(`can only concatenate str (not "${pythonTypeName(value)}") to str`);
  }
  if (!markupStrings.has(left) && !markupStrings.has(right)) return new StringValue(left.value + right.value);
  const safe = (value: RuntimeValue) => (markupStrings.has(value) ? value.value : htmlEscape(value.value));
  return markup(safe(left) + safe(right));
}

function repeated(sequence: RuntimeValue, times: number): RuntimeValue {
  const count = Math.max(0, times);
  if (isString(sequence)) return new StringValue((sequence.value as string).repeat(count));
  return new ArrayValue(Array.from({ length: count }, () => sequence.value as RuntimeValue[]).flat());
}

function compareWith(operator: string, order: number): boolean {
  return operator === '<' ? order < 0 : operator === '>' ? order > 0 : operator === '<=' ? order <= 0 : order >= 0;
}
