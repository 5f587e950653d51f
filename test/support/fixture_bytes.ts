/** Binary fixtures (test/fixtures/*.safetensors): read from disk in Node, served by karma in Chromium. */
export async function fixtureBytes(file: string): Promise<Uint8Array> {
  if (typeof window === 'undefined') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const fs = require('fs') as typeof import('fs');
    return new Uint8Array(fs.readFileSync(`${__dirname}/../fixtures/${file}`));
  }
  const response = await fetch(`/base/test/fixtures/${file}`);
  if (!response.ok) throw new Error(`fetching fixture ${file}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
