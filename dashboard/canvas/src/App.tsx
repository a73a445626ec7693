// The canvas: loads the draft (GET /flow) and the type registry, draws it with React
// Flow, and saves every change as operations (POST /flow/ops) against the revision it
// last saw. Undo and redo move between snapshots; whatever the canvas shows and the
// server lacks is sent the same way.
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
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Api, ApiProblem } from "./api";
import { EdgeInspector, StepInspector } from "./Inspector";
import { LooksContext, colourOf, type CanvasLooks } from "./looks";
import { diff, withoutNulls, type Snapshot } from "./ops";
import { Palette } from "./Palette";
import { StepNodeView } from "./StepNode";
import { TriggerEdgeView } from "./TriggerEdge";
import type { FlowDocument, Looks, NodeTypeInfo, StepNode, TriggerEdge, TriggerTypeInfo } from "./types";

export interface CanvasProps {
  api: Api;
  journeyId: string;
  looks: Looks;
  canEdit: boolean;
}

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

  const shown = useRef<Snapshot>({ nodes: [], edges: [] });
  const saved = useRef<Snapshot>({ nodes: [], edges: [] });
  const revision = useRef(0);
  const sending = useRef(false);
  const history = useRef<{ past: Snapshot[]; future: Snapshot[] }>({ past: [], future: [] });
  const current = useRef<Snapshot | null>(null);
  const restoring = useRef(false);
  shown.current = snapshotOf(nodes, edges);

  const load = useCallback(async () => {
    const [{ flow: document, revision: loaded }, types, triggers] = await Promise.all([
      api.flow(journeyId),
      api.nodeTypes(),
      api.triggerTypes(),
    ]);
    const snapshot = fromServer(document);
    setNodeTypeList(types);
    setTriggerList(triggers);
    setNodes(snapshot.nodes);
    setEdges(snapshot.edges);
    saved.current = snapshot;
    current.current = snapshot;
    revision.current = loaded;
    history.current = { past: [], future: [] };
    setSync({ kind: "saved" });
  }, [api, journeyId]);

  useEffect(() => {
    load().catch((error: unknown) => setSync({ kind: "error", message: problemText(error) }));
  }, [load]);

  const push = useCallback(async (): Promise<void> => {
    if (sending.current) return;
    const target = shown.current;
    const ops = diff(saved.current, target);
    if (!ops.length) {
      setSync({ kind: "saved" });
      return;
    }
    sending.current = true;
    setSync({ kind: "saving" });
    try {
      const outcome = await api.applyOps(journeyId, revision.current, ops);
      revision.current = outcome.revision;
      saved.current = target;
      sending.current = false;
      if (shown.current !== target) await push();
      else setSync({ kind: "saved" });
    } catch (error) {
      sending.current = false;
      if (error instanceof ApiProblem && error.status === 409) {
        setNotice("Someone changed the same thing meanwhile: the canvas shows their version now.");
        await load();
        return;
      }
      setSync({ kind: "error", message: problemText(error) });
    }
  }, [api, journeyId, load]);

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

  const saveStep = useCallback(
    (id: string, label: string, config: Record<string, unknown>) => {
      const kept = withoutNulls(config);
      setNodes((list) => list.map((n) => (n.id === id ? { ...n, data: { ...n.data, label, config: kept } } : n)));
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
    } catch (error) {
      setNotice(`Not published: ${problemText(error)}`);
    }
  }, [api, journeyId]);

  const download = useCallback(() => {
    const blob = new Blob([JSON.stringify(flow.toObject(), null, 2)], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `journey-${journeyId}.json`;
    link.click();
    URL.revokeObjectURL(link.href);
  }, [flow, journeyId]);

  const context = useMemo<CanvasLooks>(() => {
    const extraHandles = new Map<string, string[]>();
    for (const edge of edges) {
      if (!edge.sourceHandle) continue;
      const list = extraHandles.get(edge.source) ?? [];
      if (!list.includes(edge.sourceHandle)) list.push(edge.sourceHandle);
      extraHandles.set(edge.source, list);
    }
    return {
      looks,
      nodeTypes: new Map(nodeTypeList.map((t) => [t.name, t])),
      triggerTypes: new Map(triggerList.map((t) => [t.name, t])),
      extraHandles,
    };
  }, [looks, nodeTypeList, triggerList, edges]);

  // Every registered type is drawn by the same component (a plugin's too).
  const nodeTypes = useMemo<NodeTypes>(
    () => Object.fromEntries(nodeTypeList.map((t) => [t.name, StepNodeView])) as NodeTypes,
    [nodeTypeList],
  );
  const edgeTypes = useMemo<EdgeTypes>(
    () => Object.fromEntries(triggerList.map((t) => [t.name, TriggerEdgeView])) as EdgeTypes,
    [triggerList],
  );

  const selectedNodes = nodes.filter((n) => n.selected);
  const selectedEdges = edges.filter((e) => e.selected);
  const onlyNode = selectedNodes.length === 1 && selectedEdges.length === 0 ? selectedNodes[0] : undefined;
  const onlyEdge = selectedEdges.length === 1 && selectedNodes.length === 0 ? selectedEdges[0] : undefined;
  const history_ = history.current;

  const status =
    sync.kind === "loading" ? "Loading…" : sync.kind === "saving" ? "Saving…" : sync.kind === "saved" ? "All changes saved" : `Not saved: ${sync.message}`;

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
          </>
        )}
        <button type="button" onClick={download}>
          Download JSON
        </button>
        {notice && (
          <p className="canvas-notice" role="alert">
            {notice}
          </p>
        )}
      </div>
      <div className="canvas-body">
        {canEdit && <Palette looks={looks} types={nodeTypeList} onAdd={addStep} />}
        <div className="canvas-flow">
          {sync.kind !== "loading" && (
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
              deleteKeyCode={canEdit ? ["Backspace", "Delete"] : null}
              fitView
              fitViewOptions={{ maxZoom: 1 }}
              minZoom={0.05}
              onlyRenderVisibleElements
              proOptions={{ hideAttribution: true }}
              aria-label="Journey canvas"
            >
              <Background />
              <Controls showInteractive={false} />
              <MiniMap<StepNode>
                pannable
                zoomable
                nodeColor={(n) => colourOf(looks, context.nodeTypes.get(n.type ?? "")?.category ?? "")}
                ariaLabel="Minimap"
              />
            </ReactFlow>
          )}
        </div>
        {onlyNode && (
          <StepInspector
            key={`${onlyNode.id}:${JSON.stringify(onlyNode.data.config)}:${onlyNode.data.label}`}
            node={onlyNode}
            type={context.nodeTypes.get(onlyNode.type ?? "")}
            readOnly={!canEdit}
            onSave={(label, config) => saveStep(onlyNode.id, label, config)}
          />
        )}
        {onlyEdge && (
          <EdgeInspector
            key={`${onlyEdge.id}:${JSON.stringify(onlyEdge.data)}:${String(onlyEdge.label)}`}
            edge={onlyEdge}
            triggers={triggerList}
            readOnly={!canEdit}
            onSave={(trigger, label, config) => saveEdge(onlyEdge.id, trigger, label, config)}
          />
        )}
      </div>
    </LooksContext.Provider>
  );
}
