// A generation's tool calls as they stream: the text parsed again as it grows, and what is new
// since the last parse sent as deltas. The final parse is the one a non-streamed response makes,
// so the deltas add up to exactly the non-streamed message.
import type { ParsedOutput, ToolCallFormat, ToolSpec } from './format.js';
import { parseOutput } from './output.js';

export type ToolDelta =
  | { readonly kind: 'content'; readonly text: string }
  /** The first delta of a call: its index among the calls, id and name. */
  | { readonly kind: 'call'; readonly index: number; readonly id: string; readonly name: string }
  | { readonly kind: 'arguments'; readonly index: number; readonly text: string };

export class ToolCallStream {
  private text = '';
  private contentSent = 0;
  private readonly argumentsSent: number[] = [];

  constructor(
    private readonly format: ToolCallFormat,
    private readonly newId: () => string,
    private readonly options: { readonly inReasoning?: boolean; readonly tools?: readonly ToolSpec[] } = {},
  ) {}

  push(text: string): ToolDelta[] {
    this.text += text;
    return this.deltas(parseOutput(this.format, this.text, { ...this.options, final: false }));
  }

  /** The last deltas, and the output as a whole. */
  finish(): { deltas: ToolDelta[]; output: ParsedOutput } {
    const output = parseOutput(this.format, this.text, { ...this.options, final: true });
    return { deltas: this.deltas(output), output };
  }

  /** Whether any call has been sent. */
  get hasCalls(): boolean {
    return this.argumentsSent.length > 0;
  }

  private deltas(output: ParsedOutput): ToolDelta[] {
    const deltas: ToolDelta[] = [];
    // A parse only adds to what came before; anything else (which a format must not do) is dropped.
    if (output.content.length > this.contentSent) {
      deltas.push({ kind: 'content', text: output.content.slice(this.contentSent) });
      this.contentSent = output.content.length;
    }
    output.calls.forEach((call, index) => {
      if (index === this.argumentsSent.length) {
        deltas.push({ kind: 'call', index, id: this.newId(), name: call.name });
        this.argumentsSent.push(0);
      }
      const sent = this.argumentsSent[index];
      if (call.arguments.length > sent) {
        deltas.push({ kind: 'arguments', index, text: call.arguments.slice(sent) });
        this.argumentsSent[index] = call.arguments.length;
      }
    });
    return deltas;
  }
}
