// One step on the canvas: its type's icon, colour and label, the step's own label, its
// handles (a decision's branches too), how many validation issues it has, and who else
// is editing it. Memoized: React Flow hands it the same props until the step changes.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo, useContext } from "react";
import { useExtraHandles } from "./handles";
import { lockKey, useOtherLock } from "./live";
import { LooksContext, colourOf, iconId, type CanvasLooks } from "./looks";
import { useCount } from "./Status";
import type { StepNode } from "./types";

function StepBody({ id, type, data, selected, context }: NodeProps<StepNode> & { context: CanvasLooks }) {
  const extra = useExtraHandles(context.handles, id);
  const lock = useOtherLock(context.live, lockKey("node", id));
  const here = useCount(context.counts, id);
  const info = context.nodeTypes.get(type ?? "");
  const category = info?.category ?? "";
  const colour = colourOf(context.looks, category);
  const declared = info?.handles ?? [];
  const sourceIds = declared.filter((h) => h.type === "source").map((h) => ({ id: h.id, label: h.label }));
  for (const handle of extra) {
    if (!sourceIds.some((h) => h.id === handle)) sourceIds.push({ id: handle, label: handle });
  }
  const hasTarget = declared.some((h) => h.type === "target") || !info;
  const issues = data.issues ?? [];
  const lockColour = lock ? context.live.colourOf(lock.holder) : undefined;
  return (
    <div
      className={`step${selected ? " step-selected" : ""}${issues.length ? " step-has-issues" : ""}${lock ? " step-locked" : ""}`}
      style={{ borderColor: colour, boxShadow: lockColour ? `0 0 0 3px ${lockColour}` : undefined }}
      data-step-id={id}
      data-step-type={type}
    >
      {hasTarget && <Handle type="target" position={Position.Top} />}
      {lock && (
        <div className="step-lock" style={{ background: lockColour }} data-locked-by={lock.holder_name}>
          {lock.holder_name || "Someone"} is editing
        </div>
      )}
      <div className="step-type" style={{ color: colour }}>
        <svg className="step-icon" aria-hidden="true">
          <use href={`#${iconId(context.looks, info?.icon ?? "", category)}`} />
        </svg>
        <span>{info?.label ?? type}</span>
      </div>
      <div className="step-label">{data.label || id}</div>
      {here !== undefined && (
        <div className="step-count" title="Couples on this step now">
          {here} {here === 1 ? "couple" : "couples"} here
        </div>
      )}
      {issues.length > 0 && (
        <div className="step-issues" title={issues.map((i) => i.message).join("\n")}>
          {issues.length} {issues.length === 1 ? "issue" : "issues"}
        </div>
      )}
      {sourceIds.map((handle, index) => (
        <Handle
          key={handle.id ?? ""}
          type="source"
          position={Position.Bottom}
          id={handle.id ?? undefined}
          style={sourceIds.length > 1 ? { left: `${((index + 1) * 100) / (sourceIds.length + 1)}%` } : undefined}
          title={handle.label}
        >
          {sourceIds.length > 1 && <span className="handle-label">{handle.label}</span>}
        </Handle>
      ))}
    </div>
  );
}

export const StepNodeView = memo(function StepNodeView(props: NodeProps<StepNode>) {
  const context = useContext(LooksContext);
  return context ? <StepBody {...props} context={context} /> : null;
});
