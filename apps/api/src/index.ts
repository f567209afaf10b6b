import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { PEAKWATCH_VERSION, type AppDefinition } from '@peakwatch/runtime';
import { ApiModule } from './api.module';

export { ApiModule } from './api.module';
export { API_ROLES, ApiKeysRepository, type ApiRole, type Principal } from './auth/api-keys.repository';
export { STREAM_KEY_CHECK_MS } from './stream/stream.controller';

/** The OpenAPI document at /docs-json and its UI at /docs. */
function openApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('PeakWatch API')
      .setDescription(
        'Registry, KPIs, API keys and live streams. Authenticate with `Authorization: Bearer <API key>`; each key ' +
          'has a role (admin, facility_manager, emitter, regulator) and a scope.',
      )
      .setVersion(PEAKWATCH_VERSION)
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

export const API_APP: AppDefinition = { name: 'api', module: ApiModule, configure: openApi };
