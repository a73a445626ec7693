// The others on this canvas: their avatars (one per person, in their colour) and their
// pointers, drawn in flow coordinates so they sit where the other person points.
import { ViewportPortal } from "@xyflow/react";
import type { LiveStore } from "./live";
import { useOthers } from "./live";
import type { PresenceSession } from "./types";

function initials(name: string): string {
  const words = name.replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
  return (words.length > 1 ? `${words[0]?.[0] ?? ""}${words[1]?.[0] ?? ""}` : name.slice(0, 2)).toUpperCase();
}

export function Avatars({ live }: { live: LiveStore }) {
  const others = useOthers(live);
  const people = new Map<string, PresenceSession>();
  for (const session of others) if (session.user_id !== live.me?.user_id) people.set(session.user_id, session);
  if (!people.size) return null;
  return (
    <ul className="avatars" aria-label="Also on this canvas">
      {[...people.values()].map((p) => (
        <li key={p.user_id} className="avatar" style={{ borderColor: p.color }} title={p.display_name}>
          <span aria-hidden="true">{initials(p.display_name)}</span>
          <span className="visually-hidden">{p.display_name}</span>
        </li>
      ))}
    </ul>
  );
}

export function Cursors({ live }: { live: LiveStore }) {
  const others = useOthers(live);
  return (
    <ViewportPortal>
      {others
        .filter((s) => s.cursor && s.user_id !== live.me?.user_id)
        .map((s) => (
          <div
            key={s.id}
            className="cursor"
            data-cursor-of={s.display_name}
            style={{ transform: `translate(${s.cursor?.x ?? 0}px, ${s.cursor?.y ?? 0}px)`, color: s.color }}
          >
            <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
              <path d="M0 0 L0 14 L4 10 L7 16 L9 15 L6 9 L12 9 Z" fill="currentColor" stroke="#fff" />
            </svg>
            <span className="cursor-name" style={{ background: s.color }}>
              {s.display_name}
            </span>
          </div>
        ))}
    </ViewportPortal>
  );
}
