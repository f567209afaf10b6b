import { Module } from '@nestjs/common';

/** Monthly and annual energy and CO2 reports for key emitters, with submission (issue 9). */
@Module({})
export class ReportsModule {}
