// The branch handles a step's outgoing edges bring (a decision's), kept per step so a
// new edge redraws only the step it leaves, not every step on the canvas.
import { useSyncExternalStore } from "react";
import type { TriggerEdge } from "./types";

const NONE: string[] = [];

export class HandleStore {
  private byNode = new Map<string, string[]>();
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  of = (nodeId: string): string[] => this.byNode.get(nodeId) ?? NONE;

  update(edges: TriggerEdge[]) {
    const next = new Map<string, string[]>();
    for (const edge of edges) {
      if (!edge.sourceHandle) continue;
      const list = next.get(edge.source) ?? [];
      if (!list.includes(edge.sourceHandle)) list.push(edge.sourceHandle);
      next.set(edge.source, list);
    }
    let changed = next.size !== this.byNode.size;
    for (const [id, list] of next) {
      const old = this.byNode.get(id);
      if (old && old.join("\n") === list.join("\n")) next.set(id, old);
      else changed = true;
    }
    this.byNode = next;
    if (changed) for (const listener of this.listeners) listener();
  }
}

export function useExtraHandles(store: HandleStore, nodeId: string): string[] {
  return useSyncExternalStore(store.subscribe, () => store.of(nodeId));
}
