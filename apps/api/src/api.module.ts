import { Module } from '@nestjs/common';
import { InfoController } from './info/info.controller';

/** REST API with roles and a live stream (issue 7). */
@Module({
  controllers: [InfoController],
})
export class ApiModule {}
