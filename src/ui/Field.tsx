import { useId, useState, type ReactNode } from 'react';

/** A labelled number input with an optional error shown next to it. */
export function NumberField(props: {
  label: string;
  value: number;
  onChange: (v: number) => void;
  step?: number;
  min?: number;
  max?: number;
  error?: string | null;
  disabled?: boolean;
  testId?: string;
}) {
  const id = useId();
  // What the student is typing, while the field has focus: shown as typed. The value the store keeps may be clamped
  // (a chat setting's "at least 1"), and shown at once it rewrote the typing itself: clearing "200" to type "300"
  // showed the clamp's 1, and the next digits went after it ("1300"). The stored value shows again on leaving.
  const [draft, setDraft] = useState<string | null>(null);
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        value={draft ?? (Number.isFinite(props.value) ? props.value : '')}
        onBlur={() => setDraft(null)}
        step={props.step ?? 1}
        min={props.min}
        max={props.max}
        disabled={props.disabled}
        aria-invalid={Boolean(props.error)}
        aria-describedby={props.error ? `${id}-err` : undefined}
        data-testid={props.testId}
        onChange={(e) => {
          setDraft(e.target.value);
          props.onChange(e.target.value === '' ? NaN : Number(e.target.value));
        }}
      />
      {props.error && (
        <span className="field-error" id={`${id}-err`} role="alert">
          {props.error}
        </span>
      )}
    </div>
  );
}

export function SelectField<T extends string>(props: {
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange: (v: T) => void;
  disabled?: boolean;
  testId?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value} disabled={props.disabled} data-testid={props.testId} onChange={(e) => props.onChange(e.target.value as T)}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * A "?" that shows a short explanation when pressed. Phrasing content only (spans), so it can sit inside a
 * heading, a paragraph or a checkbox's label; a press inside a label does not also toggle the checkbox.
 */
export function Tip({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const toggle = () => setOpen((o) => !o);
  return (
    // Inside a <label>, a press anywhere on the tip (the "?" or its text) must not reach the checkbox.
    <span className="tip" onClick={(e) => e.preventDefault()}>
      <span
        role="button"
        tabIndex={0}
        className="tip-button"
        aria-label="?"
        aria-expanded={open}
        aria-controls={id}
        onClick={toggle}
        onKeyDown={(e) => {
          if (e.key !== 'Enter' && e.key !== ' ') return;
          e.preventDefault(); // Space would scroll the page
          toggle();
        }}
      >
        ?
      </span>
      {open && (
        <span id={id} role="note" className="tip-body">
          {children}
        </span>
      )}
    </span>
  );
}
