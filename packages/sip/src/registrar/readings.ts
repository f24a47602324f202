/**
 * The last parse of each key's stored text, reused while the store holds the same text: a phone refreshing its
 * registration, or a request routed to an AOR nobody re-registered, costs no JSON.parse. Another gateway's write
 * is other text and is parsed again. The store stays the truth; this only saves reading the same text twice.
 * Bounded: past `max` keys the oldest is forgotten. A parse is shared by every later reader: `parse` freezes it.
 */
export class Readings<T> {
  private readonly byKey = new Map<string, { readonly text: string; readonly value: T }>();

  constructor(
    private readonly max: number,
    private readonly parse: (text: string) => T,
  ) {}

  /** The parse of `text`, the stored value of `key`. */
  read(key: string, text: string): T {
    const last = this.byKey.get(key);
    if (last !== undefined && last.text === text) return last.value;
    const value = this.parse(text);
    this.keep(key, text, value);
    return value;
  }

  /** `key` now holds `text`, whose parse (frozen) is `value`: what this process just wrote. */
  keep(key: string, text: string, value: T): void {
    this.byKey.delete(key);
    if (this.byKey.size >= this.max) this.byKey.delete(this.byKey.keys().next().value!);
    this.byKey.set(key, { text, value });
  }

  /** `key` holds nothing now. */
  forget(key: string): void {
    this.byKey.delete(key);
  }

  clear(): void {
    this.byKey.clear();
  }
}
