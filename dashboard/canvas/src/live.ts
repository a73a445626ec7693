// Who else is on the canvas and what they hold: presence sessions (avatars, cursors)
// and edit locks, fed by the live stream (docs/collaboration.md). Components subscribe
// to just the part they draw, so a cursor moving or a lock changing re-renders only the
// cursor layer or the one step concerned, never the whole flow.
import { useSyncExternalStore } from "react";
import type { Api } from "./api";
import type { FlowOp } from "./ops";
import type { Lock, PresenceSession } from "./types";

export interface OpsMessage {
  type: "ops.applied";
  revision: number;
  ops: FlowOp[];
  actor: string;
  replayed?: boolean;
}

export interface LiveHandlers {
  /** The stream (re)opened at `revision`; replayed ops follow. */
  onHello: (revision: number) => void;
  onOps: (message: OpsMessage) => void;
  /** The canvas may have missed something: read the flow again. */
  onRefetch: () => void;
  onPublished: (version: number) => void;
}

type Listener = () => void;

export const lockKey = (kind: "node" | "edge", id: string) => `${kind}:${id}`;

const CURSOR_EVERY_MS = 50;
const HEARTBEAT_EVERY_MS = 10_000;
const RECONNECT_MS = [500, 1000, 2000, 5000];

export class LiveStore {
  me: PresenceSession | null = null;
  private sessions = new Map<string, PresenceSession>();
  private sessionList: PresenceSession[] = [];
  private locks = new Map<string, Lock>();
  private readonly presenceListeners = new Set<Listener>();
  private readonly lockListeners = new Set<Listener>();
  private socket: WebSocket | null = null;
  private closed = false;
  private attempts = 0;
  private heartbeat: number | undefined;
  private cursorTimer: number | undefined;
  private pendingCursor: { x: number; y: number } | null | undefined;
  private lastCursorAt = 0;

  constructor(
    private readonly api: Api,
    private readonly journeyId: string,
    private readonly handlers: LiveHandlers,
    private readonly revision: () => number,
  ) {}

  // -- subscriptions (useSyncExternalStore) -------------------------------------------

  subscribePresence = (listener: Listener) => {
    this.presenceListeners.add(listener);
    return () => this.presenceListeners.delete(listener);
  };

  subscribeLocks = (listener: Listener) => {
    this.lockListeners.add(listener);
    return () => this.lockListeners.delete(listener);
  };

  /** The other sessions (not this tab), a new array only when one changes. */
  others = () => this.sessionList;

  /** Someone else's edit lock on an element (another user's: your own tabs share). */
  otherLock = (key: string): Lock | undefined => {
    const lock = this.locks.get(key);
    return lock && lock.holder !== this.me?.user_id ? lock : undefined;
  };

  colourOf(userId: string): string {
    for (const session of this.sessions.values()) if (session.user_id === userId) return session.color;
    return "#475569";
  }

  private presenceChanged() {
    this.sessionList = [...this.sessions.values()].filter((s) => s.id !== this.me?.id);
    for (const listener of this.presenceListeners) listener();
  }

  private setLocks(locks: Lock[], present: boolean) {
    for (const lock of locks) {
      if (lock.mode !== "edit") continue;
      const key = lockKey(lock.target_kind, lock.target_id);
      if (present) this.locks.set(key, lock);
      else if (this.locks.get(key)?.holder === lock.holder) this.locks.delete(key);
    }
    for (const listener of this.lockListeners) listener();
  }

  // -- the connection ------------------------------------------------------------------

  async start(): Promise<void> {
    this.me = await this.api.join(this.journeyId);
    this.open();
  }

  stop() {
    this.closed = true;
    window.clearInterval(this.heartbeat);
    window.clearTimeout(this.cursorTimer);
    this.socket?.close(1000, "left");
  }

  private open() {
    if (this.closed || !this.me) return;
    const socket = this.api.live(this.journeyId, this.revision(), this.me.id);
    this.socket = socket;
    socket.onmessage = (event) => this.receive(JSON.parse(String(event.data)) as Record<string, unknown>);
    socket.onopen = () => {
      this.attempts = 0;
      window.clearInterval(this.heartbeat);
      this.heartbeat = window.setInterval(() => this.send({}), HEARTBEAT_EVERY_MS);
    };
    socket.onclose = () => {
      window.clearInterval(this.heartbeat);
      if (this.closed || this.socket !== socket) return;
      // Closing the socket ended our presence session: join again, then resume from
      // the last revision we have (the missed ops are replayed after hello).
      const delay = RECONNECT_MS[Math.min(this.attempts, RECONNECT_MS.length - 1)];
      this.attempts += 1;
      window.setTimeout(() => {
        this.api.join(this.journeyId).then(
          (me) => {
            this.me = me;
            this.open();
          },
          () => socket.onclose?.(new CloseEvent("close")),
        );
      }, delay);
    };
  }

  /** Drop the connection as a network failure would (the reconnect follows). */
  drop() {
    this.socket?.close(4000, "dropped");
  }

  private send(fields: Record<string, unknown>) {
    if (this.socket?.readyState !== WebSocket.OPEN || !this.me) return;
    this.socket.send(JSON.stringify({ type: "heartbeat", session_id: this.me.id, ...fields }));
  }

  /** The pointer in flow coordinates (`null`: it left the canvas), at most one
   * message per 50 ms, the latest always sent. */
  cursor(position: { x: number; y: number } | null) {
    this.pendingCursor = position;
    if (this.cursorTimer !== undefined) return;
    const wait = Math.max(0, this.lastCursorAt + CURSOR_EVERY_MS - performance.now());
    this.cursorTimer = window.setTimeout(() => {
      this.cursorTimer = undefined;
      this.lastCursorAt = performance.now();
      this.send({ cursor: this.pendingCursor });
    }, wait);
  }

  selection(ids: string[]) {
    this.send({ selection: ids });
  }

  private receive(message: Record<string, unknown>) {
    switch (message.type) {
      case "hello": {
        this.sessions = new Map((message.sessions as PresenceSession[]).map((s) => [s.id, s]));
        this.locks.clear();
        this.setLocks(message.locks as Lock[], true);
        this.presenceChanged();
        this.handlers.onHello(message.revision as number);
        break;
      }
      case "ops.applied":
        this.handlers.onOps(message as unknown as OpsMessage);
        break;
      case "flow.replaced":
      case "refetch":
        this.handlers.onRefetch();
        break;
      case "journey.published":
        this.handlers.onPublished(message.version as number);
        break;
      case "presence.joined": {
        const session = message.session as PresenceSession;
        this.sessions.set(session.id, session);
        this.presenceChanged();
        break;
      }
      case "presence.updated": {
        const id = message.session_id as string;
        const known = this.sessions.get(id);
        if (known) {
          this.sessions.set(id, {
            ...known,
            color: message.color as string,
            cursor: (message.cursor as PresenceSession["cursor"]) ?? null,
            selection: (message.selection as string[]) ?? known.selection,
          });
          this.presenceChanged();
        }
        break;
      }
      case "presence.left":
        this.sessions.delete(message.session_id as string);
        this.presenceChanged();
        break;
      case "lock.granted":
      case "lock.renewed":
        this.setLocks(message.locks as Lock[], true);
        break;
      case "lock.released":
      case "lock.expired":
        this.setLocks(message.locks as Lock[], false);
        break;
    }
  }
}

export function useOthers(store: LiveStore): PresenceSession[] {
  return useSyncExternalStore(store.subscribePresence, store.others);
}

export function useOtherLock(store: LiveStore | null, key: string): Lock | undefined {
  return useSyncExternalStore(
    store?.subscribeLocks ?? noSubscription,
    () => store?.otherLock(key),
  );
}

const noSubscription = () => () => undefined;
