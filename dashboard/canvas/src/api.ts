// The public API, called with the dashboard session: its cookie goes to /api/v1 by
// itself, and every request carries the page's CSRF token (docs/api.md, "Auth").
import type { FlowDocument, NodeTypeInfo, OpsOutcome, TriggerTypeInfo } from "./types";
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

  async applyOps(journeyId: string, baseRevision: number, ops: FlowOp[]): Promise<OpsOutcome> {
    const body = { base_revision: baseRevision, ops, atomic: true };
    return (await this.call<OpsOutcome>("POST", `/journeys/${journeyId}/flow/ops`, body)).data;
  }

  async publish(journeyId: string): Promise<{ version: number }> {
    return (await this.call<{ version: number }>("POST", `/journeys/${journeyId}/publish`, {})).data;
  }
}

/** The draft revision in an ETag such as `"<journey id>.r12"`. */
export function revisionOf(etag: string): number {
  const match = /\.r(\d+)"?$/.exec(etag);
  return match?.[1] ? Number(match[1]) : 0;
}
