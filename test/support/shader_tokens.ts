/**
 * GLSL (webgl) and WGSL (webgpu) source as one canonical, GLSL-like token stream
 * per function (test/shader_pairs.spec.ts). Comments and whitespace go, and:
 *  - f32 is float, i32 int, u32 uint, vec3<f32> vec3, vec2<i32> ivec2, vec4<u32> uvec4;
 *    bitcast<u32>(v) and floatBitsToUint(v) are bitcast<uint>(v) (and so on);
 *    uniforms.name is name (or renames[name]);
 *  - GLSL's mod(abs(a), b) is WGSL's abs(a) % b (a - b floor(a / b) and a - b trunc(a / b) agree for
 *    a >= 0; other mod() calls stay), in parentheses but where the context binds looser than %;
 *  - a function is `name ( a : T , ... ) -> R { body }`, a struct `name { a : T , ... }`;
 *  - declarations are `decl a = e ;` (let / var / const [: T], or typed: `float a = e, b;`
 *    is two); a WGSL parameter `yIn` copied into `var y` is a GLSL parameter y assigned to;
 *  - select(a, b, c) is `c ? b : a` (in parentheses inside a larger expression), and
 *    `decl x = b ; if ( c ) x = a ;` is `decl x = c ? a : b ;` (c, a without x): WGSL
 *    for a ternary whose other arm must not run;
 *  - blocks of one statement under if / else / for / while lose their braces; vec3(x, x, x)
 *    is vec3(x); GLSL's `a = b = e;` is `a = e; b = a;`;
 *  - WGSL main(index)'s `if (index >= size) { return; }`, getCoordsFromIndex(index) and
 *    setOutputAtIndex(index, v) are webgl's main(), getOutputCoords() and setOutput(v);
 *    webgl2's uintBitsToFloat(0x7f800000u) is webgpu's INFINITY.
 */
export type Functions = Map<string, string[]>;

/** A comment, or (captured) a token. */
const TOKEN = new RegExp(String.raw`//[^\n]*|/\*[\s\S]*?\*/|(bitcast<\w+>|0x[0-9a-fA-F]+u?|\d+\.?\d*(?:e[-+]?\d+)?u?|` +
    String.raw`[A-Za-z_]\w*|<<=|>>=|&&|\|\||[-+*/%&|^=!<>]=|\+\+|--|<<|>>|->|\S)`, 'g');
const SCALARS: Record<string, string> = {f32: 'float', i32: 'int', u32: 'uint', bool: 'bool'};
const VEC_PREFIX: Record<string, string> = {f32: '', i32: 'i', u32: 'u', bool: 'b'};
const BITCASTS: Record<string, string> = {floatBitsToUint: 'bitcast<uint>', floatBitsToInt: 'bitcast<int>',
  uintBitsToFloat: 'bitcast<float>', intBitsToFloat: 'bitcast<float>'};
const KEYWORDS = new Set(['return', 'else', 'if', 'for', 'while', 'break', 'continue', 'discard']);
const WGSL_MAIN = [['if (index >= size) { return; }', ''], ['getCoordsFromIndex(index)', 'getOutputCoords()'],
  ['setOutputAtIndex(index,', 'setOutput(']];

export const tokenize = (src: string) => [...src.matchAll(TOKEN)].flatMap(m => m[1] == null ? [] : [m[1]]);
const isIdent = (t: string | undefined) => t != null && /^[A-Za-z_]\w*$/.test(t);
const atStart = (prev: string | undefined) => [undefined, '{', '}', ';'].includes(prev);

/** Index of the bracket closing the one at `open`. */
function closing(t: string[], open: number): number {
  for (let i = open, depth = 0; i < t.length; i++) {
    if ('([{'.includes(t[i])) depth++;
    if (')]}'.includes(t[i]) && --depth === 0) return i;
  }
  throw new Error(`unbalanced '${t[open]}' at '${t.slice(open, open + 8).join(' ')}'`);
}

/** `t` split at the separators outside brackets. */
function splitTop(t: string[], sep = ','): string[][] {
  const parts: string[][] = [[]];
  for (let i = 0; i < t.length; i++) {
    const j = '([{'.includes(t[i]) ? closing(t, i) : i;
    if (t[i] === sep) parts.push([]); else parts[parts.length - 1].push(...t.slice(i, j + 1));
    i = j;
  }
  return parts;
}

/** Index of the `;` ending the statement that starts at i. */
const statementEnd = (t: string[], i: number) => i + splitTop(t.slice(i), ';')[0].length;

/** `t` with every run of tokens `from` replaced by `to` (tokens hold no spaces; two between them let runs touch). */
export const replaceAll = (t: string[], from: string[], to: string[]) => from.length === 0 ? t :
  ` ${t.join('  ')} `.split(` ${from.join('  ')} `).join(` ${to.join('  ')} `).split(' ').filter(x => x !== '');

function selects(t: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i] !== 'select' || t[i + 1] !== '(') { out.push(t[i]); continue; }
    const end = closing(t, i + 1);
    const [a, b, c] = splitTop(t.slice(i + 2, end)).map(selects);
    const expr = [...(c.includes('?') ? ['(', ...c, ')'] : c), '?', ...b, ':', ...a];
    const bare = [undefined, '(', ',', '=', ':', 'return'].includes(out[out.length - 1]) &&
        [undefined, ')', ',', ';'].includes(t[end + 1]);
    out.push(...(bare ? expr : ['(', ...expr, ')']));
    i = end;
  }
  return out;
}

/** Tokens after which `a % b` needs no parentheses (they bind looser than %, and are not unary). */
const LOOSER_THAN_MOD = new Set([undefined, '(', ',', '=', 'return', '?', ':', '==', '!=', '<', '>', '<=', '>=',
  '+', '&&', '||', '+=', '-=', '*=', '/=']);

/** GLSL mod(abs(a), b) as `abs(a) % b` (see the header: only a provably non-negative first argument). */
function mods(t: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const end = t[i] === 'mod' && t[i + 1] === '(' ? closing(t, i + 1) : -1;
    const args = end < 0 ? [] : splitTop(t.slice(i + 2, end));
    const [a, b] = args;
    if (args.length !== 2 || a[0] !== 'abs' || a[1] !== '(' || closing(a, 1) !== a.length - 1) {
      out.push(t[i]);
      continue;
    }
    const expr = [...mods(a), '%', ...(b.length === 1 ? b : ['(', ...mods(b), ')'])];
    const bare = LOOSER_THAN_MOD.has(out[out.length - 1]) && !['.', '['].includes(t[end + 1]);
    out.push(...(bare ? expr : ['(', ...expr, ')']));
    i = end;
  }
  return out;
}

/** The statement rewrites of both languages, to a fixed point. */
function statements(body: string[]): string[] {
  let t = selects(body);
  const rewrite = (i: number): string[] | null => {
    if (t[i] === '{' && (t[i - 1] === ')' || t[i - 1] === 'else')) {  // if (c) { s; } -> if (c) s;
      const end = closing(t, i), inner = t.slice(i + 1, end);
      const one = !inner.includes('{') && statementEnd(inner, 0) === inner.length - 1;
      if (!one || inner[0] === 'if' && t[end + 1] === 'else') return null;
      return [...t.slice(0, i), ...inner, ...t.slice(end + 1)];
    }
    if (/^[iub]?vec[234]$/.test(t[i]) && t[i + 1] === '(') {  // vec2(x, x) -> vec2(x)
      const end = closing(t, i + 1), args = splitTop(t.slice(i + 2, end));
      const same = args.length === Number(t[i].slice(-1)) && args.every(a => a.join(' ') === args[0].join(' '));
      return same ? [...t.slice(0, i + 2), ...args[0], ...t.slice(end)] : null;
    }
    if (!atStart(t[i - 1])) return null;
    if (isIdent(t[i]) && t[i + 1] === '=' && isIdent(t[i + 2]) && t[i + 3] === '=') {  // a = b = e; -> a = e; b = a;
      const end = statementEnd(t, i);
      return [...t.slice(0, i), t[i], '=', ...t.slice(i + 4, end), ';', t[i + 2], '=', t[i], ...t.slice(end)];
    }
    if (t[i] === 'decl' && t[i + 2] === '=') {  // decl x = b; if (c) x = a; -> decl x = c ? a : b;
      const x = t[i + 1], semi = statementEnd(t, i);
      if (t[semi + 1] !== 'if') return null;
      const close = closing(t, semi + 2), end = statementEnd(t, close + 1);
      const [c, a] = [t.slice(semi + 3, close), t.slice(close + 3, end)];
      if (t[close + 1] !== x || t[close + 2] !== '=' || t[end + 1] === 'else') return null;
      if (c.includes(x) || a.includes(x)) return null;
      return [...t.slice(0, i + 3), ...c, '?', ...a, ':', ...t.slice(i + 3, semi), ...t.slice(end)];
    }
    return null;
  };
  for (let i = 0; i < t.length; i++) {
    const next = rewrite(i);
    if (next != null) [t, i] = [next, -1];
  }
  return t;
}

/** GLSL `[const] T a = e, b;` and WGSL `let|var|const a [: T] = e;` as `decl a = e ;` */
function declarations(t: string[], wgsl: boolean): string[] {
  const out: string[] = [];
  for (let i = 0, depth = 0, declDepth = -1; i < t.length; i++) {
    const start = atStart(out[out.length - 1]) || out[out.length - 1] === '(' && out[out.length - 2] === 'for';
    if (wgsl && ['let', 'var', 'const'].includes(t[i])) {
      out.push('decl', t[++i]);
      if (t[i + 1] === ':') while (t[i + 1] !== '=' && t[i + 1] !== ';') i++;
    } else if (!wgsl && start && t[i] === 'const') {
      continue;
    } else if (!wgsl && start && isIdent(t[i]) && !KEYWORDS.has(t[i]) && isIdent(t[i + 1]) &&
        '=;,'.includes(t[i + 2])) {
      out.push('decl');
      declDepth = depth;
    } else {
      depth += Number('([{'.includes(t[i])) - Number(')]}'.includes(t[i]));
      if (t[i] === ';' && depth === declDepth) declDepth = -1;
      out.push(...(t[i] === ',' && depth === declDepth ? [';', 'decl'] : [t[i]]));
    }
  }
  return out;
}

function parse(t: string[], wgsl: boolean): Functions {
  const fns: Functions = new Map();
  for (let i = 0; i < t.length;) {
    const name = t[i + 1];
    if (t[i] === 'struct') {  // GLSL struct N { T a; ... }; WGSL struct N { a : T, ... };
      const end = closing(t, i + 2);
      const fields = splitTop(t.slice(i + 3, end), wgsl ? ',' : ';').filter(f => f.length > 0);
      fns.set(name, [name, '{', ...fields.flatMap(f => wgsl ? [...f, ','] : [f[1], ':', f[0], ',']), '}']);
      i = end + (t[end + 1] === ';' ? 2 : 1);
      continue;
    }
    if (!isIdent(t[i]) || !isIdent(name) || t[i + 2] !== '(' || wgsl !== (t[i] === 'fn')) {
      throw new Error(`${wgsl ? 'WGSL' : 'GLSL'}: not a function or struct at '${t.slice(i, i + 8).join(' ')}'`);
    }
    const close = closing(t, i + 2), open = t.indexOf('{', close), end = closing(t, open);
    let params = splitTop(t.slice(i + 3, close)).filter(p => p.length > 0);  // `a : T` or `[in|const] T a`
    if (!wgsl) {
      params = params.map(p => p.filter(q => q !== 'in' && q !== 'const'))
          .map(p => [p[p.length - 1], ':', ...p.slice(0, -1)]);
    }
    const ret = wgsl ? t.slice(close + 2, open) : [t[i]];
    let body = declarations(t.slice(open + 1, end), wgsl);
    for (const p of wgsl ? params : []) {  // fn f(yIn : f32) { var y = g(yIn); } -> f(y : float) { y = g(y); }
      const y = /^(\w+)In$/.exec(p[0])?.[1];
      if (y != null) [body, p[0]] = [replaceAll(replaceAll(body, [p[0]], [y]), ['decl', y, '='], [y, '=']), y];
    }
    if (wgsl && name === 'main') {
      params = [];
      for (const [from, to] of WGSL_MAIN) body = replaceAll(body, tokenize(from), tokenize(to));
    }
    fns.set(name, [name, '(', ...params.flatMap((p, k) => k > 0 ? [',', ...p] : p), ')',
      ...(ret.length > 0 && ret[0] !== 'void' ? ['->', ...ret] : []), '{', ...statements(body), '}']);
    i = end + 1;
  }
  return fns;
}

/** GLSL functions and structs by name. */
export function glslFunctions(src: string): Functions {
  const t = tokenize(src.replace(/\buintBitsToFloat\(0x7f800000u\)/g, 'INFINITY'));
  return parse(mods(t.map(tok => BITCASTS[tok] ?? tok)), false);
}

/** WGSL functions and structs by name, `renames` mapping WGSL identifiers to their GLSL names. */
export function wgslFunctions(src: string, renames: Record<string, string> = {}): Functions {
  const glslLike = src.replace(/\buniforms\./g, '').replace(/\bbitcast<(\w+)>/g, (_, s) => `bitcast<${SCALARS[s]}>`)
      .replace(/\bvec([234])<(\w+)>/g, (_, n, s) => `${VEC_PREFIX[s]}vec${n}`);
  return parse(tokenize(glslLike).map(tok => SCALARS[tok] ?? renames[tok] ?? tok), true);
}

/** null, or where two token streams first differ, with some context. */
export function firstDifference(a: string[], b: string[]): string | null {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return null;
  const show = (t: string[]) => `${t.slice(Math.max(0, i - 8), i).join(' ')} [[ ${t.slice(i, i + 8).join(' ')} ]]`;
  return `token ${i}: glsl: ${show(a)}  wgsl: ${show(b)}`;
}
