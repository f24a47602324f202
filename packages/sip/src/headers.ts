import { allOf, CONTROL, controlCharsAllowed, TOKEN } from './chars.js';
import { canonicalName, headerKey } from './header-names.js';

/**
 * One header field. `name` is as written (`v`, `VIA`, `Via`), `key` the full name lower-cased (`via`),
 * `value` the value with folds undone and the ends trimmed, `raw` the field's exact text in the message it was
 * parsed from (folds included, CRLF excluded): the serializer writes `raw` back when the field is unchanged,
 * so a relayed message keeps every byte of the headers nobody touched.
 */
export interface HeaderField {
  readonly name: string;
  readonly key: string;
  readonly value: string;
  readonly raw: string | undefined;
}

/** A new field, as `name: value` (the name a compact form's or a key's full name when given that way). */
export function field(name: string, value: string): HeaderField {
  if (name.length === 0 || !allOf(name, 0, name.length, TOKEN, false)) {
    throw new TypeError(`invalid SIP header name ${JSON.stringify(name)}`);
  }
  // CR and LF never (header injection); other control characters only as a quoted-pair, as the parser reads them
  if (CONTROL.test(value) && !controlCharsAllowed(value)) {
    throw new TypeError(`the value of ${name} has a control character (CR, LF, NUL …)`);
  }
  const key = headerKey(name);
  const written = name === key ? canonicalName(key) : name;
  return { name: written, key, value: value.trim(), raw: undefined };
}

/** The header fields of a message, in order; looked up by any spelling of a name, compact forms included. */
export class SipHeaders implements Iterable<HeaderField> {
  private list: HeaderField[];
  /** Bumped on every change. */
  version = 0;
  /**
   * The `version` at which each name last changed (absent: never since parsing), so that a message's typed
   * views read again only the headers that changed: a proxy's new Via leaves From, To and CSeq as read.
   */
  private changes: Map<string, number> | undefined;

  constructor(fields: HeaderField[] = []) {
    this.list = fields;
  }

  /** @internal The `version` at which fields of this key (`headerKey()`) last changed; 0 when never (the message's views). */
  changedAt(key: string): number {
    return this.changes === undefined ? 0 : (this.changes.get(key) ?? 0);
  }

  private changed(key: string): void {
    this.version++;
    (this.changes ??= new Map()).set(key, this.version);
  }

  get size(): number {
    return this.list.length;
  }

  [Symbol.iterator](): Iterator<HeaderField> {
    return this.list[Symbol.iterator]();
  }

  /** The fields, in order (a copy). */
  toArray(): HeaderField[] {
    return this.list.slice();
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.list.some((f) => f.key === key);
  }

  /** The first field's value. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.list) if (f.key === key) return f.value;
    return undefined;
  }

  /** Every field's value, in order (a list header's fields are not split: see `values()`). */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const f of this.list) if (f.key === key) out.push(f.value);
    return out;
  }

  /** The fields of that name, in order. */
  fields(name: string): HeaderField[] {
    const key = headerKey(name);
    return this.list.filter((f) => f.key === key);
  }

  /** The first field of that name. */
  first(name: string): HeaderField | undefined {
    const key = headerKey(name);
    for (const f of this.list) if (f.key === key) return f;
    return undefined;
  }

  /** @internal Appends the fields of that name, in order, to `out` (fields() without a list of its own). */
  collect(name: string, out: HeaderField[]): void {
    const key = headerKey(name);
    for (const f of this.list) if (f.key === key) out.push(f);
  }

  /** A list header's elements across all its fields (commas inside quotes and <> do not split). */
  values(name: string): string[] {
    return this.getAll(name).flatMap(splitList);
  }

  /** Appends a field. */
  add(name: string, value: string): this {
    const f = field(name, value);
    this.list.push(f);
    this.changed(f.key);
    return this;
  }

  /** Inserts a field before the first of its name (a proxy's Via, Record-Route), or first of all. */
  prepend(name: string, value: string): this {
    const f = field(name, value);
    const at = this.list.findIndex((x) => x.key === f.key);
    this.list.splice(at < 0 ? 0 : at, 0, f);
    this.changed(f.key);
    return this;
  }

  /** Replaces the first field of that name in place and removes the others; appends when there is none. */
  set(name: string, value: string): this {
    const f = field(name, value);
    const at = this.list.findIndex((x) => x.key === f.key);
    if (at < 0) this.list.push(f);
    else {
      this.list[at] = f;
      this.list = this.list.filter((x, i) => i <= at || x.key !== f.key);
    }
    this.changed(f.key);
    return this;
  }

  /** Removes every field of that name; returns how many there were. */
  remove(name: string): number {
    const key = headerKey(name);
    const before = this.list.length;
    this.list = this.list.filter((x) => x.key !== key);
    if (this.list.length !== before) this.changed(key);
    return before - this.list.length;
  }

  /**
   * Removes the first element of a list header (the top Via of a response a proxy relays) and returns it: the
   * field goes when it held one element, otherwise it is rewritten with the rest.
   */
  shiftValue(name: string): string | undefined {
    const key = headerKey(name);
    const at = this.list.findIndex((x) => x.key === key);
    if (at < 0) return undefined;
    const f = this.list[at] as HeaderField;
    const [first, ...rest] = splitList(f.value);
    if (rest.length === 0) this.list.splice(at, 1);
    else this.list[at] = { name: f.name, key, value: rest.join(', '), raw: undefined };
    this.changed(key);
    return first;
  }
}

/** Splits a header value at the commas that are outside quoted strings and angle brackets. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 92) i++;
      else if (c === 34) quoted = false;
    } else if (c === 34) quoted = true;
    else if (c === 60) angle = true;
    else if (c === 62) angle = false;
    else if (c === 44 && !angle) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out;
}
