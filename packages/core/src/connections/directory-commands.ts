/**
 * Commands between the nodes of a shared connection directory, over Redis pub/sub: each gateway process
 * listens on its own channel (`cmd:<node number>:<worker>`) and on a reply channel of its own; a command
 * (close, ping, send, terminate one connection) is published to the holder's channel and answered on the
 * asker's; `closeMatching` (close every connection of the process with an attribute's value, as a token
 * revocation does) is published to every process's channel and answered with a count by each; `get` is
 * answered with the connection's record (or false). Bounded: PUBLISH says how many listen (none: the holder is gone, the answer is false at once), and
 * an answer that does not come within the timeout fails the call with `WSGATE_NODE_UNANSWERED` naming the node.
 */
import { WsgateError } from '../errors.js';

export type CommandOp = 'close' | 'ping' | 'send' | 'terminate' | 'post' | 'closeMatching' | 'get';

/** What a command answers: see `Reply`. */
export type Answer = boolean | number | object;

export interface Command {
  readonly op: CommandOp;
  /** The connection (0 for closeMatching). */
  readonly id: number;
  readonly code?: number;
  readonly reason?: string;
  /** send: the message, as text, or base64 when `base64`. */
  readonly data?: string;
  readonly base64?: boolean;
  readonly binary?: boolean;
  /** post: the listener's topic (`data` is the text handed to it). */
  readonly topic?: string;
  /** closeMatching: the attribute and the value a connection must have. */
  readonly attribute?: string;
  readonly value?: string | number | boolean;
}

interface Request extends Command {
  readonly rid: number;
  readonly replyTo: string;
}

interface Reply {
  readonly rid: number;
  /** A command on one connection answers a boolean; closeMatching a count; get a record or false. */
  readonly value?: Answer;
  readonly error?: string;
}

/** The two Redis calls commands need, on the directory's clients. */
export interface PubSub {
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
}

export class DirectoryCommands {
  private nextRid = 0;
  private readonly waiting = new Map<number, { resolve: (value: Answer) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

  private repliesHeard = false;
  private commandsHeard: string | undefined;

  constructor(
    private readonly pubsub: PubSub,
    /** This process's reply channel. */
    private readonly replies: string,
    private readonly timeoutMs: number,
    /** Runs a command on this process's connections; answers as the registry does (closeMatching: a count). */
    private readonly run: (command: Command) => Answer,
  ) {}

  /** Listens for answers (once; again after a failure). */
  async hearReplies(): Promise<void> {
    if (this.repliesHeard) return;
    await this.pubsub.subscribe(this.replies, (message) => this.answered(message));
    this.repliesHeard = true;
  }

  /** Listens for other nodes' commands on this process's channel (once it has one). */
  async hearCommands(channel: string): Promise<void> {
    if (this.commandsHeard === channel) return;
    await this.pubsub.subscribe(channel, (message) => void this.serve(message));
    this.commandsHeard = channel;
  }

  async stop(): Promise<void> {
    for (const [rid, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new WsgateError('WSGATE_API_MISUSE', 'the connection directory closed before the node answered'));
      this.waiting.delete(rid);
    }
    const channels = [this.replies, ...(this.commandsHeard ? [this.commandsHeard] : [])];
    await Promise.all(channels.map((c) => this.pubsub.unsubscribe(c))).catch(() => undefined);
  }

  /**
   * Asks the process listening on `channel` to run the command. False when no one listens there (the node is
   * gone) or the connection is not there; rejects when the node does not answer in time (naming it, as
   * `nodeName()` finds it: only then, so that a command costs no look-up), or Redis cannot be reached.
   */
  ask(channel: string, nodeName: () => Promise<string>, command: Command): Promise<boolean> {
    return this.request(channel, nodeName, command).then((value) => value === true);
  }

  /** As `ask()`, for a command answered with a count (closeMatching): 0 when no one listens. */
  count(channel: string, nodeName: () => Promise<string>, command: Command): Promise<number> {
    return this.request(channel, nodeName, command).then((value) => (typeof value === 'number' ? value : 0));
  }

  /** As `ask()`, for a command answered with an object (get): undefined when no one listens or it is not there. */
  object(channel: string, nodeName: () => Promise<string>, command: Command): Promise<object | undefined> {
    return this.request(channel, nodeName, command).then((value) => (typeof value === 'object' ? value : undefined));
  }

  private request(channel: string, nodeName: () => Promise<string>, command: Command): Promise<Answer> {
    const rid = ++this.nextRid;
    return new Promise<Answer>((resolve, reject) => {
      // Waiting before publishing: the answer comes on another connection and may beat PUBLISH's own reply.
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        void nodeName().then((node) =>
          reject(
            new WsgateError('WSGATE_NODE_UNANSWERED', `node ${node} did not answer ${command.op} ${command.op === 'closeMatching' ? command.attribute : command.id} within ${this.timeoutMs / 1000} s: it may be overloaded or stopped`),
          ),
        );
      }, this.timeoutMs);
      this.waiting.set(rid, { resolve, reject, timer });
      const request: Request = { ...command, rid, replyTo: this.replies };
      this.pubsub.publish(channel, JSON.stringify(request)).then(
        (listeners) => {
          if (listeners === 0) this.settle(rid, { rid, value: false });
        },
        (err: unknown) => this.settle(rid, { rid, error: err instanceof Error ? err.message : String(err) }, err),
      );
    });
  }

  private answered(message: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(message) as Reply;
    } catch {
      return;
    }
    this.settle(reply.rid, reply);
  }

  private settle(rid: number, reply: Reply, cause?: unknown): void {
    const w = this.waiting.get(rid);
    if (!w) return;
    this.waiting.delete(rid);
    clearTimeout(w.timer);
    if (reply.error === undefined) w.resolve(reply.value ?? false);
    else w.reject(cause instanceof Error ? cause : new Error(reply.error));
  }

  private async serve(message: string): Promise<void> {
    let request: Request;
    try {
      request = JSON.parse(message) as Request;
    } catch {
      return;
    }
    if (typeof request?.rid !== 'number' || typeof request.replyTo !== 'string') return;
    let reply: Reply;
    try {
      reply = { rid: request.rid, value: this.run(request) };
    } catch (err) {
      reply = { rid: request.rid, error: err instanceof Error ? err.message : String(err) };
    }
    // An answer that cannot be published is the asker's timeout.
    await this.pubsub.publish(request.replyTo, JSON.stringify(reply)).catch(() => undefined);
  }
}
