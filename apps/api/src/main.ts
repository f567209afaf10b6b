import { main } from '@peakwatch/runtime';
import { API_APP } from './index';

main([API_APP]);
