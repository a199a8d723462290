// The library's Interpreter with jinja2's semantics, given through its public `evaluate` where the two differ.
import {
  ArrayValue,
  BooleanValue,
  EVALUATED,
  Environment,
  FunctionValue,
  Interpreter,
  ObjectValue,
  StringValue,
  UndefinedValue,
  evaluated,
  isDict,
  isString,
  type Arguments,
  type Callable,
  type RuntimeValue,
  type SyntaxNode,
} from './runtime.js';
import { IntegerKeyedDict, IteratorValue, dictKey, pairsOf } from './python-types.js';
import { pythonIteration, pythonStr, pythonTypeName } from './python-values.js';
import { STRING_METHODS } from './python-strings.js';
import { pythonBinaryOperation } from './operators.js';
import { TESTS, TEXT_FILTERS, jinja2Filter } from './filters.js';
import { LoopControl, loopObject } from './loop.js';

export class Jinja2CompatibleInterpreter extends Interpreter {
  constructor(
    environment: Environment,
    private readonly printedExpressions: WeakSet<SyntaxNode>,
  ) {
    super(environment);
  }

  override evaluate(node: SyntaxNode | undefined, environment: Environment): RuntimeValue {
    if (node === undefined) return super.evaluate(node, environment);
    const value = this.evaluateNode(node, environment);
    return this.printedExpressions.has(node) ? this.printed(value) : value;
  }

  private evaluateNode(node: SyntaxNode, environment: Environment): RuntimeValue {
    switch (node.type) {
      case EVALUATED:
        return node.value;
      case 'FilterExpression':
        return this.filter(node, environment);
      case 'TestExpression':
        return this.test(node, environment);
      case 'BinaryExpression':
        return this.binary(node, environment);
      case 'MemberExpression':
        return this.member(node, environment);
      case 'CallExpression':
        return this.call(node, environment);
      case 'ObjectLiteral':
        return this.dictLiteral(node, environment);
      case 'For':
        return this.forLoop(node, environment);
      case 'Macro':
        return this.macro(node, environment);
      case 'If':
        return new StringValue(
          this.block(this.evaluate(node.test, environment).__bool__().value ? node.body : node.alternate, environment),
        );
      case 'Break':
        throw new LoopControl('break');
      case 'Continue':
        throw new LoopControl('continue');
      default:
        return super.evaluate(node, environment);
    }
  }

  /** jinja2 prints str(value): None, True, dicts and lists in Python's spelling. */
  private printed(value: RuntimeValue): RuntimeValue {
    if (isString(value) || value.type === 'UndefinedValue') return value;
    return new StringValue(pythonStr(value));
  }

  private arguments(nodes: SyntaxNode[], environment: Environment): Arguments {
    const positional: RuntimeValue[] = [];
    const named = new Map<string, RuntimeValue>();
    for (const argument of nodes) {
      if (argument.type === 'KeywordArgumentExpression') named.set(argument.key.value, this.evaluate(argument.value, environment));
      else if (argument.type === 'SpreadExpression' || argument.type === 'KeywordSpreadExpression')
        throw new Error('argument unpacking is not supported here');
      else positional.push(this.evaluate(argument, environment));
    }
    return [positional, named];
  }

  private filter(node: SyntaxNode, environment: Environment): RuntimeValue {
    const operand = this.evaluate(node.operand, environment);
    const call: SyntaxNode | undefined = node.filter.type === 'CallExpression' ? node.filter : undefined;
    const name: string = call ? call.callee.value : node.filter.value;
    const handled = jinja2Filter(name, operand, () => this.arguments(call?.args ?? [], environment), {
      environment,
      runFilter: (filter, item) => this.filter({ type: 'FilterExpression', operand: evaluated(item), filter }, environment),
    });
    if (handled) return handled;
    const input = TEXT_FILTERS.has(name) && !isString(operand) ? new StringValue(pythonStr(operand)) : operand;
    const result = super.evaluate({ type: 'FilterExpression', operand: evaluated(input), filter: node.filter }, environment);
    return name === 'dictsort' ? new ArrayValue(pairsOf(result.value)) : result;
  }

  private test(node: SyntaxNode, environment: Environment): RuntimeValue {
    const operand = this.evaluate(node.operand, environment);
    const check = TESTS[node.test.value];
    if (!check) return super.evaluate({ ...node, operand: evaluated(operand) }, environment);
    const result = check(operand);
    return new BooleanValue(node.negate ? !result : result);
  }

  private binary(node: SyntaxNode, environment: Environment): RuntimeValue {
    const operator: string = node.operator.value;
    if (operator === 'and' || operator === 'or') return super.evaluate(node, environment);
    const left = this.evaluate(node.left, environment);
    const right = this.evaluate(node.right, environment);
    if (operator === '+' && (left.type === 'UndefinedValue' || right.type === 'UndefinedValue')) {
      throw new Error(`${describeUndefined(left.type === 'UndefinedValue' ? node.left : node.right)} is undefined`);
    }
    return (
      pythonBinaryOperation(operator, left, right) ??
      super.evaluate({ ...node, left: evaluated(left), right: evaluated(right) }, environment)
    );
  }

  /** jinja2 raises when reading an attribute or item of an undefined value; dicts may have integer keys. */
  private member(node: SyntaxNode, environment: Environment): RuntimeValue {
    const object = this.evaluate(node.object, environment);
    if (object.type === 'UndefinedValue') throw new Error(`${describeUndefined(node.object)} is undefined`);
    if (object instanceof IteratorValue && node.computed) throw new Error(`'${object.pythonType}' object is not subscriptable`);
    if (object instanceof IntegerKeyedDict && node.computed && node.property.type !== 'SliceExpression') {
      const key = dictKey(object, this.evaluate(node.property, environment));
      return (key !== undefined ? object.value.get(key) : undefined) ?? new UndefinedValue();
    }
    return super.evaluate({ ...node, object: evaluated(object) }, environment);
  }

  private call(node: SyntaxNode, environment: Environment): RuntimeValue {
    const callee: SyntaxNode = node.callee;
    if (callee.type !== 'MemberExpression' || callee.computed) return super.evaluate(node, environment);
    const object = this.evaluate(callee.object, environment);
    if (object.type === 'UndefinedValue') throw new Error(`${describeUndefined(callee.object)} is undefined`);
    const stringMethod = STRING_METHODS[callee.property.value];
    if (isString(object) && stringMethod) return stringMethod(object.value, ...this.arguments(node.args, environment));
    if (isDict(object) && callee.property.value === 'items' && node.args.length === 0) return new ArrayValue(pairsOf(object.items().value));
    const method = super.evaluate({ ...callee, object: evaluated(object) }, environment);
    if (method.type === 'UndefinedValue') throw new Error(`'${pythonTypeName(object)} object' has no attribute '${callee.property.value}'`);
    return super.evaluate({ ...node, callee: evaluated(method) }, environment);
  }

  private dictLiteral(node: SyntaxNode, environment: Environment): RuntimeValue {
    const entries = new Map<string, RuntimeValue>();
    const originalKeys = new Map<string, RuntimeValue>();
    for (const [keyNode, valueNode] of node.value as Map<SyntaxNode, SyntaxNode>) {
      const key = this.evaluate(keyNode, environment);
      if (!isString(key) && key.type !== 'IntegerValue') throw new Error(`dict keys of type ${pythonTypeName(key)} are not supported`);
      const encoded = String(key.value);
      if (originalKeys.has(encoded) && originalKeys.get(encoded)!.type !== key.type)
        throw new Error(`dict keys ${encoded} and '${encoded}' together are not supported`);
      originalKeys.set(encoded, key);
      entries.set(encoded, this.evaluate(valueNode, environment));
    }
    const hasIntegerKeys = Array.from(originalKeys.values()).some((key) => key.type === 'IntegerValue');
    return hasIntegerKeys ? new IntegerKeyedDict(entries, originalKeys) : new ObjectValue(entries);
  }

  /**
   * jinja2 macros see the variables where they are defined, not the caller's; the library runs a macro
   * in the calling scope, so the macro it defines is given the defining scope instead (and `caller`
   * when a call block invokes it).
   */
  private macro(node: SyntaxNode, environment: Environment): RuntimeValue {
    const result = super.evaluate(node, environment);
    const name: string = node.name.value;
    const body = environment.lookupVariable(name).value as Callable;
    environment.setVariable(
      name,
      new FunctionValue((args, callingScope) => {
        const scope = new Environment(environment);
        const caller = callingScope.variables.get('caller');
        if (caller) scope.setVariable('caller', caller);
        return body(args, scope);
      }),
    );
    return result;
  }

  /**
   * The output of a block's statements. Output made before a `{% break %}`/`{% continue %}` is kept,
   * as jinja2 streams it.
   */
  private block(statements: SyntaxNode[], environment: Environment): string {
    let output = '';
    for (const statement of statements) {
      try {
        const value = this.evaluate(statement, environment);
        if (value.type !== 'NullValue' && value.type !== 'UndefinedValue') output += pythonStr(value);
      } catch (error) {
        if (error instanceof LoopControl) error.partialOutput = output + error.partialOutput;
        throw error;
      }
    }
    return output;
  }

  /**
   * jinja2's for loop: each iteration has its own scope (a `set` does not carry over to the next one),
   * strings iterate by character, undefined iterates as empty, and the else block renders when no
   * iteration ran to its end.
   */
  private forLoop(node: SyntaxNode, environment: Environment): RuntimeValue {
    const filtered = node.iterable.type === 'SelectExpression';
    let items = pythonIteration(this.evaluate(filtered ? node.iterable.lhs : node.iterable, environment));
    if (filtered) {
      items = items.filter((item) => {
        const scope = new Environment(environment);
        this.bindLoopVariable(node.loopvar, item, scope);
        return this.evaluate(node.iterable.test, scope).__bool__().value;
      });
    }
    let output = '';
    let anIterationCompleted = false;
    const changedSince = { last: undefined as RuntimeValue[] | undefined };
    for (let index = 0; index < items.length; index++) {
      const scope = new Environment(environment);
      scope.setVariable('loop', loopObject(items, index, changedSince));
      this.bindLoopVariable(node.loopvar, items[index], scope);
      try {
        output += this.block(node.body, scope);
        anIterationCompleted = true;
      } catch (error) {
        if (!(error instanceof LoopControl)) throw error;
        output += error.partialOutput;
        if (error.kind === 'break') break;
      }
    }
    if (!anIterationCompleted) output += this.block(node.defaultBlock, new Environment(environment));
    return new StringValue(output);
  }

  private bindLoopVariable(target: SyntaxNode, item: RuntimeValue, scope: Environment): void {
    if (target.type === 'Identifier') {
      scope.setVariable(target.value, item);
      return;
    }
    const names = target.value as SyntaxNode[];
    const values = pythonIteration(item);
    if (values.length !== names.length) {
      throw new Error(
        values.length > names.length
          ? `too many values to unpack (expected ${names.length})`
          : `not enough values to unpack (expected ${names.length}, got ${values.length})`,
      );
    }
    names.forEach((name, i) => scope.setVariable(name.value, values[i]));
  }
}

function describeUndefined(node: SyntaxNode): string {
  if (node.type === 'Identifier') return `'${node.value}'`;
  if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier')
    return `'${describeUndefined(node.object).replaceAll("'", '')}.${node.property.value}'`;
  return 'a value';
}
