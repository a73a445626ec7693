// The public API, called with the dashboard session: its cookie goes to /api/v1 by
// itself, and every request carries the page's CSRF token (docs/api.md, "Auth").
import type { FlowDocument, Lock, NodeTypeInfo, OpsOutcome, PresenceSession, TriggerTypeInfo } from "./types";
import type { FlowOp } from "./ops";

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown>,
  ) {
    super(String(problem.detail ?? problem.title ?? `HTTP ${status}`));
  }
}

export class Api {
  constructor(
    private readonly base: string,
    private readonly csrf: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<{ data: T; etag: string }> {
    const headers: Record<string, string> = { "Aisle-CSRF": this.csrf, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data: unknown = text ? JSON.parse(text) : {};
    if (!response.ok) throw new ApiProblem(response.status, data as Record<string, unknown>);
    return { data: data as T, etag: response.headers.get("ETag") ?? "" };
  }

  async flow(journeyId: string): Promise<{ flow: FlowDocument; revision: number }> {
    const { data, etag } = await this.call<FlowDocument>("GET", `/journeys/${journeyId}/flow`);
    return { flow: data, revision: revisionOf(etag) };
  }

  async nodeTypes(): Promise<NodeTypeInfo[]> {
    return (await this.call<{ items: NodeTypeInfo[] }>("GET", "/node-types")).data.items;
  }

  async triggerTypes(): Promise<TriggerTypeInfo[]> {
    return (await this.call<{ items: TriggerTypeInfo[] }>("GET", "/trigger-types")).data.items;
  }

  /** Ops against `baseRevision`, not atomic: the ops that merge are kept and only the
   * conflicting ones come back (409, `rejected[]` with both values). `fences` are the
   * tokens of the edit locks held. */
  async applyOps(journeyId: string, baseRevision: number, ops: FlowOp[], fences: Record<string, number>): Promise<OpsOutcome> {
    const body = { base_revision: baseRevision, ops, atomic: false, fences };
    return (await this.call<OpsOutcome>("POST", `/journeys/${journeyId}/flow/ops`, body)).data;
  }

  async publish(journeyId: string): Promise<{ version: number }> {
    return (await this.call<{ version: number }>("POST", `/journeys/${journeyId}/publish`, {})).data;
  }

  async journey(journeyId: string): Promise<{ live_version: number | null }> {
    return (await this.call<{ live_version: number | null }>("GET", `/journeys/${journeyId}`)).data;
  }

  async stats(journeyId: string): Promise<{ steps: { step_id: string | null; enrollments: Record<string, number> }[] }> {
    return (await this.call<{ steps: { step_id: string | null; enrollments: Record<string, number> }[] }>("GET", `/journeys/${journeyId}/stats`)).data;
  }

  async versions(journeyId: string): Promise<{ version: number }[]> {
    return (await this.call<{ items: { version: number }[] }>("GET", `/journeys/${journeyId}/versions`)).data.items;
  }

  async rollback(journeyId: string, version: number): Promise<{ version: number }> {
    return (await this.call<{ version: number }>("POST", `/journeys/${journeyId}/rollback`, { version })).data;
  }

  async lock(journeyId: string, kind: "node" | "edge", id: string, sessionId: string | null): Promise<Lock[]> {
    const body = { [kind === "node" ? "nodes" : "edges"]: [id], mode: "edit", session_id: sessionId };
    return (await this.call<{ locks: Lock[] }>("POST", `/journeys/${journeyId}/locks`, body)).data.locks;
  }

  async renew(journeyId: string, kind: "node" | "edge", id: string, token: number): Promise<Lock[]> {
    const body = { [kind === "node" ? "nodes" : "edges"]: [id], mode: "edit", tokens: { [`${kind}:${id}`]: token } };
    return (await this.call<{ locks: Lock[] }>("POST", `/journeys/${journeyId}/locks/renew`, body)).data.locks;
  }

  async release(journeyId: string, kind: "node" | "edge", id: string): Promise<void> {
    const body = { [kind === "node" ? "nodes" : "edges"]: [id], mode: "edit" };
    await this.call("POST", `/journeys/${journeyId}/locks/release`, body);
  }

  async join(journeyId: string): Promise<PresenceSession> {
    return (await this.call<PresenceSession>("POST", `/journeys/${journeyId}/presence`, {})).data;
  }

  /** The live stream (WebSocket): the page's CSRF token rides as a subprotocol, since a
   * browser cannot set headers on a WebSocket. */
  live(journeyId: string, since: number, sessionId: string): WebSocket {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ since: String(since), session_id: sessionId });
    const url = `${scheme}//${location.host}${this.base}/journeys/${journeyId}/live?${query.toString()}`;
    return new WebSocket(url, ["aisle.v1", `aisle.csrf.${this.csrf}`]);
  }
}

/** The draft revision in an ETag such as `"<journey id>.r12"`. */
export function revisionOf(etag: string): number {
  const match = /\.r(\d+)"?$/.exec(etag);
  return match?.[1] ? Number(match[1]) : 0;
}
