// A labelled input with its error tied to it for screen readers.
interface Props {
  label: string;
  name: string;
  value: string;
  onInput: (v: string) => void;
  type?: string;
  error?: string;
  hint?: string;
  autoComplete?: string;
  autoFocus?: boolean;
  placeholder?: string;
  disabled?: boolean;
}

export function Field(p: Props) {
  const id = `f-${p.name}`;
  const described = [p.hint && `${id}-hint`, p.error && `${id}-err`].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? "text"}
        value={p.value}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
        aria-invalid={p.error ? true : undefined}
        aria-describedby={described}
        autoComplete={p.autoComplete}
        autoFocus={p.autoFocus}
        placeholder={p.placeholder}
        disabled={p.disabled}
        autoCapitalize="off"
        spellcheck={false}
      />
      {p.hint && <small id={`${id}-hint`} class="muted">{p.hint}</small>}
      {p.error && <small id={`${id}-err`} class="field-error">{p.error}</small>}
    </div>
  );
}
