/** Small shared pieces: a modal dialog, field rows with their error text, status lines. */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { ApiError } from '../api.js';

/** A native modal <dialog>: focus stays inside, Escape closes it, focus returns to the opener. */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (d && !d.open) d.showModal();
    return () => opener?.focus?.();
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      class={props.wide ? 'wide' : undefined}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <div class="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      {props.children}
    </dialog>
  );
}

/**
 * The API's error_message, shown next to what caused it; announced to screen readers.
 * `fields`: the fields the form shows its messages under; only the others are repeated here.
 */
export function ErrorText(props: { error: unknown; id?: string; fields?: string[] }) {
  if (!props.error) return null;
  let text = props.error instanceof Error ? props.error.message : String(props.error);
  if (props.fields && props.error instanceof ApiError && props.error.fields) {
    const entries = Object.entries(props.error.fields);
    const elsewhere = entries.filter(([k]) => !props.fields!.includes(k));
    const marked = entries.filter(([k]) => props.fields!.includes(k)).map(([k]) => k);
    text = [
      marked.length ? `Correct the marked field${marked.length > 1 ? 's' : ''} (${marked.join(', ')}).` : '',
      ...elsewhere.map(([k, v]) => `${k}: ${v.join(' ')}`),
    ]
      .filter(Boolean)
      .join(' ');
  }
  return (
    <p class="error" role="alert" id={props.id}>
      {text}
    </p>
  );
}

export function errorOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The per-field messages of a 400 answer, by field name. */
export function fieldErrors(e: unknown): Record<string, string[]> {
  return e instanceof ApiError && e.fields ? e.fields : {};
}

/** A labelled control with its error text (aria-describedby) under it. */
export function Field(props: {
  label: string;
  errors?: string[] | undefined;
  hint?: string;
  children: (p: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => JSX.Element;
}) {
  const id = useId();
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const described = [props.hint ? hintId : null, props.errors?.length ? errId : null].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children({
        id,
        ...(described ? { 'aria-describedby': described } : {}),
        ...(props.errors?.length ? { 'aria-invalid': true } : {}),
      })}
      {props.hint && (
        <small id={hintId} class="hint">
          {props.hint}
        </small>
      )}
      {props.errors?.length ? (
        <small id={errId} class="error">
          {props.errors.join(' ')}
        </small>
      ) : null}
    </div>
  );
}

/** A "what is happening" line: loading and empty states are never blank. */
export function Status(props: { children: ComponentChildren; busy?: boolean }) {
  return (
    <p class="status" role="status" aria-busy={props.busy ? 'true' : undefined}>
      {props.children}
    </p>
  );
}

/** A <time> in the browser's zone with UTC as the hover text. */
export function Time(props: { value: string | number; text: string; utc: string }) {
  return (
    <time dateTime={new Date(props.value).toISOString()} title={props.utc}>
      {props.text}
    </time>
  );
}
