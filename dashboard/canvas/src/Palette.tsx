// The steps a studio can add, by category: a button each (the keyboard reaches them).
import { colourOf, iconId } from "./looks";
import type { Looks, NodeTypeInfo } from "./types";

interface Props {
  looks: Looks;
  types: NodeTypeInfo[];
  onAdd: (type: NodeTypeInfo) => void;
}

export function Palette({ looks, types, onAdd }: Props) {
  const categories = new Map<string, NodeTypeInfo[]>();
  for (const type of [...types].sort((a, b) => a.label.localeCompare(b.label))) {
    const list = categories.get(type.category) ?? [];
    list.push(type);
    categories.set(type.category, list);
  }
  return (
    <nav className="palette" aria-label="Add a step">
      <h2>Add a step</h2>
      {[...categories.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([category, list]) => (
        <section key={category} aria-label={category}>
          <h3 style={{ color: colourOf(looks, category) }}>{category}</h3>
          <ul>
            {list.map((type) => (
              <li key={type.name}>
                <button type="button" onClick={() => onAdd(type)} title={type.description} aria-label={`Add ${type.label}`}>
                  <svg className="step-icon" aria-hidden="true" style={{ color: colourOf(looks, category) }}>
                    <use href={`#${iconId(looks, type.icon, category)}`} />
                  </svg>
                  {type.label}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
