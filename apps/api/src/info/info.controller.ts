import { Controller, Get } from '@nestjs/common';
import { HealthRegistry, PEAKWATCH_VERSION } from '@peakwatch/runtime';

export interface ApiInfo {
  name: 'peakwatch';
  version: string;
  apps: readonly string[];
}

/** GET /api/v1: what this server is and which apps it runs. */
@Controller('api/v1')
export class InfoController {
  constructor(private readonly health: HealthRegistry) {}

  @Get()
  info(): ApiInfo {
    return { name: 'peakwatch', version: PEAKWATCH_VERSION, apps: this.health.appNames };
  }
}
