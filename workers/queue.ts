/**
 * The one Deno KV queue listener of a process. Deno allows a single `listenQueue` per KV handle,
 * so the job engines (analyses, trainings) register a handler per message `kind` here and the
 * dispatcher routes each message to its owner.
 */

/** A queue message: engines tell theirs apart by `kind`. */
export interface QueueMessage {
  kind: string;
  id: string;
}

/** Handles one message; should not throw (a throw makes Deno KV redeliver the message). */
export type QueueHandler = (msg: QueueMessage) => Promise<void> | void;

/** Routes messages of the KV queue to the handler registered for their kind. */
export class KvQueue {
  #handlers = new Map<string, QueueHandler>();
  #listening = false;

  constructor(readonly kv: Deno.Kv) {}

  /** Registers the handler of a kind; call before {@link listen}. */
  on(kind: string, handler: QueueHandler): void {
    if (this.#handlers.has(kind)) throw new Error(`queue kind "${kind}" is already handled`);
    this.#handlers.set(kind, handler);
  }

  /** Starts the (single) listener; later calls do nothing. */
  listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    // The promise settles when the KV handle closes; nothing to await here.
    this.kv.listenQueue((raw: unknown) => this.#dispatch(raw)).catch(() => {});
  }

  /** Enqueues a message (durable: it survives a restart until delivered). */
  async enqueue(msg: QueueMessage): Promise<void> {
    await this.kv.enqueue(msg);
  }

  async #dispatch(raw: unknown): Promise<void> {
    const msg = raw as QueueMessage;
    const handler = typeof msg?.kind === "string" ? this.#handlers.get(msg.kind) : undefined;
    if (!handler) {
      // Dropped rather than retried: no handler will appear for it in this process.
      console.error("queue: message of unknown kind dropped:", JSON.stringify(raw));
      return;
    }
    try {
      await handler(msg);
    } catch (err) {
      console.error(`queue: ${msg.kind} ${msg.id} handler failed:`, err);
    }
  }
}
