// Edits the server refused because someone else changed the same property since the
// canvas last saw it: both values side by side, and the choice of which stays. The
// refused value is also kept on the server as a conflict record, so nothing is lost.
import type { ConflictItem, StepNode } from "./types";

export interface Conflict extends ConflictItem {
  conflictId: string;
}

function shown(value: unknown): string {
  if (value === undefined || value === null) return "(none)";
  return typeof value === "string" ? value : JSON.stringify(value);
}

interface Props {
  conflicts: Conflict[];
  nodes: StepNode[];
  onResolve: (conflict: Conflict, keepMine: boolean) => void;
}

export function ConflictPanel({ conflicts, nodes, onResolve }: Props) {
  return (
    <section className="conflicts" aria-label="Conflicting edits" role="region">
      <h2>Someone else changed the same thing</h2>
      {conflicts.map((conflict) => {
        const node = conflict.node_id ? nodes.find((n) => n.id === conflict.node_id) : undefined;
        const where = node ? `Step “${node.data.label || node.id}”` : conflict.edge_id ? `Edge ${conflict.edge_id}` : "The journey";
        return (
          <article key={`${conflict.conflictId}:${conflict.path}`} className="conflict" data-conflict-path={conflict.path}>
            <h3>
              {where}: {conflict.field || "the element"}
            </h3>
            <dl>
              <dt>Theirs (saved now)</dt>
              <dd className="conflict-theirs">{shown(conflict.theirs)}</dd>
              <dt>Mine</dt>
              <dd className="conflict-mine">{shown(conflict.mine)}</dd>
            </dl>
            <button type="button" onClick={() => onResolve(conflict, true)}>
              Keep mine
            </button>
            <button type="button" onClick={() => onResolve(conflict, false)}>
              Take theirs
            </button>
          </article>
        );
      })}
    </section>
  );
}
