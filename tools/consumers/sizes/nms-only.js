// Size probe: an app that uses only nms.
import {nms} from 'tfjs-vision-ops';
export {nms};
