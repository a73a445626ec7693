// What the API serves (docs/api.md): node and trigger types, the flow, op outcomes.
import type { Edge, Node } from "@xyflow/react";
import type { RJSFSchema } from "@rjsf/utils";

export interface HandleInfo {
  type: "source" | "target";
  id: string | null;
  label: string;
}

export interface NodeTypeInfo {
  name: string;
  label: string;
  description: string;
  icon: string;
  category: string;
  handles: HandleInfo[];
  dynamic_handles: boolean;
  terminal: boolean;
  config_schema: RJSFSchema;
  distribution: string;
}

export interface TriggerTypeInfo {
  name: string;
  label: string;
  description: string;
  icon: string;
  time_based: boolean;
  config_schema: RJSFSchema;
}

export interface Issue {
  severity?: string;
  message: string;
  field?: string | null;
}

export interface StepData extends Record<string, unknown> {
  label: string;
  config: Record<string, unknown>;
  issues?: Issue[];
}

export interface TriggerData extends Record<string, unknown> {
  trigger: string;
  config: Record<string, unknown>;
  priority: number;
  issues?: Issue[];
}

export type StepNode = Node<StepData>;
export type TriggerEdge = Edge<TriggerData>;

export interface FlowDocument {
  nodes: StepNode[];
  edges: TriggerEdge[];
  viewport: { x: number; y: number; zoom: number };
}

export interface Looks {
  iconPrefix: string;
  icons: string[];
  categoryIcons: Record<string, string>;
  colours: Record<string, string>;
  defaultColour: string;
}

export interface ConflictItem {
  path: string;
  field: string;
  message: string;
  node_id?: string | null;
  edge_id?: string | null;
  theirs?: unknown;
  mine?: unknown;
}

export interface RefusedOp {
  op_id: string;
  conflict_id: string;
  conflicts: ConflictItem[];
}

export interface OpsOutcome {
  revision: number;
  etag: string;
  applied: string[];
  rejected: RefusedOp[];
}

export interface Lock {
  journey_id: string;
  target_kind: "node" | "edge";
  target_id: string;
  mode: "edit" | "view";
  holder: string;
  holder_name: string;
  session_id: string | null;
  fencing_token: number;
  expires_at: string;
}

export interface PresenceSession {
  id: string;
  user_id: string;
  display_name: string;
  color: string;
  cursor: { x: number; y: number } | null;
  selection: string[];
}
