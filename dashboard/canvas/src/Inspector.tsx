// The side form of the selected step or edge: its label and a config form generated
// from its type's JSON Schema (react-jsonschema-form), validated as it is typed.
// The Form alone: the package index also exports a test helper that needs Ajv.
import Form from "@rjsf/core/lib/components/Form.js";
import type { RJSFSchema } from "@rjsf/utils";
import { useState } from "react";
import { InterpretingValidator } from "./validator";
import type { NodeTypeInfo, StepNode, TriggerEdge, TriggerTypeInfo } from "./types";

const validator = new InterpretingValidator<Record<string, unknown>>();

/** A step as its form opened: the form shows this, and a save sends only what was
 * changed since, so someone else's change meanwhile is neither shown over what is being
 * typed nor overwritten by it. */
export interface Opened {
  label: string;
  config: Record<string, unknown>;
}

interface StepProps {
  node: StepNode;
  type: NodeTypeInfo | undefined;
  readOnly: boolean;
  lockedBy: string | undefined;
  onSave: (opened: Opened, label: string, config: Record<string, unknown>) => void;
}

function LockedNote({ by, what }: { by: string | undefined; what: string }) {
  if (by === undefined) return null;
  return (
    <p className="inspector-locked" role="note">
      {by} is editing this {what}: the form is read-only until they close it.
    </p>
  );
}

export function StepInspector({ node, type, readOnly, lockedBy, onSave }: StepProps) {
  const [opened] = useState<Opened>(() => ({ label: node.data.label, config: node.data.config }));
  const [label, setLabel] = useState(node.data.label);
  const issues = node.data.issues ?? [];
  return (
    <aside className="inspector" aria-label="Step settings">
      <h2>{type?.label ?? node.type}</h2>
      {type?.description && <p className="inspector-help">{type.description}</p>}
      <LockedNote by={lockedBy} what="step" />
      <label className="inspector-field">
        Step label
        <input value={label} onChange={(e) => setLabel(e.target.value)} disabled={readOnly} />
      </label>
      {issues.length > 0 && (
        <ul className="inspector-issues" aria-label="Issues">
          {issues.map((issue, index) => (
            <li key={index}>{issue.message}</li>
          ))}
        </ul>
      )}
      <Form
        schema={(type?.config_schema ?? { type: "object" }) as RJSFSchema}
        formData={opened.config}
        validator={validator}
        liveValidate
        showErrorList={false}
        disabled={readOnly}
        idPrefix={`config-${node.id}`}
        uiSchema={{ "ui:submitButtonOptions": { submitText: "Save step", norender: readOnly } }}
        onSubmit={({ formData }) => onSave(opened, label, (formData ?? {}) as Record<string, unknown>)}
      />
    </aside>
  );
}

interface EdgeProps {
  edge: TriggerEdge;
  triggers: TriggerTypeInfo[];
  readOnly: boolean;
  lockedBy: string | undefined;
  onSave: (trigger: string, label: string, config: Record<string, unknown>) => void;
}

export function EdgeInspector({ edge, triggers, readOnly, lockedBy, onSave }: EdgeProps) {
  const [trigger, setTrigger] = useState(edge.data?.trigger ?? "immediate");
  const [label, setLabel] = useState(typeof edge.label === "string" ? edge.label : "");
  const info = triggers.find((t) => t.name === trigger);
  const config = trigger === edge.data?.trigger ? (edge.data?.config ?? {}) : {};
  return (
    <aside className="inspector" aria-label="Edge settings">
      <h2>When a couple moves on</h2>
      <LockedNote by={lockedBy} what="edge" />
      <label className="inspector-field">
        Trigger
        <select value={trigger} onChange={(e) => setTrigger(e.target.value)} disabled={readOnly}>
          {triggers.map((t) => (
            <option key={t.name} value={t.name}>
              {t.label}
            </option>
          ))}
        </select>
      </label>
      {info?.description && <p className="inspector-help">{info.description}</p>}
      <label className="inspector-field">
        Edge label
        <input value={label} onChange={(e) => setLabel(e.target.value)} disabled={readOnly} />
      </label>
      <Form
        key={trigger}
        schema={(info?.config_schema ?? { type: "object" }) as RJSFSchema}
        formData={config}
        validator={validator}
        liveValidate
        showErrorList={false}
        disabled={readOnly}
        idPrefix={`trigger-${edge.id}`}
        uiSchema={{ "ui:submitButtonOptions": { submitText: "Save edge", norender: readOnly } }}
        onSubmit={({ formData }) => onSave(trigger, label, (formData ?? {}) as Record<string, unknown>)}
      />
    </aside>
  );
}
