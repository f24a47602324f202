import { allOf, CONTROL, controlCharsAllowed, TOKEN } from './chars.js';
import { canonicalName, headerKey, knownName } from './header-names.js';

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

/**
 * @internal A field as the parser read it: its exact text stays where it is in the message's header section
 * (`head`, from `start` to `end`) and is sliced only when asked for, so that a parsed field costs no string of
 * its own for `raw`, and the serializer writes a run of unchanged fields as one slice.
 */
export class ParsedField implements HeaderField {
  constructor(
    readonly name: string,
    readonly key: string,
    readonly value: string,
    readonly head: string,
    readonly start: number,
    readonly end: number,
  ) {}

  get raw(): string {
    return this.head.slice(this.start, this.end);
  }
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
  // a name as commonly written (`Content-Length`) has its key at hand
  const known = knownName(name, 0, name.length);
  if (known !== undefined && known.name.length > 1) return { name: known.name, key: known.key, value: value.trim(), raw: undefined };
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
   * views read again only the headers that changed: a proxy's new Via leaves From, To and CSeq as read. Pairs
   * of key and version in a list, not a map: a message changes two or three names at most.
   */
  private changes: Array<string | number> | undefined;

  constructor(fields: HeaderField[] = []) {
    this.list = fields;
  }

  /** @internal The `version` at which fields of this key (`headerKey()`) last changed; 0 when never (the message's views). */
  changedAt(key: string): number {
    const changes = this.changes;
    if (changes === undefined) return 0;
    for (let i = 0; i < changes.length; i += 2) if (changes[i] === key) return changes[i + 1] as number;
    return 0;
  }

  private changed(key: string): void {
    this.version++;
    const changes = (this.changes ??= []);
    for (let i = 0; i < changes.length; i += 2) {
      if (changes[i] === key) {
        changes[i + 1] = this.version;
        return;
      }
    }
    changes.push(key, this.version);
  }

  /** Where the first field of `key` is, or -1. */
  private indexOf(key: string): number {
    const list = this.list;
    for (let i = 0; i < list.length; i++) if (list[i]!.key === key) return i;
    return -1;
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
    return this.indexOf(headerKey(name)) >= 0;
  }

  /** The first field's value. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.list) if (f.key === key) return f.value;
    return undefined;
  }

  /**
   * @internal The value of the only field of that key (`headerKey()`), undefined when there is none, null
   * when there are several: a single-valued header's view without a list of values.
   */
  only(key: string): string | null | undefined {
    let found: string | undefined;
    for (const f of this.list) {
      if (f.key !== key) continue;
      if (found !== undefined) return null;
      found = f.value;
    }
    return found;
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
    const at = this.indexOf(f.key);
    this.list.splice(at < 0 ? 0 : at, 0, f);
    this.changed(f.key);
    return this;
  }

  /** Replaces the first field of that name in place and removes the others; appends when there is none. */
  set(name: string, value: string): this {
    const f = field(name, value);
    const at = this.indexOf(f.key);
    if (at < 0) this.list.push(f);
    else {
      this.list[at] = f;
      // a new list only when there are others of the name to drop (rarely: most set a single-valued header)
      for (let i = at + 1; i < this.list.length; i++) {
        if (this.list[i]!.key !== f.key) continue;
        this.list = this.list.filter((x, j) => j <= at || x.key !== f.key);
        break;
      }
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
    const at = this.indexOf(key);
    if (at < 0) return undefined;
    const f = this.list[at] as HeaderField;
    const parts = splitList(f.value);
    if (parts.length === 1) this.list.splice(at, 1);
    else this.list[at] = { name: f.name, key, value: parts.slice(1).join(', '), raw: undefined };
    this.changed(key);
    return parts[0];
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
