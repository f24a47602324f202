/**
 * The node selector of an XCAP URI, RFC 4825 §6.3: the part after `/~~/`, a small subset of XPath.
 *
 *   node-selector     = element-selector ["/" terminal-selector]
 *   element-selector  = step *( "/" step )
 *   step              = NameorAny [ "[" position "]" ] [ "[" "@" att-name "=" AttValue "]" ]
 *   terminal-selector = "@" att-name / "namespace::*"
 *
 * A pure parser (docs/design.md convention 1): every refusal says at which offset and what was expected.
 * A step is any text but "/" (§6.3: `extension-selector = 1*( %x00-2e / %x30-ff )`), so a non-empty step that is
 * none of the forms above is an extension selector this server does not understand: §8 "MUST reject the request
 * with a 404 (Not Found)". Only what no step can be (an empty step) and an unbound prefix (§8) are a 400.
 */
import { XcapError } from '../xcap-error.js';
import { decodeAttValue, NCNAME_AT } from './xml-names.js';

/** A qualified name in a node selector, its prefix resolved through the query's bindings (§6.4). */
export interface QName {
  /** As written in the selector. */
  readonly text: string;
  readonly prefix: string | null;
  readonly localName: string;
  /**
   * The namespace bound to `prefix`. Null when unprefixed: an element name is then in the application usage's
   * default namespace (given when the selector is evaluated), an attribute name in no namespace.
   */
  readonly namespace: string | null;
}

/** One location step: a name test, then an optional position, then an optional attribute test. */
export interface Step {
  /** As written, for the URI of an ancestor (409 no-parent). */
  readonly text: string;
  readonly name: QName | '*';
  /** 1-based position among the siblings that pass the name test. */
  readonly position?: number;
  readonly attribute?: { readonly name: QName; readonly value: string };
}

export type Terminal = { readonly kind: 'attribute'; readonly name: QName } | { readonly kind: 'namespace' };

export interface NodeSelector {
  readonly steps: readonly Step[];
  readonly terminal?: Terminal;
  /** The selector as given. */
  readonly text: string;
}

/**
 * Parses a node selector.
 * @param text the percent-decoded node selector, the part of the request URI after `/~~/`
 * @param bindings the prefixes bound by the request's query ({@link parseNamespaceBindings})
 * @throws XcapError 404 for a step that is none of §6.3's forms (an extension selector, §8), naming the offset and
 *   what was expected; 400 for an empty step or a prefix the query does not bind
 */
export function parseNodeSelector(text: string, bindings: ReadonlyMap<string, string>): NodeSelector {
  return new SelectorParser(text, bindings).parse();
}

class SelectorParser {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly bindings: ReadonlyMap<string, string>,
  ) {}

  parse(): NodeSelector {
    const steps: Step[] = [];
    let terminal: Terminal | undefined;
    // Each turn consumes one step (at least one character) or fails.
    for (;;) {
      const start = this.at;
      try {
        if (this.text[this.at] === '@' && steps.length > 0) {
          this.at++;
          terminal = { kind: 'attribute', name: this.qname('attribute') };
          this.expectEnd('an attribute selector ends the node selector');
          break;
        }
        if (this.text.startsWith('namespace::*', this.at) && steps.length > 0) {
          this.at += 'namespace::*'.length;
          terminal = { kind: 'namespace' };
          this.expectEnd('namespace::* ends the node selector');
          break;
        }
        steps.push(this.step(start));
        if (this.at === this.text.length) break;
        if (this.text[this.at] !== '/') throw this.fail('expected "/" or the end of the node selector');
        this.at++;
      } catch (error) {
        throw this.extension(start, error);
      }
    }
    return { steps, ...(terminal ? { terminal } : {}), text: this.text };
  }

  private step(start: number): Step {
    let name: QName | '*';
    if (this.text[this.at] === '*') {
      this.at++;
      name = '*';
    } else {
      name = this.qname('element');
    }
    let position: number | undefined;
    let attribute: Step['attribute'];
    if (this.text.startsWith('[', this.at) && /[0-9]/.test(this.text[this.at + 1] ?? '')) {
      this.at++;
      const digits = /[0-9]+/y;
      digits.lastIndex = this.at;
      const found = digits.exec(this.text)?.[0] ?? '';
      position = Number(found);
      if (!Number.isSafeInteger(position)) throw this.fail(`position ${found} is too large`);
      this.at += found.length;
      this.expect(']', 'expected "]" after the position');
      if (this.text.startsWith('[', this.at) && /[0-9]/.test(this.text[this.at + 1] ?? '')) {
        throw this.fail('a step has at most one position');
      }
    }
    if (this.text[this.at] === '[') {
      this.at++;
      this.expect('@', 'expected a position or "@" starting an attribute test');
      const attName = this.qname('attribute');
      this.expect('=', 'expected "=" after the attribute name');
      attribute = { name: attName, value: this.attValue() };
      this.expect(']', 'expected "]" after the attribute value');
    }
    if (this.text[this.at] === '[') {
      throw this.fail('nothing may follow the attribute test in a step');
    }
    return {
      text: this.text.slice(start, this.at),
      name,
      ...(position !== undefined ? { position } : {}),
      ...(attribute ? { attribute } : {}),
    };
  }

  private qname(kind: 'element' | 'attribute'): QName {
    const start = this.at;
    const first = this.ncname(`expected an ${kind} name${kind === 'element' ? ' or "*"' : ''}`);
    let prefix: string | null = null;
    let localName = first;
    if (this.text[this.at] === ':') {
      this.at++;
      prefix = first;
      localName = this.ncname(`expected a local name after "${first}:"`);
    }
    let namespace: string | null = null;
    if (prefix !== null) {
      const bound = this.bindings.get(prefix);
      if (bound === undefined) {
        throw new XcapError(400, `bad node selector: prefix "${prefix}" at offset ${start} is not bound; add xmlns(${prefix}=<namespace>) to the query`);
      }
      namespace = bound;
    }
    return { text: this.text.slice(start, this.at), prefix, localName, namespace };
  }

  private ncname(expected: string): string {
    NCNAME_AT.lastIndex = this.at;
    const found = NCNAME_AT.exec(this.text)?.[0];
    if (found === undefined) throw this.fail(expected);
    this.at += found.length;
    return found;
  }

  private attValue(): string {
    const quote = this.text[this.at];
    if (quote !== '"' && quote !== "'") throw this.fail('expected a quoted attribute value');
    const end = this.text.indexOf(quote, this.at + 1);
    if (end < 0) throw this.fail(`expected the closing ${quote} of the attribute value`);
    const decoded = decodeAttValue(this.text.slice(this.at + 1, end));
    if ('error' in decoded) {
      this.at += 1 + decoded.at;
      throw this.fail(`bad attribute value: ${decoded.error}`);
    }
    this.at = end + 1;
    return decoded.value;
  }

  /**
   * A step that failed to parse: if it is not empty it is an extension selector (RFC 4825 §6.3), which this
   * server does not understand: 404 (§8). An unbound prefix stays a 400 (§8).
   */
  private extension(start: number, error: unknown): unknown {
    if (!(error instanceof SyntaxFailure)) return error;
    const end = this.text.indexOf('/', start);
    const segment = this.text.slice(start, end < 0 ? this.text.length : end);
    if (segment === '') return new XcapError(400, error.message);
    return new XcapError(404, `${error.message}; "${segment}" is an extension selector this server does not understand (RFC 4825 §8)`);
  }

  private expect(token: string, expected: string): void {
    if (!this.text.startsWith(token, this.at)) throw this.fail(expected);
    this.at += token.length;
  }

  private expectEnd(why: string): void {
    if (this.at !== this.text.length) throw this.fail(`expected the end: ${why}`);
  }

  private fail(expected: string): SyntaxFailure {
    const near = this.text.slice(this.at, this.at + 20);
    const where = this.at >= this.text.length ? 'at the end' : `at offset ${this.at} ("${near}")`;
    return new SyntaxFailure(`bad node selector ${where}: ${expected}`);
  }
}

/** Text that is none of §6.3's step forms; {@link SelectorParser.extension} decides between 400 and 404. */
class SyntaxFailure extends Error {}
