// Marks the two builds' module systems for tools that read package.json. Each
// such package.json starts a new package scope, so it repeats what the root
// says of the files under it: the "imports" map ('#register-tfjs-gradients')
// and the "sideEffects" list (bundlers read the nearest package.json).
import fs from 'node:fs';
const {imports, sideEffects} = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const inDist = sideEffects.filter(p => p.startsWith('./dist/*/')).map(p => './' + p.slice('./dist/*/'.length));
for (const [dir, type] of [['dist/cjs', 'commonjs'], ['dist/esm', 'module']]) {
  fs.writeFileSync(`${dir}/package.json`, JSON.stringify({type, imports, sideEffects: inDist}, null, 2) + '\n');
}
