// One step on the canvas: its type's icon, colour and label, the step's own label, its
// handles (a decision's branches too), and how many validation issues it has.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { useContext } from "react";
import { LooksContext, colourOf, iconId } from "./looks";
import type { StepNode } from "./types";

export function StepNodeView({ id, type, data, selected }: NodeProps<StepNode>) {
  const context = useContext(LooksContext);
  if (!context) return null;
  const info = context.nodeTypes.get(type ?? "");
  const category = info?.category ?? "";
  const colour = colourOf(context.looks, category);
  const declared = info?.handles ?? [];
  const sourceIds = declared.filter((h) => h.type === "source").map((h) => ({ id: h.id, label: h.label }));
  for (const extra of context.extraHandles.get(id) ?? []) {
    if (!sourceIds.some((h) => h.id === extra)) sourceIds.push({ id: extra, label: extra });
  }
  const hasTarget = declared.some((h) => h.type === "target") || !info;
  const issues = data.issues ?? [];
  return (
    <div
      className={`step${selected ? " step-selected" : ""}${issues.length ? " step-has-issues" : ""}`}
      style={{ borderColor: colour }}
      data-step-id={id}
      data-step-type={type}
    >
      {hasTarget && <Handle type="target" position={Position.Top} />}
      <div className="step-type" style={{ color: colour }}>
        <svg className="step-icon" aria-hidden="true">
          <use href={`#${iconId(context.looks, info?.icon ?? "", category)}`} />
        </svg>
        <span>{info?.label ?? type}</span>
      </div>
      <div className="step-label">{data.label || id}</div>
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
