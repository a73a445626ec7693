// An edge labelled with its trigger (and the studio's own label, when it has one). The
// label is an HTML element of its own per edge: drawn only when zoomed in enough to read
// it, so a large journey seen whole draws paths alone.
import { BaseEdge, EdgeLabelRenderer, getSmoothStepPath, useStore, type EdgeProps, type ReactFlowState } from "@xyflow/react";
import { memo, useContext } from "react";
import { LooksContext } from "./looks";
import type { TriggerEdge } from "./types";

export const TriggerEdgeView = memo(function TriggerEdgeView(props: EdgeProps<TriggerEdge>) {
  const context = useContext(LooksContext);
  const [path, labelX, labelY] = getSmoothStepPath(props);
  const trigger = props.data?.trigger ?? "";
  const triggerLabel = context?.triggerTypes.get(trigger)?.label ?? trigger;
  const own = typeof props.label === "string" ? props.label : "";
  const issues = props.data?.issues ?? [];
  const readable = useStore(isReadable);
  return (
    <>
      <BaseEdge id={props.id} path={path} markerEnd={props.markerEnd} style={props.style} />
      {(readable || props.selected || issues.length > 0) && (
      <EdgeLabelRenderer>
        <div
          className={`edge-label${props.selected ? " edge-label-selected" : ""}${issues.length ? " edge-label-issues" : ""}`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          data-edge-id={props.id}
        >
          <span className="edge-trigger">{triggerLabel}</span>
          {own && <span className="edge-own">{own}</span>}
        </div>
      </EdgeLabelRenderer>
      )}
    </>
  );
});

const LABEL_MIN_ZOOM = 0.45;

function isReadable(state: ReactFlowState): boolean {
  return state.transform[2] >= LABEL_MIN_ZOOM;
}
