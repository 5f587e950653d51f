// Marks the two builds' module systems for tools that read package.json.
import fs from 'node:fs';
fs.writeFileSync('dist/cjs/package.json', JSON.stringify({type: 'commonjs'}) + '\n');
fs.writeFileSync('dist/esm/package.json', JSON.stringify({type: 'module'}) + '\n');
