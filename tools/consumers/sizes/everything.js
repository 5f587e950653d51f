// Size probe: the whole main entry and every layer.
import * as all from 'tfjs-vision-ops';
import * as layers from 'tfjs-vision-ops/layers';
export {all, layers};
