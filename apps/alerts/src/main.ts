import { main } from '@peakwatch/runtime';
import { ALERTS_APP } from './index';

main([ALERTS_APP]);
