// The canvas: loads the draft (GET /flow) and the type registry, draws it with React
// Flow, and saves every change as operations (POST /flow/ops) against the revision it
// last saw. Undo and redo move between snapshots; whatever the canvas shows and the
// server lacks is sent the same way. Others' changes arrive on the live stream and are
// applied as they come; a step or edge open in the side form is held by an edit lock
// whose fencing token goes with every save.
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  addEdge,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type EdgeTypes,
  type NodeChange,
  type NodeTypes,
} from "@xyflow/react";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Api, ApiProblem } from "./api";
import { applyMergePatch, applyOps } from "./apply";
import { ConflictPanel, type Conflict } from "./ConflictPanel";
import { HandleStore } from "./handles";
import { EdgeInspector, StepInspector, type Opened } from "./Inspector";
import { LiveStore, lockKey, useOtherLock, type OpsMessage } from "./live";
import { LooksContext, colourOf, type CanvasLooks } from "./looks";
import { diff, mergePatch, withoutNulls, type FlowOp, type Snapshot } from "./ops";
import { Palette } from "./Palette";
import { Avatars, Cursors } from "./Presence";
import { CountStore, StatusBar } from "./Status";
import { StepNodeView } from "./StepNode";
import { TriggerEdgeView } from "./TriggerEdge";
import type { FlowDocument, Looks, NodeTypeInfo, RefusedOp, StepNode, TriggerEdge, TriggerTypeInfo } from "./types";

export interface CanvasProps {
  api: Api;
  journeyId: string;
  looks: Looks;
  canEdit: boolean;
}

type LockState = { key: string; held: boolean; by?: string } | null;

type SyncState = { kind: "loading" } | { kind: "saved" } | { kind: "saving" } | { kind: "error"; message: string };

const HISTORY_LIMIT = 100;

function snapshotOf(nodes: StepNode[], edges: TriggerEdge[]): Snapshot {
  return { nodes, edges };
}

function fromServer(flow: FlowDocument): Snapshot {
  return {
    nodes: flow.nodes.map((n) => ({ ...n, data: { ...n.data, config: n.data.config ?? {}, label: n.data.label ?? "" } })),
    edges: flow.edges.map((e) => ({
      ...e,
      type: e.data?.trigger ?? e.type ?? "immediate",
      label: e.label ?? "",
      data: { trigger: e.data?.trigger ?? "immediate", config: e.data?.config ?? {}, priority: e.data?.priority ?? 0, issues: e.data?.issues ?? [] },
    })),
  };
}

function problemText(error: unknown): string {
  if (error instanceof ApiProblem) {
    const errors = Array.isArray(error.problem.errors) ? (error.problem.errors as { message?: string; node_id?: string; edge_id?: string; field?: string }[]) : [];
    const located = errors.slice(0, 5).map((e) => `${e.node_id ?? e.edge_id ?? e.field ?? ""}: ${e.message ?? ""}`);
    return [error.message, ...located].join(" — ");
  }
  return error instanceof Error ? error.message : String(error);
}

function split(key: string): ["node" | "edge", string] {
  const at = key.indexOf(":");
  return [key.slice(0, at) as "node" | "edge", key.slice(at + 1)];
}

/** `next` with the selection `previous` had (an element still there stays selected). */
function keepSelection(previous: Snapshot, next: Snapshot): Snapshot {
  const nodes = new Set(previous.nodes.filter((n) => n.selected).map((n) => n.id));
  const edges = new Set(previous.edges.filter((e) => e.selected).map((e) => e.id));
  return {
    nodes: next.nodes.map((n) => (nodes.has(n.id) !== Boolean(n.selected) ? { ...n, selected: nodes.has(n.id) } : n)),
    edges: next.edges.map((e) => (edges.has(e.id) !== Boolean(e.selected) ? { ...e, selected: edges.has(e.id) } : e)),
  };
}

function touches(op: FlowOp, id: string): boolean {
  return ("node_id" in op && op.node_id === id) || (op.op === "add_node" && op.node.id === id);
}

function newId(prefix: string, taken: Set<string>): string {
  for (let n = 1; ; n += 1) {
    const id = `${prefix}_${n}`;
    if (!taken.has(id)) return id;
  }
}

export function Canvas({ api, journeyId, looks, canEdit }: CanvasProps) {
  const flow = useReactFlow<StepNode, TriggerEdge>();
  const [nodes, setNodes] = useState<StepNode[]>([]);
  const [edges, setEdges] = useState<TriggerEdge[]>([]);
  const [nodeTypeList, setNodeTypeList] = useState<NodeTypeInfo[]>([]);
  const [triggerList, setTriggerList] = useState<TriggerTypeInfo[]>([]);
  const [sync, setSync] = useState<SyncState>({ kind: "loading" });
  const [notice, setNotice] = useState("");
  const [commits, setCommits] = useState(0);
  const [lock, setLock] = useState<LockState>(null);
  const [conflicts, setConflicts] = useState<Conflict[]>([]);
  const [formEpoch, setFormEpoch] = useState(0);
  const [published, setPublished] = useState(0);

  const shown = useRef<Snapshot>({ nodes: [], edges: [] });
  const saved = useRef<Snapshot>({ nodes: [], edges: [] });
  const revision = useRef(0);
  const sending = useRef(false);
  const idle = useRef<Promise<void>>(Promise.resolve());
  const history = useRef<{ past: Snapshot[]; future: Snapshot[] }>({ past: [], future: [] });
  const current = useRef<Snapshot | null>(null);
  const restoring = useRef(false);
  const sentOps = useRef(new Set<string>());
  // Edit locks held: element key → fencing token; a grant in flight is awaited before
  // a save, so the save carries its token.
  const held = useRef(new Map<string, number>());
  const granting = useRef<Promise<unknown>>(Promise.resolve());
  // The form open: the revision it was opened at, and whether someone else changed
  // its step since (its save is then based on that revision, so the server tells a
  // concurrent edit of the same property apart).
  const opened = useRef<{ id: string; revision: number; changedByOthers: boolean } | null>(null);
  const formBase = useRef(new Map<string, number>());
  shown.current = snapshotOf(nodes, edges);

  const show = useCallback((snapshot: Snapshot) => {
    shown.current = snapshot;
    setNodes(snapshot.nodes);
    setEdges(snapshot.edges);
  }, []);

  const load = useCallback(async () => {
    const [{ flow: document, revision: loaded }, types, triggers] = await Promise.all([
      api.flow(journeyId),
      api.nodeTypes(),
      api.triggerTypes(),
    ]);
    const snapshot = fromServer(document);
    setNodeTypeList(types);
    setTriggerList(triggers);
    show(snapshot);
    saved.current = snapshot;
    current.current = snapshot;
    revision.current = loaded;
    history.current = { past: [], future: [] };
    setSync({ kind: "saved" });
  }, [api, journeyId, show]);

  /** Read the flow again and lay over it what the canvas changed since `base` and has
   * not sent (the selection kept). */
  const refetch = useCallback(
    async (base?: Snapshot) => {
      const pending = diff(base ?? saved.current, shown.current);
      const { flow: document, revision: loaded } = await api.flow(journeyId);
      const server = fromServer(document);
      saved.current = server;
      revision.current = loaded;
      const next = keepSelection(shown.current, applyOps(server, pending));
      current.current = next;
      show(next);
    },
    [api, journeyId, show],
  );

  useEffect(() => {
    load().catch((error: unknown) => setSync({ kind: "error", message: problemText(error) }));
  }, [load]);

  /** Validation issues as the server sees the draft now, pinned on the elements that
   * have them (only the elements whose issues changed are redrawn). */
  const refreshIssues = useCallback(async () => {
    const { flow: document, revision: loaded } = await api.flow(journeyId);
    if (loaded !== revision.current) return;
    const nodeIssues = new Map(document.nodes.map((n) => [n.id, n.data.issues ?? []]));
    const edgeIssues = new Map(document.edges.map((e) => [e.id, e.data?.issues ?? []]));
    setNodes((list) =>
      list.map((n) => {
        const issues = nodeIssues.get(n.id) ?? [];
        return JSON.stringify(issues) === JSON.stringify(n.data.issues ?? []) ? n : { ...n, data: { ...n.data, issues } };
      }),
    );
    setEdges((list) =>
      list.map((e) => {
        const issues = edgeIssues.get(e.id) ?? [];
        return !e.data || JSON.stringify(issues) === JSON.stringify(e.data.issues ?? []) ? e : { ...e, data: { ...e.data, issues } };
      }),
    );
  }, [api, journeyId]);

  const push = useCallback(async (): Promise<void> => {
    if (sending.current) return;
    sending.current = true;
    let finished: () => void = () => undefined;
    idle.current = new Promise((resolve) => (finished = resolve));
    try {
      await granting.current;
      const target = shown.current;
      const ops = diff(saved.current, target);
      if (!ops.length) {
        setSync({ kind: "saved" });
        return;
      }
      for (const op of ops) {
        sentOps.current.add(op.id);
        const base = op.op === "update_node" ? formBase.current.get(op.node_id) : undefined;
        if (op.op === "update_node" && base !== undefined) op.base_revision = base;
      }
      formBase.current.clear();
      setSync({ kind: "saving" });
      const before = revision.current;
      try {
        const outcome = await api.applyOps(journeyId, revision.current, ops, Object.fromEntries(held.current));
        saved.current = applyOps(saved.current, ops);
        if (outcome.revision > Math.max(before, revision.current) + 1) {
          // Someone else's ops came in between and the stream has not brought them yet.
          await refetch(target);
        } else {
          revision.current = Math.max(revision.current, outcome.revision);
        }
        if (opened.current && !opened.current.changedByOthers && ops.some((op) => touches(op, opened.current?.id ?? ""))) {
          opened.current.revision = revision.current;
        }
      } catch (error) {
        if (error instanceof ApiProblem && error.status === 409 && Array.isArray(error.problem.rejected)) {
          // The ops that merged are in; the refused values go to the conflict panel.
          const refused = error.problem.rejected as RefusedOp[];
          setConflicts((list) => [...list, ...refused.flatMap((r) => r.conflicts.map((c) => ({ ...c, conflictId: r.conflict_id })))]);
          await refetch(target);
        } else if (error instanceof ApiProblem && (error.status === 409 || error.status === 423)) {
          setNotice(`Not saved: ${problemText(error)}`);
          await load();
          return;
        } else {
          setSync({ kind: "error", message: problemText(error) });
          return;
        }
      }
      sending.current = false;
      if (diff(saved.current, shown.current).length) {
        await push();
        return;
      }
      setSync({ kind: "saved" });
      void refreshIssues();
    } finally {
      sending.current = false;
      finished();
    }
  }, [api, journeyId, load, refetch, refreshIssues]);

  // -- the live stream -----------------------------------------------------------------

  const onOps = useRef<(message: OpsMessage) => void>(() => undefined);
  onOps.current = (message: OpsMessage) => {
    if (message.revision <= revision.current) return;
    if (message.revision !== revision.current + 1) {
      void refetch();
      return;
    }
    revision.current = message.revision;
    if (message.ops.every((op) => sentOps.current.has(op.id))) return;
    saved.current = applyOps(saved.current, message.ops);
    const form = opened.current;
    if (form && message.ops.some((op) => touches(op, form.id))) form.changedByOthers = true;
    const next = applyOps(shown.current, message.ops);
    if (current.current) current.current = applyOps(current.current, message.ops);
    show(next);
  };
  const onRefetch = useRef(() => undefined as unknown);
  onRefetch.current = () => void refetch();

  const live = useMemo(
    () =>
      new LiveStore(
        api,
        journeyId,
        {
          onHello: () => undefined,
          onOps: (message) => onOps.current(message),
          onRefetch: () => onRefetch.current(),
          onPublished: () => setPublished((n) => n + 1),
        },
        () => revision.current,
      ),
    [api, journeyId],
  );

  const loaded = sync.kind !== "loading";
  useEffect(() => {
    if (!loaded) return;
    live.start().catch((error: unknown) => setNotice(`Live updates off: ${problemText(error)}`));
    return () => live.stop();
  }, [live, loaded]);

  // A finished change (drop, add, remove, connect, form save, undo) goes into the
  // history and to the server; a drag in progress does neither.
  useEffect(() => {
    if (commits === 0) return;
    const now = shown.current;
    if (restoring.current) {
      restoring.current = false;
    } else if (current.current) {
      history.current.past = [...history.current.past, current.current].slice(-HISTORY_LIMIT);
      history.current.future = [];
    }
    current.current = now;
    void push();
  }, [commits, push]);

  const commit = useCallback(() => setCommits((n) => n + 1), []);

  const restore = useCallback(
    (snapshot: Snapshot) => {
      restoring.current = true;
      setNodes(snapshot.nodes);
      setEdges(snapshot.edges);
      setCommits((n) => n + 1);
    },
    [],
  );

  const undo = useCallback(() => {
    const { past, future } = history.current;
    const previous = past[past.length - 1];
    if (!previous || !current.current) return;
    history.current = { past: past.slice(0, -1), future: [current.current, ...future] };
    restore(previous);
  }, [restore]);

  const redo = useCallback(() => {
    const { past, future } = history.current;
    const next = future[0];
    if (!next || !current.current) return;
    history.current = { past: [...past, current.current], future: future.slice(1) };
    restore(next);
  }, [restore]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target?.closest("input, textarea, select, .inspector")) return;
      const mod = event.ctrlKey || event.metaKey;
      if (!mod || !canEdit) return;
      const key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) {
        event.preventDefault();
        undo();
      } else if ((key === "z" && event.shiftKey) || key === "y") {
        event.preventDefault();
        redo();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [undo, redo, canEdit]);

  const onNodesChange = useCallback(
    (changes: NodeChange<StepNode>[]) => {
      setNodes((list) => applyNodeChanges(changes, list));
      if (changes.some((c) => c.type === "remove" || c.type === "add" || (c.type === "position" && c.dragging === false))) {
        commit();
      }
    },
    [commit],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<TriggerEdge>[]) => {
      setEdges((list) => applyEdgeChanges(changes, list));
      if (changes.some((c) => c.type === "remove" || c.type === "add")) commit();
    },
    [commit],
  );

  const onConnect = useCallback(
    (connection: Connection) => {
      const trigger = connection.sourceHandle === "otherwise" ? "otherwise" : "immediate";
      setEdges((list) => {
        const taken = new Set(list.map((e) => e.id));
        let id = `${connection.source}-to-${connection.target}`;
        for (let n = 2; taken.has(id); n += 1) id = `${connection.source}-to-${connection.target}-${n}`;
        const edge: TriggerEdge = {
          ...connection,
          id,
          type: trigger,
          label: "",
          data: { trigger, config: {}, priority: 0 },
        };
        return addEdge(edge, list);
      });
      commit();
    },
    [commit],
  );

  const addStep = useCallback(
    (type: NodeTypeInfo) => {
      const pane = document.querySelector(".react-flow")?.getBoundingClientRect();
      const centre = pane
        ? flow.screenToFlowPosition({ x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 })
        : { x: 0, y: 0 };
      setNodes((list) => {
        const id = newId(type.name, new Set(list.map((n) => n.id)));
        // One below the other, so steps added in a row can be connected at once.
        const row = list.length % 6;
        const node: StepNode = {
          id,
          type: type.name,
          position: { x: Math.round(centre.x + row * 20), y: Math.round(centre.y + (row - 3) * 110) },
          data: { label: type.label, config: {} },
          selected: true,
        };
        return [...list.map((n) => ({ ...n, selected: false })), node];
      });
      setEdges((list) => list.map((e) => ({ ...e, selected: false })));
      commit();
    },
    [commit, flow],
  );

  /** A form's save: only what was changed in the form since it opened, laid over the
   * step as it is now (someone else's change to another property stays). */
  const saveStep = useCallback(
    (id: string, form: Opened, label: string, config: Record<string, unknown>) => {
      const patch = mergePatch(form.config, withoutNulls(config));
      const open = opened.current;
      if (open?.id === id && open.changedByOthers) formBase.current.set(id, open.revision);
      setNodes((list) =>
        list.map((n) =>
          n.id === id
            ? { ...n, data: { ...n.data, label: label !== form.label ? label : n.data.label, config: applyMergePatch(n.data.config ?? {}, patch) } }
            : n,
        ),
      );
      commit();
    },
    [commit],
  );

  const saveEdge = useCallback(
    (id: string, trigger: string, label: string, config: Record<string, unknown>) => {
      setEdges((list) =>
        list.map((e) =>
          e.id === id ? { ...e, type: trigger, label, data: { trigger, config: withoutNulls(config), priority: e.data?.priority ?? 0, issues: e.data?.issues ?? [] } } : e,
        ),
      );
      commit();
    },
    [commit],
  );

  const publish = useCallback(async () => {
    setNotice("");
    try {
      const version = await api.publish(journeyId);
      setNotice(`Published version ${version.version}.`);
      setPublished((n) => n + 1);
    } catch (error) {
      setNotice(`Not published: ${problemText(error)}`);
    }
  }, [api, journeyId]);

  const rollback = useCallback(async () => {
    setNotice("");
    try {
      const versions = (await api.versions(journeyId)).map((v) => v.version).sort((a, b) => b - a);
      const previous = versions[1];
      if (previous === undefined) {
        setNotice("Nothing to roll back to: only one version was published.");
        return;
      }
      const version = await api.rollback(journeyId, previous);
      setNotice(`Rolled back: version ${version.version} is version ${previous} again.`);
      setPublished((n) => n + 1);
    } catch (error) {
      setNotice(`Not rolled back: ${problemText(error)}`);
    }
  }, [api, journeyId]);

  // -- the edit lock of the element in the side form -----------------------------------

  const selectedNodes = nodes.filter((n) => n.selected);
  const selectedEdges = edges.filter((e) => e.selected);
  const onlyNode = selectedNodes.length === 1 && selectedEdges.length === 0 ? selectedNodes[0] : undefined;
  const onlyEdge = selectedEdges.length === 1 && selectedNodes.length === 0 ? selectedEdges[0] : undefined;
  const selectedKey = onlyNode ? lockKey("node", onlyNode.id) : onlyEdge ? lockKey("edge", onlyEdge.id) : null;
  const theirLock = useOtherLock(live, selectedKey ?? "");
  const [lockTry, setLockTry] = useState(0);
  // Someone else's lock on the open element went away: ask again.
  const hadTheirLock = useRef(false);
  useEffect(() => {
    if (hadTheirLock.current && !theirLock) setLockTry((n) => n + 1);
    hadTheirLock.current = theirLock !== undefined;
  }, [theirLock]);

  useEffect(() => {
    if (!selectedKey || !canEdit || !loaded) {
      setLock(null);
      return;
    }
    const [kind, id] = split(selectedKey);
    let renewing: number | undefined;
    // After the save in flight: a step just added exists once it is saved.
    const grant = idle.current.then(() => api.lock(journeyId, kind, id, live.me?.id ?? null)).then(
      (locks) => {
        const mine = locks.find((l) => lockKey(l.target_kind, l.target_id) === selectedKey);
        if (!mine) return;
        held.current.set(selectedKey, mine.fencing_token);
        setLock({ key: selectedKey, held: true });
        // Renewed at half the 5-minute lease while the form stays open.
        renewing = window.setInterval(() => {
          api.renew(journeyId, kind, id, mine.fencing_token).catch(() => {
            held.current.delete(selectedKey);
            setLock({ key: selectedKey, held: false, by: "someone else" });
          });
        }, 150_000);
      },
      (error: unknown) => {
        if (!(error instanceof ApiProblem && error.status === 409)) {
          setNotice(`Not locked for editing: ${problemText(error)}`);
          return;
        }
        const holders = Array.isArray(error.problem.holders) ? (error.problem.holders as { holder_name?: string }[]) : [];
        setLock({ key: selectedKey, held: false, by: holders[0]?.holder_name || "someone else" });
      },
    );
    granting.current = grant;
    setLock({ key: selectedKey, held: false });
    return () => {
      window.clearInterval(renewing);
      // Released once the saves that need its token are done.
      void grant.then(async () => {
        await idle.current;
        if (!held.current.delete(selectedKey)) return;
        await api.release(journeyId, kind, id).catch(() => undefined);
      });
    };
  }, [api, journeyId, live, selectedKey, canEdit, loaded, lockTry]);

  useEffect(() => {
    opened.current = selectedKey ? { id: split(selectedKey)[1], revision: revision.current, changedByOthers: false } : null;
    live.selection(selectedKey ? [split(selectedKey)[1]] : []);
  }, [live, selectedKey, formEpoch]);

  // -- conflicts -----------------------------------------------------------------------

  const resolve = useCallback(
    (conflict: Conflict, keepMine: boolean) => {
      setConflicts((list) => list.filter((c) => c !== conflict));
      if (keepMine) {
        const path = conflict.field.split("/");
        const patch = path.reduceRight<unknown>((value, key) => ({ [key]: value }), conflict.mine ?? null) as Record<string, unknown>;
        if (conflict.node_id) {
          const id = conflict.node_id;
          setNodes((list) =>
            list.map((n) => {
              if (n.id !== id) return n;
              if (path[0] === "config") return { ...n, data: { ...n.data, config: applyMergePatch(n.data.config, patch.config as Record<string, unknown>) } };
              return { ...n, data: applyMergePatch(n.data, patch) as StepNode["data"] };
            }),
          );
        } else if (conflict.edge_id) {
          const id = conflict.edge_id;
          setEdges((list) =>
            list.map((e) => {
              if (e.id !== id || !e.data) return e;
              if (path[0] === "config") return { ...e, data: { ...e.data, config: applyMergePatch(e.data.config, patch.config as Record<string, unknown>) } };
              if (path[0] === "label") return { ...e, label: String(conflict.mine ?? "") };
              return e;
            }),
          );
        }
        commit();
      }
      setFormEpoch((n) => n + 1);
    },
    [commit],
  );

  const download = useCallback(() => {
    const blob = new Blob([JSON.stringify(flow.toObject(), null, 2)], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `journey-${journeyId}.json`;
    link.click();
    URL.revokeObjectURL(link.href);
  }, [flow, journeyId]);

  const handles = useMemo(() => new HandleStore(), []);
  const counts = useMemo(() => new CountStore(), []);
  useLayoutEffect(() => handles.update(edges), [handles, edges]);

  const context = useMemo<CanvasLooks>(
    () => ({
      looks,
      nodeTypes: new Map(nodeTypeList.map((t) => [t.name, t])),
      triggerTypes: new Map(triggerList.map((t) => [t.name, t])),
      handles,
      live,
      counts,
    }),
    [looks, nodeTypeList, triggerList, handles, live, counts],
  );

  const flowPane = useRef<HTMLDivElement>(null);
  const onPointerMove = useCallback(
    (event: React.PointerEvent) => live.cursor(flow.screenToFlowPosition({ x: event.clientX, y: event.clientY })),
    [flow, live],
  );
  const onPointerLeave = useCallback(() => live.cursor(null), [live]);
  const minimapColour = useCallback(
    (n: StepNode) => colourOf(looks, context.nodeTypes.get(n.type ?? "")?.category ?? ""),
    [looks, context],
  );

  // Every registered type is drawn by the same component (a plugin's too).
  const nodeTypes = useMemo<NodeTypes>(
    () => Object.fromEntries(nodeTypeList.map((t) => [t.name, StepNodeView])) as NodeTypes,
    [nodeTypeList],
  );
  const edgeTypes = useMemo<EdgeTypes>(
    () => Object.fromEntries(triggerList.map((t) => [t.name, TriggerEdgeView])) as EdgeTypes,
    [triggerList],
  );

  const history_ = history.current;

  const status =
    sync.kind === "loading" ? "Loading…" : sync.kind === "saving" ? "Saving…" : sync.kind === "saved" ? "All changes saved" : `Not saved: ${sync.message}`;

  const lockedBy = lock && lock.key === selectedKey && !lock.held ? lock.by : undefined;
  const readOnly = !canEdit || lockedBy !== undefined;
  const formKey = `${selectedKey ?? ""}:${formEpoch}`;

  return (
    <LooksContext.Provider value={context}>
      <div className="canvas-toolbar" role="toolbar" aria-label="Canvas">
        <p className={`canvas-status canvas-status-${sync.kind}`} role="status" aria-live="polite">
          {status}
        </p>
        {canEdit && (
          <>
            <button type="button" onClick={undo} disabled={!history_.past.length} aria-keyshortcuts="Control+Z">
              Undo
            </button>
            <button type="button" onClick={redo} disabled={!history_.future.length} aria-keyshortcuts="Control+Shift+Z">
              Redo
            </button>
            <button type="button" onClick={() => void publish()}>
              Publish
            </button>
            <button type="button" onClick={() => void rollback()}>
              Roll back
            </button>
          </>
        )}
        <button type="button" onClick={download}>
          Download JSON
        </button>
        {loaded && <Avatars live={live} />}
        {notice && (
          <p className="canvas-notice" role="alert">
            {notice}
          </p>
        )}
      </div>
      {loaded && <StatusBar api={api} journeyId={journeyId} published={published} counts={counts} />}
      {conflicts.length > 0 && <ConflictPanel conflicts={conflicts} nodes={nodes} onResolve={resolve} />}
      <div className="canvas-body">
        {canEdit && <Palette looks={looks} types={nodeTypeList} onAdd={addStep} />}
        <div className="canvas-flow" ref={flowPane} onPointerMove={onPointerMove} onPointerLeave={onPointerLeave}>
          {loaded && (
            <ReactFlow<StepNode, TriggerEdge>
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              nodesDraggable={canEdit}
              nodesConnectable={canEdit}
              deleteKeyCode={canEdit ? DELETE_KEYS : null}
              fitView
              fitViewOptions={FIT_VIEW}
              minZoom={0.05}
              onlyRenderVisibleElements
              proOptions={PRO_OPTIONS}
              aria-label="Journey canvas"
            >
              <Background />
              <Controls showInteractive={false} />
              <MiniMap<StepNode> pannable zoomable nodeColor={minimapColour} ariaLabel="Minimap" />
              <Cursors live={live} />
            </ReactFlow>
          )}
        </div>
        {onlyNode && (
          <StepInspector
            key={formKey}
            node={onlyNode}
            type={context.nodeTypes.get(onlyNode.type ?? "")}
            readOnly={readOnly}
            lockedBy={lockedBy}
            onSave={(form, label, config) => saveStep(onlyNode.id, form, label, config)}
          />
        )}
        {onlyEdge && (
          <EdgeInspector
            key={`${formKey}:${JSON.stringify(onlyEdge.data)}:${String(onlyEdge.label)}`}
            edge={onlyEdge}
            triggers={triggerList}
            readOnly={readOnly}
            lockedBy={lockedBy}
            onSave={(trigger, label, config) => saveEdge(onlyEdge.id, trigger, label, config)}
          />
        )}
      </div>
    </LooksContext.Provider>
  );
}

const DELETE_KEYS = ["Backspace", "Delete"];
const FIT_VIEW = { maxZoom: 1 };
const PRO_OPTIONS = { hideAttribution: true };
