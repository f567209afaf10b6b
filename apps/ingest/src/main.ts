import { main } from '@peakwatch/runtime';
import { INGEST_APP } from './index';

main([INGEST_APP]);
