// How a node type looks: its icon (a symbol the page carries) and its category's colour,
// the same the dashboard's journey pictures use. The context's value changes only when
// the types do: anything that changes as people edit comes from a store per element.
import { createContext } from "react";
import type { HandleStore } from "./handles";
import type { LiveStore } from "./live";
import type { CountStore } from "./Status";
import type { Looks, NodeTypeInfo, TriggerTypeInfo } from "./types";

export interface CanvasLooks {
  looks: Looks;
  nodeTypes: Map<string, NodeTypeInfo>;
  triggerTypes: Map<string, TriggerTypeInfo>;
  /** Branch handles that a node's outgoing edges bring (a decision's). */
  handles: HandleStore;
  /** Who else is here and what they hold. */
  live: LiveStore;
  /** Couples on each step of the live version. */
  counts: CountStore;
}

export const LooksContext = createContext<CanvasLooks | null>(null);

export function iconId(looks: Looks, icon: string, category: string): string {
  const name = looks.icons.includes(icon) ? icon : (looks.categoryIcons[category] ?? "square");
  return `${looks.iconPrefix}-icon-${name}`;
}

export function colourOf(looks: Looks, category: string): string {
  return looks.colours[category] ?? looks.defaultColour;
}
