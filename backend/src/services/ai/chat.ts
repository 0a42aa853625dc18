import type { AuthUser } from '@/lib/auth/types'
import { notFound } from '@/lib/errors/domain'
import type { LlmRouter } from '@/lib/llm/router'
import type { ChatMessage, ChatRequest, Usage } from '@/lib/llm/types'
import { storable } from '@/lib/text'
import { presentMessage } from '@/services/conversations/service'
import type { ConversationStore } from '@/services/conversations/store'
import type { KnowledgeService } from '@/services/knowledge/service'
import { type Mode, PILLARS, type PillarId } from '@/services/pilar/framework'

export interface ChatInput {
  message: string
  conversation_id?: string
  pillar_id?: PillarId
  mode?: Mode
}

export interface ChatLimits {
  maxOutputTokens: number
  ttlDays: number
}

/** What `ChatService.stream` yields, in order: one meta, deltas, one done. */
export type ChatEvent =
  | { type: 'meta'; conversation_id: string; provider: string; model: string }
  | { type: 'delta'; text: string }
  | { type: 'done'; message_id: string; usage: Usage; finish_reason: string }

const NO_USAGE: Usage = { input_tokens: 0, output_tokens: 0 }

/** How much of a conversation is sent back to the model. */
const HISTORY_MESSAGES = 20
const HISTORY_CHARS = 24_000
/** The longest answer kept in the database (the column allows 32,000). */
export const MAX_STORED_ANSWER_CHARS = 30_000

const SYSTEM_PROMPT =
  'You are the PILAR coach. PILAR describes how groups coordinate: two modes (egalitarian and ' +
  'hierarchical), five pillars each, four forces per pillar. Answer practically and briefly, ' +
  'grounded in the passages given when they are relevant; say so when they are not.'

/**
 * The latest whole exchanges (a question and its answer) that fit in `budget` characters, oldest
 * first. Cutting by message could leave an answer without its question at the start, and
 * Anthropic refuses a conversation that does not start with the user and alternate (400, on
 * every later turn). Anything that is not a user-then-assistant pair is left out.
 */
function recentExchanges(
  recent: readonly { role: 'user' | 'assistant'; content: string }[],
  budget: number,
): ChatMessage[] {
  const kept: ChatMessage[] = []
  let left = budget
  for (let i = recent.length - 1; i >= 1; i--) {
    const question = recent[i - 1]
    const answer = recent[i]
    if (question?.role !== 'user' || answer?.role !== 'assistant') continue
    left -= question.content.length + answer.content.length
    if (left < 0) break
    kept.unshift({ role: 'user', content: question.content }, { role: 'assistant', content: answer.content })
    i--
  }
  return kept
}

interface Prepared {
  conversationId: string
  isNew: boolean
  request: ChatRequest
}

/** Chat with the coach: history from the conversation, grounding from the knowledge base. */
export class ChatService {
  constructor(
    private readonly conversations: ConversationStore,
    private readonly knowledge: KnowledgeService,
    private readonly llm: LlmRouter,
    private readonly limits: ChatLimits,
  ) {}

  async complete(user: AuthUser, input: ChatInput, signal: AbortSignal) {
    const prepared = await this.#prepare(user, input)
    const answer = await this.llm.complete(prepared.request, signal, {
      feature: 'chat',
      userHash: user.idHash,
    })
    const message = await this.#save(
      user,
      input,
      prepared,
      answer.text,
      answer.provider,
      answer.model,
      answer.usage,
    )
    return {
      conversation_id: prepared.conversationId,
      message,
      provider: answer.provider,
      model: answer.model,
      usage: answer.usage,
    }
  }

  /**
   * The answer as events: `meta` once a provider has produced its first token (failing over
   * until then), `delta`s, and `done` after the answer is stored. Everything before `meta` —
   * an unknown conversation, every provider down — is thrown from the first step, before any
   * event, so the caller can still answer with a plain error. A failure later ends the
   * iteration with a thrown error; nothing is stored for a stream that failed or was abandoned.
   */
  async *stream(user: AuthUser, input: ChatInput, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    const prepared = await this.#prepare(user, input)
    const routed = await this.llm.stream(prepared.request, signal, { feature: 'chat', userHash: user.idHash })
    yield {
      type: 'meta',
      conversation_id: prepared.conversationId,
      provider: routed.provider,
      model: routed.model,
    }
    for await (const chunk of routed.chunks) {
      if (chunk.type === 'delta') yield { type: 'delta', text: chunk.text }
    }
    // The client may have left just as the last chunk came: an abandoned answer is not kept.
    signal.throwIfAborted()
    const { text, usage = NO_USAGE, finishReason = 'stop' } = routed.result
    const saved = await this.#save(user, input, prepared, text, routed.provider, routed.model, usage)
    yield { type: 'done', message_id: saved.id, usage, finish_reason: finishReason }
  }

  async #prepare(user: AuthUser, input: ChatInput): Promise<Prepared> {
    const history: ChatMessage[] = []
    const conversationId = input.conversation_id
    let pillarId = input.pillar_id
    let mode = input.mode
    if (conversationId) {
      const conversation = await this.conversations.find(user.claims, conversationId)
      if (!conversation) throw notFound('Conversation')
      pillarId ??= (conversation.pillar_id as PillarId | null) ?? undefined
      mode ??= (conversation.mode as Mode | null) ?? undefined
      const recent = await this.conversations.recentMessages(user.claims, conversationId, HISTORY_MESSAGES)
      history.push(...recentExchanges(recent, HISTORY_CHARS))
    }
    const grounding = await this.knowledge.ground(
      input.message,
      { pillar_id: pillarId, mode: mode ?? (pillarId ? PILLARS[pillarId].mode : undefined) },
      3,
      user,
    )
    const focus = pillarId
      ? `\nThe user is working on ${PILLARS[pillarId].title} (${PILLARS[pillarId].mode} mode).`
      : ''
    return {
      conversationId: conversationId ?? crypto.randomUUID(),
      isNew: !conversationId,
      request: {
        messages: [
          { role: 'system', content: `${SYSTEM_PROMPT}${focus}` },
          ...history,
          { role: 'user', content: input.message },
        ],
        context: grounding.passages.map((p) => p.content.slice(0, 1_200)),
        maxOutputTokens: this.limits.maxOutputTokens,
      },
    }
  }

  async #save(
    user: AuthUser,
    input: ChatInput,
    prepared: Prepared,
    text: string,
    provider: string,
    model: string,
    usage: Usage,
  ) {
    // A model can answer with a NUL (or a lone surrogate): Postgres would refuse the insert after
    // the tokens were spent. Cut first, then clean, so a cut through a surrogate pair goes too.
    const cleaned = storable(text.slice(0, MAX_STORED_ANSWER_CHARS))
    const answer = cleaned.trim() ? cleaned : '(empty answer)'
    const userText = storable(input.message)
    const row = await this.conversations.saveExchange(user.claims, {
      conversationId: prepared.conversationId,
      create: prepared.isNew
        ? {
            title: storable(userText.replace(/\s+/g, ' ').trim().slice(0, 80)).trim() || 'Conversation',
            pillarId: input.pillar_id ?? null,
            mode: input.mode ?? null,
          }
        : undefined,
      userText,
      assistantText: answer,
      provider,
      model,
      usage,
      ttlDays: this.limits.ttlDays,
    })
    return presentMessage(row)
  }
}
