#!/usr/bin/env node
// Writes examples/demo/sample.png: a 320x240 scene of coloured shapes on a
// textured background, the demo's bundled sample (deterministic; no downloads).
import fs from 'node:fs';
import zlib from 'node:zlib';

const W = 320, H = 240;
const rgb = new Uint8Array(W * H * 3);
let seed = 7;
const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;

for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const shade = 70 + 25 * Math.sin(x / 23) * Math.cos(y / 31) + 12 * rand();
    rgb.set([shade, shade * 0.95, shade * 0.9], (y * W + x) * 3);
  }
}
const shapes = [
  {kind: 'rect', x: 20, y: 30, w: 60, h: 45, color: [220, 40, 40]},
  {kind: 'ellipse', x: 120, y: 20, w: 70, h: 70, color: [40, 190, 60]},
  {kind: 'rect', x: 225, y: 40, w: 70, h: 30, color: [40, 80, 220]},
  {kind: 'ellipse', x: 40, y: 140, w: 90, h: 60, color: [230, 200, 40]},
  {kind: 'rect', x: 160, y: 130, w: 40, h: 80, color: [220, 40, 40]},
  {kind: 'ellipse', x: 235, y: 150, w: 55, h: 55, color: [40, 80, 220]},
];
for (const s of shapes) {
  for (let y = s.y; y < s.y + s.h; y++) {
    for (let x = s.x; x < s.x + s.w; x++) {
      const u = (x - s.x) / s.w - 0.5, v = (y - s.y) / s.h - 0.5;
      if (s.kind === 'ellipse' && u * u + v * v > 0.25) continue;
      const light = 0.85 + 0.3 * (0.5 - v) * 0.5 + 0.05 * rand();
      rgb.set(s.color.map(c => Math.min(255, c * light)), (y * W + x) * 3);
    }
  }
}

const crcTable = Array.from({length: 256}, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = buf => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
};
const raw = Buffer.alloc(H * (1 + W * 3));
for (let y = 0; y < H; y++) Buffer.from(rgb.subarray(y * W * 3, (y + 1) * W * 3)).copy(raw, y * (1 + W * 3) + 1);
const header = Buffer.alloc(13);
header.writeUInt32BE(W, 0);
header.writeUInt32BE(H, 4);
header.set([8, 2, 0, 0, 0], 8);
const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header),
  chunk('IDAT', zlib.deflateSync(raw, {level: 9})), chunk('IEND', Buffer.alloc(0))]);
fs.writeFileSync('examples/demo/sample.png', png);
console.log(`examples/demo/sample.png: ${png.length} bytes`);
