// Synthetic detection scenes like examples/demo/sample.png (tools/make-demo-image.mjs): coloured
// rectangles and ellipses on a textured grey background, with their boxes and class labels.
// Used by examples/train_detector.mjs; no downloads.

/** Class names by label (0 is the background). */
export const CLASS_NAMES = ['background', 'red', 'green', 'blue', 'yellow'];
const COLOURS = [[220, 40, 40], [40, 190, 60], [40, 80, 220], [230, 200, 40]];

/** A Park-Miller generator with the given seed: () => [0, 1). */
export function seededRandom(seed) {
  let s = seed % 2147483647 || 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

/**
 * One scene: HWC float32 pixels in [0, 1] (width x height), 2 to 6 shapes of
 * 30 to 100 pixels that do not touch, their boxes [x1, y1, x2, y2] and labels (1..4).
 */
export function makeScene(random, width = 320, height = 240) {
  const pixels = new Float32Array(width * height * 3);
  const [px, py] = [random() * 10, random() * 10];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const shade = (70 + 25 * Math.sin(x / 23 + px) * Math.cos(y / 31 + py) + 12 * random()) / 255;
      pixels.set([shade, shade * 0.95, shade * 0.9], (y * width + x) * 3);
    }
  }
  const boxes = [], labels = [];
  const wanted = 2 + Math.floor(random() * 5);
  for (let tries = 0; tries < 60 && boxes.length < wanted; tries++) {
    const w = Math.round(30 + random() * 70), h = Math.round(30 + random() * 70);
    const x0 = Math.floor(random() * (width - w)), y0 = Math.floor(random() * (height - h));
    if (boxes.some(([a, b, c, d]) => x0 < c + 4 && x0 + w + 4 > a && y0 < d + 4 && y0 + h + 4 > b)) continue;
    const label = 1 + Math.floor(random() * COLOURS.length), ellipse = random() < 0.5;
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) {
        const u = (x - x0) / w - 0.5, v = (y - y0) / h - 0.5;
        if (ellipse && u * u + v * v > 0.25) continue;
        const light = 0.85 + 0.15 * (0.5 - v) + 0.05 * random();
        pixels.set(COLOURS[label - 1].map(c => Math.min(255, c * light) / 255), (y * width + x) * 3);
      }
    }
    boxes.push([x0, y0, x0 + w, y0 + h]);
    labels.push(label);
  }
  return {pixels, width, height, boxes, labels};
}
