import { main } from '@peakwatch/runtime';
import { ANALYTICS_APP } from './index';

main([ANALYTICS_APP]);
