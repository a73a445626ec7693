// Operations applied to what the canvas holds: someone else's (from the live stream)
// and the canvas's own once the server took them, so the copy of the server's draft
// stays right without reading the whole flow again.
import type { FlowOp, Snapshot } from "./ops";
import type { StepNode, TriggerEdge } from "./types";

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7396: `null` removes a key, objects merge, anything else replaces. */
export function applyMergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (isObject(value)) result[key] = applyMergePatch(isObject(result[key]) ? (result[key] as JsonObject) : {}, value);
    else result[key] = value;
  }
  return result;
}

function nodeFrom(body: JsonObject): StepNode {
  const data = isObject(body.data) ? body.data : {};
  const position = isObject(body.position) ? body.position : {};
  return {
    id: String(body.id),
    type: String(body.type),
    position: { x: Number(position.x ?? 0), y: Number(position.y ?? 0) },
    data: { ...data, label: String(data.label ?? ""), config: isObject(data.config) ? data.config : {} },
  };
}

function edgeFrom(body: JsonObject): TriggerEdge {
  const data = isObject(body.data) ? body.data : {};
  const trigger = String(data.trigger ?? body.type ?? "immediate");
  return {
    id: String(body.id),
    source: String(body.source),
    target: String(body.target),
    sourceHandle: (body.sourceHandle as string | null | undefined) ?? null,
    targetHandle: (body.targetHandle as string | null | undefined) ?? null,
    type: trigger,
    label: typeof body.label === "string" ? body.label : "",
    data: { trigger, config: isObject(data.config) ? data.config : {}, priority: Number(data.priority ?? 0), issues: [] },
  };
}

/** `snapshot` with `ops` applied in order; an element changed keeps its other fields
 * (selection among them), and untouched elements stay the same objects. */
export function applyOps(snapshot: Snapshot, ops: FlowOp[]): Snapshot {
  let { nodes, edges } = snapshot;
  for (const op of ops) {
    switch (op.op) {
      case "add_node":
        nodes = [...nodes.filter((n) => n.id !== op.node.id), nodeFrom(op.node)];
        break;
      case "move_node":
        nodes = nodes.map((n) => (n.id === op.node_id ? { ...n, position: { ...op.position } } : n));
        break;
      case "update_node": {
        const update = op as typeof op & { position?: { x: number; y: number }; data?: JsonObject };
        nodes = nodes.map((n) => {
          if (n.id !== op.node_id) return n;
          let data = update.data ? (applyMergePatch(n.data, update.data) as StepNode["data"]) : n.data;
          if (op.label !== undefined) data = { ...data, label: op.label };
          if (op.config !== undefined) data = { ...data, config: applyMergePatch(data.config ?? {}, op.config) };
          return { ...n, type: op.type ?? n.type, position: update.position ?? n.position, data };
        });
        break;
      }
      case "remove_node":
        nodes = nodes.filter((n) => n.id !== op.node_id);
        edges = edges.filter((e) => e.source !== op.node_id && e.target !== op.node_id);
        break;
      case "add_edge":
        edges = [...edges.filter((e) => e.id !== op.edge.id), edgeFrom(op.edge)];
        break;
      case "update_edge":
        edges = edges.map((e) => {
          if (e.id !== op.edge_id) return e;
          const data = e.data ?? { trigger: "immediate", config: {}, priority: 0 };
          const trigger = op.trigger ?? data.trigger;
          return {
            ...e,
            source: op.source ?? e.source,
            target: op.target ?? e.target,
            sourceHandle: op.source_handle !== undefined ? op.source_handle : e.sourceHandle,
            targetHandle: op.target_handle !== undefined ? op.target_handle : e.targetHandle,
            type: trigger,
            label: op.label ?? e.label,
            data: {
              ...data,
              trigger,
              priority: op.priority ?? data.priority,
              config: op.config !== undefined ? applyMergePatch(data.config, op.config) : data.config,
            },
          };
        });
        break;
      case "remove_edge":
        edges = edges.filter((e) => e.id !== op.edge_id);
        break;
    }
  }
  return { nodes, edges };
}
