/**
 * Strings a connection keeps for its whole life (its path, its origin, its subprotocol) are cut out of the
 * request or response head they came in. V8 makes a cut of 13 characters or more a view into the text it was
 * cut from, so such a string keeps the whole head alive (hundreds of bytes, for an open WebSocket's lifetime).
 */

/** Shorter cuts are copies already (V8's minimum length for a view into another string). */
const MIN_VIEW = 13;

/**
 * `text` as a string of its own, not a view into a longer one: prepending a character makes V8 copy the
 * characters into a new string (flattening), and the slice after it is a view into that short copy only.
 *
 * @example detachedString(head.slice(at, end)) // keeps 20 characters, not the head
 */
export function detachedString(text: string): string {
  return text.length < MIN_VIEW ? text : (' ' + text).slice(1);
}
