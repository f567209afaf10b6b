import type { AppDefinition } from '@peakwatch/runtime';
import { ApiModule } from './api.module';

export { ApiModule } from './api.module';
export const API_APP: AppDefinition = { name: 'api', module: ApiModule };
