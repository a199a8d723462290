// POST /v1/chat/completions: OpenAI's chat API over the model's chat template.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ChatRequestSchema, type ChatChoiceJson, type ChatCompletionJson, type ChatRequest } from '../../api/openai.js';
import { parseBody } from '../../api/parse.js';
import type { ChatPrompter } from '../../chat/prompt.js';
import { imageParts } from '../../chat/messages.js';
import { grammarOfResponseFormat } from '../../validation/response-format.js';
import { planOpenAiGeneration, type OpenAiGenerationPlan } from '../../validation/openai.js';
import { validationError } from '../errors.js';
import { parseOutput } from '../../chat/tools/output.js';
import { ToolCallStream, type ToolDelta } from '../../chat/tools/stream.js';
import { resolveToolChoice } from '../../validation/tools.js';
import { newCallId, promptForCalls, setUpTools, toolCallsJson, toolText, type ToolSetup } from '../chat-tools.js';
import { characterCount, generationHeaders, markReplayable, type Generator } from '../generator.js';
import { collectGenerations, lifecycleHandler, type GenerationEvent, type RouteHandler } from '../lifecycle.js';
import { cachedPromptTokens, responseModel, streamGenerations, usageOf, type OpenAiIdentity } from '../openai-common.js';
import { chatLogprob, completionId, cutAtStop, openAiFinishReason, StopTextFilter, unixSeconds } from '../openai-output.js';

export interface ChatRouteOptions {
  generator: Generator;
  prompter: ChatPrompter;
  identity: OpenAiIdentity;
}

interface ChatPlan extends OpenAiGenerationPlan {
  prompt: string;
  stops: string[];
  topLogprobs: number;
  logprobs: boolean;
  /** Set when the generation may call tools. */
  tools?: ToolSetup;
}

/** A tool-call stream delta in OpenAI's chunk shape. */
function toolDelta(delta: ToolDelta): Record<string, unknown> {
  if (delta.kind === 'content') return { content: delta.text };
  if (delta.kind === 'call')
    return { tool_calls: [{ index: delta.index, id: delta.id, type: 'function', function: { name: delta.name, arguments: '' } }] };
  return { tool_calls: [{ index: delta.index, function: { arguments: delta.text } }] };
}

export function chatHandler(options: ChatRouteOptions): RouteHandler {
  const { generator, prompter, identity } = options;

  async function plan(body: ChatRequest): Promise<ChatPlan> {
    const toolChoice = resolveToolChoice(body);
    let grammar = grammarOfResponseFormat(body.response_format);
    if (!body.logprobs && (body.top_logprobs ?? 0) > 0) throw validationError('`top_logprobs` requires `logprobs: true`', 'top_logprobs');
    // The upper bound is the server's --max-top-n-tokens (checked with the other fields), not OpenAI's 20.
    if (body.top_logprobs != null && body.top_logprobs < 0)
      throw validationError(`\`top_logprobs\` must be >= 0. Given: ${body.top_logprobs}`, 'top_logprobs');
    const topLogprobs = body.logprobs ? (body.top_logprobs ?? 0) : 0;
    const vision = generator.preprocessor.vision;
    const images = vision ? imageParts(body.messages) : [];
    let prompt = await generator.preprocessor.render(body);
    let tools: ToolSetup | undefined;
    if (toolChoice) {
      const { limits, preprocessor } = generator;
      tools = await setUpTools(body, toolChoice, {
        format: prompter.toolFormat,
        prompt,
        tokenizer: preprocessor.tokenizer,
        disableGrammar: limits.disableGrammarSupport,
        compile: preprocessor.compileGrammar,
      });
      // The response format is part of the tool grammar (a text answer beside the calls).
      if (tools.grammar) grammar = undefined;
      prompt = promptForCalls(prompt, tools);
    }
    const fields = { ...body, max_tokens: body.max_completion_tokens ?? body.max_tokens, grammar };
    const tokenizer = vision && images.length > 0 ? vision.tokenizer(generator.preprocessor, images, 'messages') : generator.preprocessor;
    const planned = await planOpenAiGeneration(prompt, fields, generator.limits, tokenizer, {
      addSpecialTokens: false,
      topLogprobs,
      choices: body.n ?? 1,
      extraStop: prompter.stop,
      promptParam: 'messages',
      maxTokensParam: body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens',
    });
    for (const choice of planned.choices) {
      choice.request.tokenLogprobs = body.logprobs ?? false;
      if (tools?.grammar) choice.request.grammar = tools.grammar;
    }
    // With tool_choice "none" the output is text (held by the grammar to no call), not parsed.
    const calling = tools && tools.choice.mode.kind !== 'none' ? tools : undefined;
    return {
      ...planned,
      prompt,
      stops: [...planned.stop, ...prompter.stop],
      topLogprobs,
      logprobs: body.logprobs ?? false,
      tools: calling,
    };
  }

  async function complete(planned: ChatPlan, body: ChatRequest, start: number, reply: FastifyReply): Promise<ChatCompletionJson> {
    const results = await collectGenerations(generator, planned.choices, start, reply);
    const choices = results.map((r, index): ChatChoiceJson => {
      const content = r.tokens.map((token, k) => ({ token, top: r.topTokens[k] })).filter(({ token }) => !token.special);
      const logprobs = planned.logprobs ? { content: content.map(({ token, top }) => chatLogprob(token, top, planned.topLogprobs)) } : null;
      const tools = planned.tools;
      if (tools) {
        // The same parse a stream makes: a text answer is the format's content too (gpt-oss' final
        // channel, say), so that streamed and whole answers agree.
        const text = cutAtStop(r.tokens.map((token) => toolText(token, tools.markers)).join(''), planned.stops);
        const output = parseOutput(tools.format, text, { final: true, inReasoning: tools.inReasoning, tools: tools.choice.tools });
        if (output.calls.length === 0) {
          return {
            index,
            message: { role: 'assistant', content: output.content, refusal: null },
            logprobs,
            finish_reason: openAiFinishReason(r.finish.reason),
          };
        }
        return {
          index,
          message: {
            role: 'assistant',
            content: output.content.length > 0 ? output.content : null,
            refusal: null,
            tool_calls: toolCallsJson(output, tools.format.callId ?? newCallId),
          },
          logprobs,
          finish_reason: r.finish.reason === 'length' ? 'length' : 'tool_calls',
        };
      }
      return {
        index,
        message: { role: 'assistant', content: cutAtStop(r.finish.generatedText, planned.stops), refusal: null },
        logprobs,
        finish_reason: openAiFinishReason(r.finish.reason),
      };
    });
    const promptTokens = planned.choices[0].inputLength;
    const completionTokens = results.reduce((sum, r) => sum + r.finish.generatedTokens, 0);
    reply.headers(
      generationHeaders(identity.computeType, characterCount(planned.prompt), results[0].timings, promptTokens, completionTokens),
    );
    markReplayable(reply.request, planned.choices);
    return {
      id: completionId('chatcmpl'),
      object: 'chat.completion',
      created: unixSeconds(),
      model: responseModel(identity, body.model),
      system_fingerprint: identity.systemFingerprint,
      choices,
      usage: usageOf(
        promptTokens,
        completionTokens,
        cachedPromptTokens(results.map((r) => ({ prompt: 0, cachedTokens: r.finish.cachedTokens }))),
      ),
    };
  }

  function stream(planned: ChatPlan, body: ChatRequest, start: number, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const filters = planned.choices.map(() => new StopTextFilter(planned.stops));
    const tools = planned.tools;
    const toolStreams = planned.choices.map(() =>
      tools
        ? new ToolCallStream(tools.format, tools.format.callId ?? newCallId, { inReasoning: tools.inReasoning, tools: tools.choice.tools })
        : undefined,
    );

    /** One token of a generation that may call tools: content and call deltas as the parser finds them. */
    function sendToolEvent(
      index: number,
      event: GenerationEvent & { kind: 'token' },
      toolStream: ToolCallStream,
      send: (choices: unknown[]) => void,
    ): void {
      const { token, finish } = event;
      let text = filters[index].push(toolText(token, tools!.markers));
      if (finish) text += filters[index].flush();
      const deltas = toolStream.push(text);
      if (finish) deltas.push(...toolStream.finish().deltas);
      let logprobs = planned.logprobs && !token.special ? { content: [chatLogprob(token, event.topTokens, planned.topLogprobs)] } : null;
      for (const delta of deltas) {
        send([{ index, delta: toolDelta(delta), logprobs, finish_reason: null }]);
        logprobs = null;
      }
      if (logprobs) send([{ index, delta: {}, logprobs, finish_reason: null }]);
      if (finish) {
        const reason = finish.reason === 'length' ? 'length' : toolStream.hasCalls ? 'tool_calls' : openAiFinishReason(finish.reason);
        send([{ index, delta: {}, logprobs: null, finish_reason: reason }]);
      }
    }
    return streamGenerations(
      generator,
      identity,
      {
        requests: planned.choices,
        object: 'chat.completion.chunk',
        idPrefix: 'chatcmpl',
        model: responseModel(identity, body.model),
        includeUsage: body.stream_options?.include_usage ?? false,
        promptTokens: planned.choices[0].inputLength,
        start,
        opening: (send) =>
          planned.choices.forEach((_, index) =>
            send([{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
          ),
        onEvent: (index, event, send) => {
          if (event.kind !== 'token') return;
          const toolStream = toolStreams[index];
          if (toolStream) {
            sendToolEvent(index, event, toolStream, send);
            return;
          }
          const token = event.token;
          let text = token.special ? '' : filters[index].push(token.text);
          if (event.finish) text += filters[index].flush();
          const logprobs =
            planned.logprobs && !token.special ? { content: [chatLogprob(token, event.topTokens, planned.topLogprobs)] } : null;
          if (text.length > 0 || logprobs) send([{ index, delta: { content: text }, logprobs, finish_reason: null }]);
          if (event.finish) send([{ index, delta: {}, logprobs: null, finish_reason: openAiFinishReason(event.finish.reason) }]);
        },
      },
      request,
      reply,
    );
  }

  return lifecycleHandler(generator, {
    family: 'openai',
    parse: (body) => parseBody(ChatRequestSchema, body),
    streams: (body) => body.stream === true,
    sequences: (body) => body.n ?? 1,
    plan,
    stream,
    complete,
  });
}
