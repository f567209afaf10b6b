import { main } from '@peakwatch/runtime';
import { REPORTS_APP } from './index';

main([REPORTS_APP]);
