/**
 * jest's node environment, with the typed-array constructors of the outer
 * realm: tfjs-node's addon creates its arrays there, and tfjs-core's
 * `instanceof Float32Array` checks (e.g. model.save's weight encoding) would
 * reject them inside jest's sandbox. Plain Node has one realm, so this only
 * removes a test-runner artefact.
 */
const {TestEnvironment} = require('jest-environment-node');

const SHARED = ['ArrayBuffer', 'Float32Array', 'Float64Array', 'Int32Array', 'Int16Array', 'Int8Array',
  'Uint32Array', 'Uint16Array', 'Uint8Array', 'Uint8ClampedArray'];

class SharedTypedArrayEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArrayEnvironment;
