// A live journey's standing: which version is live, and on each step how many couples
// are there now (from the journey's statistics, read again after a publish).
import { useEffect, useState, useSyncExternalStore } from "react";
import type { Api } from "./api";

/** Couples per step, kept per step so a count changing redraws only its step. */
export class CountStore {
  private counts = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  of = (stepId: string): number | undefined => this.counts.get(stepId);

  set(counts: Map<string, number>) {
    this.counts = counts;
    for (const listener of this.listeners) listener();
  }
}

export function useCount(store: CountStore, stepId: string): number | undefined {
  return useSyncExternalStore(store.subscribe, () => store.of(stepId));
}

// A couple still on its way through the journey (not completed, exited or failed).
const ON_THE_WAY = new Set(["active"]);

interface Props {
  api: Api;
  journeyId: string;
  published: number;
  counts: CountStore;
}

export function StatusBar({ api, journeyId, published, counts }: Props) {
  const [live, setLive] = useState<number | null | undefined>(undefined);
  const [total, setTotal] = useState(0);
  useEffect(() => {
    let gone = false;
    void (async () => {
      const journey = await api.journey(journeyId);
      if (gone) return;
      setLive(journey.live_version);
      if (journey.live_version === null) return;
      const stats = await api.stats(journeyId);
      const found = new Map<string, number>();
      let sum = 0;
      for (const step of stats.steps) {
        const here = Object.entries(step.enrollments)
          .filter(([status]) => ON_THE_WAY.has(status))
          .reduce((n, [, count]) => n + count, 0);
        if (step.step_id && here) found.set(step.step_id, here);
        sum += here;
      }
      if (gone) return;
      counts.set(found);
      setTotal(sum);
    })().catch(() => setLive(undefined));
    return () => {
      gone = true;
    };
  }, [api, journeyId, published, counts]);
  if (live === undefined) return null;
  return (
    <p className="canvas-live" aria-label="Journey status">
      {live === null ? "Not published yet." : `Live: version ${live} · ${total} ${total === 1 ? "couple" : "couples"} on their way`}
    </p>
  );
}
