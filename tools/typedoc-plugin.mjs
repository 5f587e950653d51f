// TypeDoc plugin of `npm run docs` (typedoc.json "plugin"), so that the docs
// build from a clean clone:
//  - runs tools/build-wasm.mjs first (idempotent, quick when up to date): the
//    wasm entry imports kernels/wasm/generated/module_bytes.ts, which is built,
//    not committed, and TypeDoc type-checks the program;
//  - names destructured options parameters `options` in the output (TypeDoc
//    calls a parameter without a name `__namedParameters` unless its doc
//    comment has a `@param` for it, which then wins over this default).
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {Converter, ReflectionKind} from 'typedoc';

const BUILD_WASM = fileURLToPath(new URL('./build-wasm.mjs', import.meta.url));

/** @param {import('typedoc').Application} app */
export function load(app) {
  const r = spawnSync(process.execPath, [BUILD_WASM, '--quiet'], {stdio: 'inherit'});
  if (r.status !== 0) throw new Error(`node tools/build-wasm.mjs failed (exit ${r.status ?? r.signal})`);

  app.converter.on(Converter.EVENT_RESOLVE_END, context => {
    for (const reflection of Object.values(context.project.reflections)) {
      if (!reflection.kindOf(ReflectionKind.Parameter) || reflection.name !== '__namedParameters') continue;
      const siblings = reflection.parent?.parameters ?? [];
      reflection.name = ['options', 'args', 'config'].find(n => !siblings.some(p => p.name === n)) ?? 'options';
    }
  });
}
