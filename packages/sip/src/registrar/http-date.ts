/**
 * The `Date` header's text (RFC 3261 §20.17: RFC 1123 form, always GMT) of an instant, formatted once per second:
 * the registrar puts one in every 200, and `toUTCString()` costs as much as the rest of the header section.
 */
export class HttpDate {
  private second = NaN;
  private text = '';

  /** `Sun, 06 Nov 1994 08:49:37 GMT` for `ms` since the epoch. */
  at(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      this.text = new Date(second * 1000).toUTCString();
    }
    return this.text;
  }
}
