// The @huggingface/jinja runtime values, syntax nodes, Environment and Interpreter, typed as far as these modules use them.
import { Environment as LibraryEnvironment, Interpreter as LibraryInterpreter } from '@huggingface/jinja';

// The library's type declarations import their siblings without file extensions, which NodeNext
// cannot resolve, so the shapes are declared here.

export interface RuntimeValue {
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- typed by each value type
  value: any; // what each value type holds: string, number, RuntimeValue[], Map, ...
  __bool__(): RuntimeValue;
}

export interface ObjectRuntimeValue extends RuntimeValue {
  value: Map<string, RuntimeValue>;
  keys(): RuntimeValue;
  items(): RuntimeValue;
}

export interface SyntaxNode {
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- typed by each node type
  [field: string]: any; // the node type's own fields
}

export interface LexerToken {
  value: string;
  type: string;
}

export type TestFunction = (...operands: RuntimeValue[]) => boolean;

export interface Environment {
  set(name: string, value: unknown): RuntimeValue;
  setVariable(name: string, value: RuntimeValue): RuntimeValue;
  lookupVariable(name: string): RuntimeValue;
  variables: Map<string, RuntimeValue>;
  tests: ReadonlyMap<string, TestFunction>;
}

export interface Interpreter {
  run(program: SyntaxNode): RuntimeValue;
  evaluate(node: SyntaxNode | undefined, environment: Environment): RuntimeValue;
}

export const Environment = LibraryEnvironment as new (parent?: Environment) => Environment;
export const Interpreter = LibraryInterpreter as new (environment: Environment) => Interpreter;

/** The arguments of a call: positional, then named. */
export type Arguments = [RuntimeValue[], Map<string, RuntimeValue>];

/** The library exports no value classes; converting a sample JS value yields an instance of each. */
function runtimeClassOf<T extends RuntimeValue = RuntimeValue>(sample: unknown): new (value?: unknown) => T {
  return (new Environment().set('sample', sample) as RuntimeValue).constructor as new (value?: unknown) => T;
}

export const StringValue = runtimeClassOf('');
export const IntegerValue = runtimeClassOf(0);
export const FloatValue = runtimeClassOf(0.5);
export const BooleanValue = runtimeClassOf(false);
export const ArrayValue = runtimeClassOf([]);
export const ObjectValue = runtimeClassOf<ObjectRuntimeValue>({});
export const UndefinedValue = runtimeClassOf(undefined);
export type Callable = (args: RuntimeValue[], scope: Environment) => RuntimeValue;
export const FunctionValue = runtimeClassOf(() => undefined) as new (call: Callable) => RuntimeValue;

/** A syntax node standing for a value already computed, so the library never evaluates an operand twice. */
export const EVALUATED = '__tgi_node_evaluated';

export function evaluated(value: RuntimeValue): SyntaxNode {
  return { type: EVALUATED, value };
}

export function isString(value: RuntimeValue): boolean {
  return value.type === 'StringValue';
}

export function isDict(value: RuntimeValue): value is ObjectRuntimeValue {
  return value.type === 'ObjectValue' || value.type === 'KeywordArgumentsValue';
}

export function isList(value: RuntimeValue): boolean {
  return value.type === 'ArrayValue' || value.type === 'TupleValue';
}

export function isNumber(value: RuntimeValue): boolean {
  return value.type === 'IntegerValue' || value.type === 'FloatValue' || value.type === 'BooleanValue';
}
