// The canvas's edits as API operations (POST /flow/ops): the difference between what
// the server has and what the canvas shows, so drawing, undo and redo all save the same
// way. Only what the API keeps is compared; React's own fields (selected, measured…)
// never make an op.
import type { StepNode, TriggerEdge } from "./types";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = Record<string, unknown>;

export type FlowOp =
  | { op: "add_node"; id: string; node: JsonObject }
  | { op: "move_node"; id: string; node_id: string; position: { x: number; y: number } }
  | { op: "update_node"; id: string; node_id: string; type?: string; label?: string; config?: JsonObject; base_revision?: number }
  | { op: "remove_node"; id: string; node_id: string }
  | { op: "add_edge"; id: string; edge: JsonObject }
  | {
      op: "update_edge";
      id: string;
      edge_id: string;
      source?: string;
      target?: string;
      source_handle?: string | null;
      target_handle?: string | null;
      trigger?: string;
      priority?: number;
      label?: string;
      config?: JsonObject;
    }
  | { op: "remove_edge"; id: string; edge_id: string };

export interface Snapshot {
  nodes: StepNode[];
  edges: TriggerEdge[];
}

function opId(): string {
  return crypto.randomUUID();
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .filter((key) => value[key] !== undefined)
        .sort()
        .map((key) => [key, canonical(value[key])]),
    );
  }
  return value;
}

/** The JSON Merge Patch (RFC 7396) that turns `before` into `after`: the API merges
 * config maps per key, so two people editing different keys both keep theirs. */
export function mergePatch(before: JsonObject, after: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(before)) {
    if (!(key in after) || after[key] === undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const old = before[key];
    if (isObject(old) && isObject(value)) {
      const inner = mergePatch(old, value);
      if (Object.keys(inner).length) patch[key] = inner;
    } else if (!same(old, value)) {
      patch[key] = value as Json;
    }
  }
  return patch;
}

/** A config as the server keeps it: in a merge patch `null` means "remove the key", so a
 * form's empty optional fields (`null`) are left out rather than sent. */
export function withoutNulls(value: JsonObject): JsonObject {
  const kept: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null || item === undefined) continue;
    kept[key] = isObject(item) ? withoutNulls(item) : item;
  }
  return kept;
}

export function nodeBody(node: StepNode): JsonObject {
  return {
    id: node.id,
    type: node.type,
    position: { x: node.position.x, y: node.position.y },
    data: { label: node.data.label, config: node.data.config },
  };
}

export function edgeBody(edge: TriggerEdge): JsonObject {
  return {
    id: edge.id,
    source: edge.source,
    target: edge.target,
    sourceHandle: edge.sourceHandle ?? null,
    targetHandle: edge.targetHandle ?? null,
    type: edge.data?.trigger,
    label: typeof edge.label === "string" ? edge.label : "",
    data: { trigger: edge.data?.trigger, config: edge.data?.config ?? {}, priority: edge.data?.priority ?? 0 },
  };
}

/** The ops that take the server from `saved` to `shown`, in an order it accepts:
 * edges go before the nodes they hang on, and come after the nodes they join. */
export function diff(saved: Snapshot, shown: Snapshot): FlowOp[] {
  const ops: FlowOp[] = [];
  const savedNodes = new Map(saved.nodes.map((n) => [n.id, n]));
  const shownNodes = new Map(shown.nodes.map((n) => [n.id, n]));
  const savedEdges = new Map(saved.edges.map((e) => [e.id, e]));
  const shownEdges = new Map(shown.edges.map((e) => [e.id, e]));

  for (const edge of saved.edges) {
    if (!shownEdges.has(edge.id)) ops.push({ op: "remove_edge", id: opId(), edge_id: edge.id });
  }
  for (const node of saved.nodes) {
    if (!shownNodes.has(node.id)) ops.push({ op: "remove_node", id: opId(), node_id: node.id });
  }
  for (const node of shown.nodes) {
    const before = savedNodes.get(node.id);
    if (!before) {
      ops.push({ op: "add_node", id: opId(), node: nodeBody(node) });
      continue;
    }
    if (before.position.x !== node.position.x || before.position.y !== node.position.y) {
      ops.push({
        op: "move_node",
        id: opId(),
        node_id: node.id,
        position: { x: node.position.x, y: node.position.y },
      });
    }
    const update: Extract<FlowOp, { op: "update_node" }> = { op: "update_node", id: opId(), node_id: node.id };
    if (before.type !== node.type && node.type) update.type = node.type;
    if (before.data.label !== node.data.label) update.label = node.data.label;
    const config = mergePatch(before.data.config ?? {}, node.data.config ?? {});
    if (Object.keys(config).length) update.config = config;
    if (update.type !== undefined || update.label !== undefined || update.config !== undefined) ops.push(update);
  }
  for (const edge of shown.edges) {
    const before = savedEdges.get(edge.id);
    if (!before) {
      ops.push({ op: "add_edge", id: opId(), edge: edgeBody(edge) });
      continue;
    }
    const a = edgeBody(before);
    const b = edgeBody(edge);
    const update: Extract<FlowOp, { op: "update_edge" }> = { op: "update_edge", id: opId(), edge_id: edge.id };
    if (a.source !== b.source) update.source = edge.source;
    if (a.target !== b.target) update.target = edge.target;
    if (a.sourceHandle !== b.sourceHandle) update.source_handle = edge.sourceHandle ?? null;
    if (a.targetHandle !== b.targetHandle) update.target_handle = edge.targetHandle ?? null;
    if (a.label !== b.label) update.label = b.label as string;
    if (before.data?.trigger !== edge.data?.trigger && edge.data) update.trigger = edge.data.trigger;
    if ((before.data?.priority ?? 0) !== (edge.data?.priority ?? 0)) update.priority = edge.data?.priority ?? 0;
    const config = mergePatch(before.data?.config ?? {}, edge.data?.config ?? {});
    if (Object.keys(config).length) update.config = config;
    if (Object.keys(update).length > 3) ops.push(update);
  }
  return ops;
}
