/**
 * A strict JSON reader (RFC 8259) for untrusted text: objects become Maps (so
 * duplicate keys are seen and no key is special), numbers keep their literal
 * text, and nesting is bounded.
 */

/** A name for messages: escaped, and cut when long. */
export function quote(name: string): string {
  const escaped = JSON.stringify(name).slice(1, -1);
  return `'${escaped.length > 120 ? `${escaped.slice(0, 120)}...` : escaped}'`;
}

/** A JSON number: its literal and its value. */
export class JsonNumber {
  constructor(readonly text: string, readonly value: number) {}
}
export type Json = null|boolean|string|JsonNumber|Json[]|Map<string, Json>;

/** A value as a message names it ('the number 1e999', 'an array of 3', ...). */
export function describeJson(v: Json): string {
  if (v === null) return 'null';
  if (v instanceof JsonNumber) return `the number ${v.text.length > 40 ? `${v.text.slice(0, 40)}...` : v.text}`;
  if (typeof v === 'string') return `the string ${quote(v).replace(/^'|'$/g, '"')}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return 'an object';
}

class JsonReader {
  private at = 0;
  constructor(private readonly text: string, private readonly maxDepth: number,
      private readonly fail: (problem: string) => never) {}

  parse(): Json {
    const value = this.value(0);
    this.space();
    if (this.at < this.text.length) this.error('unexpected text after the top-level value');
    return value;
  }

  private error(what: string): never {
    this.fail(`is not JSON (${what} at character ${this.at})`);
  }

  private space() {
    const t = this.text;
    while (this.at < t.length) {
      const c = t.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.at++;
    }
  }

  private value(depth: number): Json {
    this.space();
    if (this.at >= this.text.length) this.error('unexpected end');
    const c = this.text[this.at];
    if (c === '{' || c === '[') {
      if (depth >= this.maxDepth) this.fail(`nests deeper than ${this.maxDepth} levels`);
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return v;
      }
    }
    this.error(`unexpected ${JSON.stringify(c)}`);
  }

  private object(depth: number): Map<string, Json> {
    const out = new Map<string, Json>();
    this.at++;  // {
    this.space();
    if (this.text[this.at] === '}') {
      this.at++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') this.error('expected a string key');
      const key = this.string();
      this.space();
      if (this.text[this.at] !== ':') this.error('expected \':\'');
      this.at++;
      const value = this.value(depth);
      if (out.has(key)) this.fail(`has the key ${quote(key)} twice${depth > 1 ? ' in one object' : ''}`);
      out.set(key, value);
      this.space();
      const next = this.text[this.at++];
      if (next === '}') return out;
      if (next !== ',') {
        this.at--;
        this.error('expected \',\' or \'}\'');
      }
    }
  }

  private array(depth: number): Json[] {
    const out: Json[] = [];
    this.at++;  // [
    this.space();
    if (this.text[this.at] === ']') {
      this.at++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.space();
      const next = this.text[this.at++];
      if (next === ']') return out;
      if (next !== ',') {
        this.at--;
        this.error('expected \',\' or \']\'');
      }
    }
  }

  private string(): string {
    const t = this.text;
    this.at++;  // "
    let out = '';
    let start = this.at;
    for (;;) {
      if (this.at >= t.length) this.error('unterminated string');
      const c = t.charCodeAt(this.at);
      if (c === 0x22) {
        out += t.slice(start, this.at++);
        return out;
      }
      if (c < 0x20) this.error('control character in a string');
      if (c !== 0x5c) {
        this.at++;
        continue;
      }
      out += t.slice(start, this.at);
      const e = t[this.at + 1];
      const simple: Record<string, string> = {'"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t'};
      if (e === 'u') {
        const hex = t.slice(this.at + 2, this.at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.error('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.at += 6;
      } else if (e !== undefined && Object.prototype.hasOwnProperty.call(simple, e)) {
        out += simple[e];
        this.at += 2;
      } else {
        this.error('bad escape');
      }
      start = this.at;
    }
  }

  private number(): JsonNumber {
    const match = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    match.lastIndex = this.at;
    const m = match.exec(this.text);
    if (m == null) this.error('bad number');
    this.at += m[0].length;
    return new JsonNumber(m[0], Number(m[0]));
  }
}

/**
 * Parses `text`; a fault calls `fail` with the problem as a predicate of the
 * text ('is not JSON (...)', 'nests deeper than ...', 'has the key ... twice').
 */
export function parseStrictJson(text: string, maxDepth: number, fail: (problem: string) => never): Json {
  return new JsonReader(text, maxDepth, fail).parse();
}
